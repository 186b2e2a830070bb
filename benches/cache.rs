//! Cached versus uncached authentication, in process (no network):
//! `cargo bench --bench cache`.
//!
//! - `basic/*`: HTTP Basic with a bcrypt (cost 4) stored hash behind `get_user_pass`;
//!   `cached` = default cache (stored hash + password check cached), `no-password-cache` =
//!   stored hash cached but bcrypt run on every request, `uncached` = `FSA_CACHE=none`.
//! - `token/*`: an fsa bearer token, validation cached or not.
//! - with `FSA_BENCH_REDIS_URL` set, `basic/redis` and `token/redis` use `FSA_CACHE=redis`.

use std::collections::HashMap;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use fsa::prelude::*;

#[get("/me", authorize = "AUTH")]
async fn me(user: CurrentUser) -> String {
    user.to_string()
}

async fn app(cache: &str, passwords: bool) -> App {
    app_with(cache, passwords, None).await
}

async fn app_with(cache: &str, passwords: bool, redis: Option<&str>) -> App {
    let hash = App::new().build().unwrap().hash_password_unchecked("hobbes").await.unwrap();
    let users = Arc::new(HashMap::from([("calvin".to_owned(), hash)]));
    let app = App::new()
        .config("FSA_AUTH", "basic")
        .config("FSA_CACHE", cache)
        .config("FSA_CACHE_PASSWORDS", passwords)
        .config("FSA_TOKEN_SECRET", "benchmark secret, long enough")
        .get_user_pass(move |login| {
            let users = users.clone();
            async move { Ok(users.get(&login).cloned()) }
        })
        .routes(fsa::routes![me]);
    let app = match redis {
        Some(url) => app
            .config("FSA_CACHE_OPTS", fsa::config::parse_env_value(url))
            .config("FSA_CACHE_PREFIX", format!("fsabench-{}:", std::process::id())),
        None => app,
    };
    app.build().unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cached, no_pw, uncached) =
        rt.block_on(async { (app("ttl", true).await, app("ttl", false).await, app("none", true).await) });
    let token = cached.create_token("calvin", TokenOptions::default()).unwrap();
    let mut g = c.benchmark_group("cache");
    for (name, app) in [("basic/cached", &cached), ("basic/no-password-cache", &no_pw), ("basic/uncached", &uncached)] {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let r = app.test_client().get("/me").basic("calvin", "hobbes").await;
                assert_eq!(r.status(), 200);
            })
        });
    }
    for (name, app) in [("token/cached", &cached), ("token/uncached", &uncached)] {
        let token = token.clone();
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let r = app.test_client().get("/me").bearer(&token).await;
                assert_eq!(r.status(), 200);
            })
        });
    }
    // With FSA_BENCH_REDIS_URL (e.g. redis://127.0.0.1:6379/0): the same through a local Redis.
    if let Ok(url) = std::env::var("FSA_BENCH_REDIS_URL") {
        let redis = rt.block_on(app_with("redis", true, Some(&url)));
        g.bench_function("basic/redis", |b| {
            b.to_async(&rt).iter(|| async {
                let r = redis.test_client().get("/me").basic("calvin", "hobbes").await;
                assert_eq!(r.status(), 200);
            })
        });
        g.bench_function("token/redis", |b| {
            b.to_async(&rt).iter(|| async {
                let r = redis.test_client().get("/me").bearer(&token).await;
                assert_eq!(r.status(), 200);
            })
        });
        rt.block_on(redis.clear_caches());
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
