#![allow(dead_code)]
use fsa::prelude::*;

#[get("/stuff/<id>", authorize = "OPEN")]
fn stuff(#[default(1)] id: i64) -> String {
    id.to_string()
}

fn main() {}
