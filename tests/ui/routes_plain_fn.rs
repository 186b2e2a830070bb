use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
fn hello() -> &'static str {
    "hello"
}

fn helper() -> &'static str {
    "not a route"
}

struct NotARoute;

mod handlers {
    use fsa::prelude::*;

    #[get("/in-module", authorize = "OPEN")]
    pub fn inner() -> &'static str {
        "inner"
    }
}

fn main() {
    let _ = fsa::routes![hello, helper];
    let _ = fsa::routes![NotARoute];
    let _ = fsa::routes![handlers::inner];
}
