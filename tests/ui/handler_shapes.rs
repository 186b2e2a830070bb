#![allow(dead_code)]
use fsa::prelude::*;

#[get("/generic", authorize = "OPEN")]
fn generic<T: Default + ToString>() -> String {
    T::default().to_string()
}

#[get("/unsafe", authorize = "OPEN")]
unsafe fn not_safe() -> &'static str {
    ""
}

#[get("/stacked", authorize = "OPEN")]
#[post("/stacked", authorize = "OPEN")]
fn stacked() -> &'static str {
    ""
}

#[get("/conditional", authorize = "OPEN")]
fn conditional(#[cfg(any())] n: i64) -> &'static str {
    ""
}

#[get("/renamed", authorize = "OPEN")]
fn renamed(#[rename("a")] #[rename("b")] n: i64) -> String {
    n.to_string()
}

#[get("/unnamed", authorize = "OPEN")]
fn unnamed(#[rename("")] n: i64) -> String {
    n.to_string()
}

fn main() {}
