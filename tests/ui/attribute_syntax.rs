#![allow(dead_code)]
use fsa::prelude::*;

#[get("/positional", "OPEN")]
fn positional() -> &'static str {
    ""
}

#[get(path = "/keyed", authorize = "OPEN")]
fn keyed() -> &'static str {
    ""
}

#[get("/no-scheme", authorize = "AUTH", auth = [])]
fn no_scheme() -> &'static str {
    ""
}

#[route("/no-method", method = [], authorize = "OPEN")]
fn no_method() -> &'static str {
    ""
}

fn main() {}
