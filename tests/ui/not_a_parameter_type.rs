#![allow(dead_code)]
use fsa::prelude::*;

struct Opaque;

#[get("/hello", authorize = "OPEN")]
fn hello(thing: Opaque) -> &'static str {
    let _ = thing;
    "hello"
}

fn main() {}
