#![allow(dead_code)]
use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
async fn hello() -> Result<String, String> {
    Ok("hello".to_owned())
}

fn main() {}
