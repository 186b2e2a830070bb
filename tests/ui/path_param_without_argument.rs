#![allow(dead_code)]
use fsa::prelude::*;

#[get("/stuff/<id>", authorize = "OPEN")]
fn stuff(sid: i64) -> String {
    sid.to_string()
}

fn main() {}
