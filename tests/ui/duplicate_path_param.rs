#![allow(dead_code)]
use fsa::prelude::*;

#[get("/a/<id>/b/<id>", authorize = "OPEN")]
fn ab(id: i64) -> String {
    id.to_string()
}

fn main() {}
