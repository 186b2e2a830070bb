#![allow(dead_code)]
use fsa::prelude::*;

#[get("/files/<p..>/edit", authorize = "OPEN")]
fn files(p: String) -> String {
    p
}

fn main() {}
