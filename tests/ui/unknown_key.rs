#![allow(dead_code)]
use fsa::prelude::*;

#[get("/hello", authorize = "OPEN", authorise = "AUTH")]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
