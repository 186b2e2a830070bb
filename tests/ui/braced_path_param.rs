#![allow(dead_code)]
use fsa::prelude::*;

#[get("/items/{id}", authorize = "OPEN")]
fn item(id: i64) -> String {
    id.to_string()
}

fn main() {}
