#![allow(dead_code)]
use fsa::prelude::*;

#[get("/users/<user>", authorize = "AUTH")]
fn special(user: CurrentUser) -> String {
    user.to_string()
}

#[get("/items/<id>", authorize = "OPEN")]
fn optional(id: Option<i64>) -> String {
    format!("{id:?}")
}

#[get("/items/<ids>", authorize = "OPEN")]
fn list(ids: Vec<i64>) -> String {
    format!("{ids:?}")
}

#[get("/items/<item_id>", authorize = "OPEN")]
fn renamed(#[rename("id")] item_id: i64) -> String {
    item_id.to_string()
}

fn main() {}
