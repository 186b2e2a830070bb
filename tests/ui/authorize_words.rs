#![allow(dead_code)]
use fsa::prelude::*;

#[get("/lower", authorize = "open")]
fn lower() -> &'static str {
    ""
}

#[get("/deprecated", authorize = ["ANY"])]
fn deprecated() -> &'static str {
    ""
}

#[get("/stuff/<id>", authorize = ("stuff"))]
fn parenthesized(id: i64) -> String {
    id.to_string()
}

fn main() {}
