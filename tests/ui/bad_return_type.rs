#![allow(dead_code)]
use fsa::prelude::*;

struct Opaque;

#[get("/hello", authorize = "OPEN")]
fn hello() -> Opaque {
    Opaque
}

fn main() {}
