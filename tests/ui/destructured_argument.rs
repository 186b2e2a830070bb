#![allow(dead_code)]
use fsa::prelude::*;

struct Db;

#[get("/count", authorize = "OPEN")]
fn count(State(db): fsa::State<std::sync::Arc<Db>>) -> String {
    let _ = db;
    "0".to_owned()
}

#[get("/pair", authorize = "OPEN")]
fn pair((a, b): (i64, i64)) -> String {
    format!("{a} {b}")
}

fn main() {}
