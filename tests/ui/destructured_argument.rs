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

#[derive(serde::Deserialize)]
struct Item {
    name: String,
}

struct Json<T>(T);

#[post("/items", authorize = "OPEN")]
fn create(Json(item): Json<Item>) -> String {
    item.name
}

struct Path<T>(T);

#[get("/items/<id>", authorize = "OPEN")]
fn item(Path(id): Path<i64>) -> String {
    id.to_string()
}

struct Query<T>(T);

#[get("/search", authorize = "OPEN")]
fn search(Query(terms): Query<Item>) -> String {
    terms.name
}

fn main() {}
