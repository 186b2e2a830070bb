//! In-process cost of one request through the whole pipeline: route match, authentication,
//! parameter parsing, handler and response, with no socket.
//!
//! `cargo bench --bench request`

use criterion::{Criterion, criterion_group, criterion_main};
use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
fn hello() -> &'static str {
    "hello"
}

#[get("/params/<id>", authorize = "OPEN")]
fn params(id: i64, a: i64, b: String, c: bool) -> Json<(i64, i64, String, bool)> {
    Json((id, a, b, c))
}

#[get("/basic/<id>", authorize = "AUTH", auth = "basic")]
fn basic(id: i64, user: CurrentUser, a: i64) -> String {
    format!("{user} {id} {a}")
}

#[get("/token/<id>", authorize = "AUTH", auth = "token")]
fn token(id: i64, user: CurrentUser) -> String {
    format!("{user} {id}")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (app, tok) = rt.block_on(async {
        let hash = App::new().build().expect("app").hash_password_unchecked("hobbes").await.expect("hash");
        let app = App::new()
            .config("FSA_AUTH", vec!["token", "basic", "none"])
            .config("FSA_TOKEN_SECRET", "bench secret bench secret")
            .get_user_pass(move |login| {
                let h = (login == "calvin").then(|| hash.clone());
                async move { Ok(h) }
            })
            .routes(fsa::routes![hello, params, basic, token])
            .build()
            .expect("app");
        let tok = app.create_token("calvin", TokenOptions::default()).expect("token");
        (app, tok)
    });
    let client = app.test_client();
    let mut group = c.benchmark_group("request");
    group.bench_function("open", |b| {
        b.to_async(&rt).iter(|| async { assert_eq!(client.get("/hello").send().await.status(), 200) })
    });
    group.bench_function("open_params", |b| {
        b.to_async(&rt)
            .iter(|| async { assert_eq!(client.get("/params/12?a=1&b=foo&c=true").send().await.status(), 200) })
    });
    group.bench_function("basic_cached_params", |b| {
        b.to_async(&rt).iter(|| async {
            assert_eq!(client.get("/basic/12?a=3").basic("calvin", "hobbes").send().await.status(), 200)
        })
    });
    group.bench_function("token_cached", |b| {
        b.to_async(&rt).iter(|| async { assert_eq!(client.get("/token/12").bearer(&tok).send().await.status(), 200) })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
