#![allow(dead_code)]
use fsa::prelude::*;

#[get("/admin", authorize = ["OPEN", "admin"])]
fn admin() -> &'static str {
    "admin"
}

fn main() {}
