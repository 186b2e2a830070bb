#![allow(dead_code)]
use fsa::prelude::*;

#[get("/page", authorize = "OPEN")]
fn page(#[default("10")] n: i64) -> String {
    n.to_string()
}

fn main() {}
