#![allow(dead_code)]
use fsa::prelude::*;

#[patch("/stuff/<id>", authorize = ("stuff", "sid", "update"))]
fn stuff(id: i64) -> String {
    id.to_string()
}

fn main() {}
