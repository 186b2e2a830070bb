use fsa::prelude::*;

struct Api;

impl Api {
    #[get("/hello", authorize = "OPEN")]
    fn hello() -> &'static str {
        "hello"
    }
}

fn main() {}
