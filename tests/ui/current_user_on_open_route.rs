#![allow(dead_code)]
use fsa::prelude::*;

#[get("/me", authorize = "OPEN")]
fn me(user: CurrentUser) -> String {
    user.0
}

fn main() {}
