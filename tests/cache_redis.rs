//! The Redis cache (`FSA_CACHE=redis`, feature `redis`) against a real Redis.
//!
//! `FSA_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379/0`) names the Redis to use: when it is
//! unset the tests print that they are skipped and return; when it is set and Redis does not
//! answer they fail. The outage test starts its own `redis-server` on a spare port.

#![cfg(feature = "redis")]

#[path = "cache_support/mod.rs"]
mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fsa::prelude::*;
use redis::AsyncCommands;
use support::{Store, app, get, get_token, hash, store, v};

/// The test Redis, or `None` (skipped) when `FSA_TEST_REDIS_URL` is unset.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("FSA_TEST_REDIS_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_owned()),
        _ => {
            eprintln!("{test}: skipped, FSA_TEST_REDIS_URL is not set");
            None
        }
    }
}

/// A direct connection to inspect Redis; panics when it does not answer.
async fn inspect(url: &str) -> redis::aio::MultiplexedConnection {
    let client =
        redis::Client::open(url).unwrap_or_else(|e| panic!("FSA_TEST_REDIS_URL={url} is not a redis url: {e}"));
    let mut conn = tokio::time::timeout(Duration::from_secs(5), client.get_multiplexed_async_connection())
        .await
        .unwrap_or_else(|_| panic!("redis at FSA_TEST_REDIS_URL={url} does not answer"))
        .unwrap_or_else(|e| panic!("redis at FSA_TEST_REDIS_URL={url} is unreachable: {e}"));
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.expect("redis answers PING");
    assert_eq!(pong, "PONG");
    conn
}

/// A fresh key prefix, so that tests sharing one Redis never see each other's entries.
fn prefix() -> String {
    format!("fsatest-{}:", uuid::Uuid::new_v4().simple())
}

fn redis_config(url: &str, prefix: &str, extra: &str) -> Vec<(&'static str, fsa::config::Value)> {
    vec![
        ("FSA_CACHE", v("redis")),
        ("FSA_CACHE_OPTS", v(&format!("{{ url = \"{url}\"{extra} }}"))),
        ("FSA_CACHE_PREFIX", v(prefix)),
    ]
}

async fn keys(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) -> Vec<String> {
    let mut k: Vec<String> = conn.keys(format!("{prefix}*")).await.expect("KEYS");
    k.sort();
    k
}

async fn cleanup(conn: &mut redis::aio::MultiplexedConnection, prefix: &str) {
    for k in keys(conn, prefix).await {
        let _: () = conn.del(k).await.expect("DEL");
    }
}

#[tokio::test]
async fn redis_hits_and_misses() {
    let Some(url) = redis_url("redis_hits_and_misses") else { return };
    let mut conn = inspect(&url).await;
    let p = prefix();
    let s = store().await;
    let app = app(&s, &redis_config(&url, &p, ""));
    for _ in 0..3 {
        assert_eq!(get(&app, "/me", "calvin", "hobbes").await, (200, "calvin".into()));
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/101", "calvin", "hobbes").await.0, 404);
        assert_eq!(get(&app, "/admin", "susie", "moe").await.0, 403);
    }
    assert_eq!((s.users(), s.groups(), s.perms()), (2, 2, 2));
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(get_token(&app, "/me", &token).await, 200);
    let found = keys(&mut conn, &p).await;
    for k in [
        format!("{p}u.[\"calvin\"]"),
        format!("{p}u.[\"susie\"]"),
        format!("{p}c.[\"calvin\",\"admin\"]"),
        format!("{p}c.[\"susie\",\"admin\"]"),
        format!("{p}p.[\"calvin\",\"stuff\",\"1\",\"read\"]"),
        format!("{p}p.[\"calvin\",\"stuff\",\"101\",\"read\"]"),
        format!("{p}t.[\"cachetest\",\"{token}\"]"),
        format!("{p}x.[\"calvin\"]"),
    ] {
        assert!(found.contains(&k), "{k} in {found:?}");
    }
    let indexed: Vec<String> = conn.zrange(format!("{p}x.[\"calvin\"]"), 0, -1).await.unwrap();
    assert_eq!(indexed.len(), 5, "calvin's index lists his user, group, 2 permission and token entries: {indexed:?}");
    let ttl: i64 = conn.pttl(format!("{p}u.[\"calvin\"]")).await.unwrap();
    assert!(ttl > 0 && ttl <= 600_000, "entries expire after FSA_CACHE_OPTS.ttl (600 s): {ttl}");
    let raw: String = conn.get(format!("{p}c.[\"calvin\",\"admin\"]")).await.unwrap();
    assert_eq!(raw, r#"{"k":"Bool","v":true}"#);
    assert!(!found.iter().any(|k| k.contains("hobbes")), "passwords never reach redis: {found:?}");
    cleanup(&mut conn, &p).await;
}

#[tokio::test]
async fn redis_ttl_expiry() {
    let Some(url) = redis_url("redis_ttl_expiry") else { return };
    let mut conn = inspect(&url).await;
    let p = prefix();
    let s = store().await;
    let app = app(&s, &redis_config(&url, &p, ", ttl = 1"));
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (1, 1));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let left: Vec<String> = keys(&mut conn, &p).await.into_iter().filter(|k| !k.contains("x.[")).collect();
    assert!(left.is_empty(), "redis expired every entry (indexes live a minute longer): {left:?}");
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (2, 2), "expired entries are loaded again");
    cleanup(&mut conn, &p).await;
}

