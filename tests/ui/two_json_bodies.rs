#![allow(dead_code)]
use fsa::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[post("/items", authorize = "OPEN")]
fn add_item(item: JsonBody<NewItem>, copy: Option<fsa::JsonBody<NewItem>>) -> String {
    let _ = (item, copy);
    "added".to_owned()
}

fn main() {}
