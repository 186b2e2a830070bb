#![allow(dead_code)]
use fsa::prelude::*;

#[get("/stuff/<id>", authorize = ("stuff", "id", "read", "extra"))]
fn stuff(id: i64) -> String {
    id.to_string()
}

fn main() {}
