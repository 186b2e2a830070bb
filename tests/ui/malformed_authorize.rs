#![allow(dead_code)]
use fsa::prelude::*;

#[get("/hello", authorize = OPEN)]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
