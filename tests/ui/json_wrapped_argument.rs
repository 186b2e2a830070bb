#![allow(dead_code)]
use fsa::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[post("/items", authorize = "OPEN")]
fn add_item(item: Json<NewItem>) -> String {
    let _ = item;
    "added".to_owned()
}

fn main() {}