#[tokio::test]
async fn redis_prefix_isolation() {
    let Some(url) = redis_url("redis_prefix_isolation") else { return };
    let mut conn = inspect(&url).await;
    let (pa, pb) = (prefix(), prefix());
    let s = store().await;
    let a = app(&s, &redis_config(&url, &pa, ""));
    let b = app(&s, &redis_config(&url, &pb, ""));
    assert_eq!(get(&a, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&b, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (2, 2), "two prefixes share nothing");
    // Keys of the application that are not cache entries survive clear_caches.
    let _: () = conn.set(format!("{pa}session:42"), "keep").await.unwrap();
    a.clear_caches().await;
    assert_eq!(keys(&mut conn, &pa).await, vec![format!("{pa}session:42")]);
    assert!(keys(&mut conn, &pb).await.len() >= 2, "the other prefix is untouched");
    assert_eq!(get(&b, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (2, 2));
    assert_eq!(get(&a, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (3, 3));
    cleanup(&mut conn, &pa).await;
    cleanup(&mut conn, &pb).await;
}

#[tokio::test]
async fn redis_every_uncache_method() {
    let Some(url) = redis_url("redis_every_uncache_method") else { return };
    let mut conn = inspect(&url).await;
    let p = prefix();
    let s = store().await;
    let app = app(&s, &redis_config(&url, &p, ""));
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    let token_key = format!("{p}t.[\"cachetest\",\"{token}\"]");
    let warm = || async {
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/admin", "susie", "moe").await.0, 403);
        assert_eq!(get(&app, "/stuff/1", "susie", "moe").await.0, 403);
        assert_eq!(get_token(&app, "/me", &token).await, 200);
    };
    warm().await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (2, 2, 2));

    app.password_uncache("calvin").await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 2, 2));
    app.group_uncache("calvin", "admin").await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 3, 2));
    app.object_perms_uncache("stuff", "calvin", 1i64, Some("read")).await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 3, 3));

    let exists = |k: String| {
        let mut c = conn.clone();
        async move { c.exists::<_, bool>(k).await.unwrap() }
    };
    assert!(exists(token_key.clone()).await);
    app.token_uncache(&token, None).await;
    assert!(!exists(token_key.clone()).await, "token_uncache deletes the validation");
    warm().await;
    assert!(exists(token_key.clone()).await);
    app.user_token_uncache("calvin", Some("other-realm")).await;
    assert!(exists(token_key.clone()).await, "another realm is untouched");
    app.user_token_uncache("calvin", None).await;
    assert!(!exists(token_key.clone()).await, "user_token_uncache deletes the user's validations");
    warm().await;

    app.auth_uncache("calvin").await;
    let left = keys(&mut conn, &p).await;
    assert!(!left.iter().any(|k| k.contains("calvin") || k.contains(&token)), "calvin is gone: {left:?}");
    assert!(left.iter().any(|k| k.contains("susie")), "susie stays: {left:?}");
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (4, 4, 4));

    app.clear_caches().await;
    assert!(keys(&mut conn, &p).await.is_empty());
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (6, 6, 6));
    cleanup(&mut conn, &p).await;
}

