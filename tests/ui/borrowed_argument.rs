#![allow(dead_code)]
use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
fn hello(name: &str) -> String {
    name.to_owned()
}

fn main() {}
