#![allow(dead_code)]
use fsa::prelude::*;

#[get("/hello")]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