#[tokio::test]
async fn redis_two_apps_share_one_redis() {
    let Some(url) = redis_url("redis_two_apps_share_one_redis") else { return };
    let mut conn = inspect(&url).await;
    let p = prefix();
    let s = store().await;
    let a = app(&s, &redis_config(&url, &p, ""));
    let b = app(&s, &redis_config(&url, &p, ""));

    let token = a.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(get_token(&b, "/admin", &token).await, 200, "a token from one server is accepted by the other");
    assert_eq!(get_token(&a, "/admin", &token).await, 200);
    assert_eq!(s.groups(), 1, "the membership loaded by one server is used by the other");

    assert_eq!(get(&a, "/stuff/1", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&b, "/stuff/1", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.perms()), (1, 1));

    // Calvin changes password and loses admin on server A; server B sees it at once.
    s.set_password("calvin", &hash("tiger").await);
    s.admins.lock().unwrap().clear();
    a.auth_uncache("calvin").await;
    assert_eq!(get(&b, "/me", "calvin", "hobbes").await.0, 401);
    assert_eq!(get(&b, "/me", "calvin", "tiger").await.0, 200);
    assert_eq!(get_token(&b, "/admin", &token).await, 403);
    assert_eq!((s.users(), s.groups()), (2, 2));
    assert_eq!(get(&a, "/me", "calvin", "tiger").await.0, 200);
    assert_eq!(s.users(), 2, "and A uses what B loaded");

    b.group_uncache("calvin", "admin").await;
    assert_eq!(get_token(&a, "/admin", &token).await, 403);
    assert_eq!(s.groups(), 3);
    b.clear_caches().await;
    assert_eq!(get(&a, "/me", "calvin", "tiger").await.0, 200);
    assert_eq!(s.users(), 3, "clear_caches on one server is seen by the other");
    cleanup(&mut conn, &p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_concurrent_identical_requests_call_hooks_once() {
    let Some(url) = redis_url("redis_concurrent_identical_requests_call_hooks_once") else { return };
    let mut conn = inspect(&url).await;
    let p = prefix();
    let s = store().await;
    *s.delay.lock().unwrap() = Duration::from_millis(200);
    let app = app(&s, &redis_config(&url, &p, ""));
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { get(&app, "/stuff/1", "calvin", "hobbes").await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!((s.users(), s.perms()), (1, 1), "one hook call for 24 concurrent requests");
    cleanup(&mut conn, &p).await;
}

/// A `redis-server` of the test's own, killed on drop.
struct Server {
    child: Child,
}

impl Server {
    async fn start(port: u16) -> Server {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server can be started (it must be installed when FSA_TEST_REDIS_URL is set)");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Server { child };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until two identical requests in a row call the user hook once (caching works again).
async fn until_cached(app: &App, s: &Store) -> bool {
    for _ in 0..200 {
        assert_eq!(get(app, "/me", "calvin", "hobbes").await.0, 200);
        let before = s.users();
        assert_eq!(get(app, "/me", "calvin", "hobbes").await.0, 200);
        if s.users() == before {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_falls_back_to_hooks_and_recovers() {
    let Some(shared) = redis_url("redis_outage_falls_back_to_hooks_and_recovers") else { return };
    inspect(&shared).await;
    let port = spare_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let s = store().await;
    let app = app(&s, &redis_config(&url, "outage:", ", timeout = 0.2, retry = 0.2"));

    // Redis down at startup: requests are answered by the hooks.
    for _ in 0..3 {
        assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 200);
    }
    assert_eq!(s.users(), 3, "no cache while redis is down");

    let server = Server::start(port).await;
    assert!(until_cached(&app, &s).await, "caching starts when redis comes up");
    let mut conn = inspect(&url).await;
    let _: String = conn.get("outage:u.[\"calvin\"]").await.expect("the entry is in the test's redis");

    // Killed mid-traffic: every request still succeeds.
    let stop = Arc::new(AtomicBool::new(false));
    let (done, failures) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let traffic: Vec<_> = (0..4)
        .map(|i| {
            let (app, stop, done, failures) = (app.clone(), stop.clone(), done.clone(), failures.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let uri = if i % 2 == 0 { "/admin" } else { "/stuff/1" };
                    if get(&app, uri, "calvin", "hobbes").await.0 != 200 {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    let before = s.users();
    let mut waited = 0;
    while s.users() < before + 3 && waited < 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert!(s.users() >= before + 3, "hooks answer while redis is gone");
    let during = done.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(done.load(Ordering::SeqCst) > during, "requests keep flowing during the outage");

    // Back: caching resumes by itself.
    let _server = Server::start(port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for t in traffic {
        t.await.unwrap();
    }
    assert_eq!(failures.load(Ordering::SeqCst), 0, "no request failed because of the outage");
    // (Checked alone: concurrent traffic would coalesce with the probe requests.)
    assert!(until_cached(&app, &s).await, "caching resumes when redis is back");
    let mut conn = inspect(&url).await;
    let _: String = conn.get("outage:u.[\"calvin\"]").await.expect("entries are stored again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_hanging_server_does_not_hang_requests() {
    // A "server" that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            conns.push(c);
        }
    });
    let url = format!("redis://127.0.0.1:{port}/0");
    let s = store().await;
    let app = app(&s, &redis_config(&url, "hang:", ", timeout = 0.2, retry = 0.5"));
    let run = async {
        for _ in 0..5 {
            assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
        }
    };
    // A guard against hanging forever, far above the configured 0.2 s bound.
    tokio::time::timeout(Duration::from_secs(30), run).await.expect("requests do not hang on a silent redis");
    assert_eq!(s.users(), 5, "the hooks answered");
    held.abort();
}
