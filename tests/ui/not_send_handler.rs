#![allow(dead_code)]
use fsa::prelude::*;

async fn later() {}

#[get("/count", authorize = "OPEN")]
async fn count() -> String {
    let shared = std::rc::Rc::new(1);
    later().await;
    shared.to_string()
}

fn main() {}
