#![allow(dead_code)]
use fsa::prelude::*;

#[get("/items/:id", authorize = "OPEN")]
fn colon(id: i64) -> String {
    id.to_string()
}

#[get("/items?sort=asc", authorize = "OPEN")]
fn query(sort: String) -> String {
    sort
}

#[get("/a//b", authorize = "OPEN")]
fn empty_segment() -> &'static str {
    "b"
}

#[get("/items/<id:int>", authorize = "OPEN")]
fn converter_last(id: i64) -> String {
    id.to_string()
}

#[get("/items/<int:id>", authorize = "OPEN")]
fn converter_and_type(id: String) -> String {
    id
}

fn main() {}
