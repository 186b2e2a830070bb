#![allow(dead_code)]
use fsa::prelude::*;

#[route("/slip", method = ["GET", "GTE"], authorize = "OPEN")]
fn slip() -> &'static str {
    ""
}

#[get("/both", method = "POST", authorize = "OPEN")]
fn both() -> &'static str {
    ""
}

#[route("/twice", method = ["GET", "get"], authorize = "OPEN")]
fn twice() -> &'static str {
    ""
}

fn main() {}
