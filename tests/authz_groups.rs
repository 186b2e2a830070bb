//! Group authorizations through HTTP: per-group and generic hooks, string and integer groups,
//! conjunctions, CLOSE, the order authentication → groups → parameters, hook errors and
//! panics, caching, and the build-time refusals.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fsa::prelude::*;
use fsa::{ConfigError, Group};

#[get("/admin", authorize = "admin")]
fn admin(user: CurrentUser) -> String {
    format!("admin {user}")
}

#[get("/reader-writer", authorize = ["reader", "writer"])]
fn reader_writer(user: CurrentUser) -> String {
    format!("reader+writer {user}")
}

#[get("/admin-close", authorize = ["admin", "CLOSE"])]
fn admin_close() -> &'static str {
    "never"
}

#[get("/admin-param", authorize = "admin")]
fn admin_param(x: i64) -> Json<i64> {
    Json(x)
}

#[get("/gid", authorize = 42)]
fn gid(user: CurrentUser) -> String {
    format!("42 {user}")
}

#[get("/gid-neg", authorize = -1)]
fn gid_neg() -> &'static str {
    "minus one"
}

#[get("/gname-42", authorize = "42")]
fn gname_42() -> &'static str {
    "named 42"
}

#[get("/outage", authorize = "outage")]
fn outage() -> &'static str {
    "never"
}

#[get("/crash", authorize = "crash")]
fn crash() -> &'static str {
    "never"
}

/// calvin: admin (per-group hook), reader, writer, 42; hobbes: reader, -1; susie: writer.
fn builder(calls: Arc<AtomicUsize>) -> fsa::AppBuilder {
    App::new()
        .config("FSA_AUTH", vec!["fake", "none"])
        .group_check("admin", |login: String| async move { Ok(login == "calvin") })
        .user_in_group(move |login: String, group: Group| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(match group {
                    Group::Name(g) => match g.as_str() {
                        "reader" => login == "calvin" || login == "hobbes",
                        "writer" => login == "calvin" || login == "susie",
                        "outage" => return Err(Error::new(503, "directory unavailable")),
                        "crash" => panic!("group directory crashed"),
                        _ => false,
                    },
                    Group::Id(i) => (i == 42 && login == "calvin") || (i == -1 && login == "hobbes"),
                })
            }
        })
        .routes(fsa::routes![admin, reader_writer, admin_close, admin_param, gid, gid_neg, gname_42, outage, crash])
}

fn app() -> (App, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (builder(calls.clone()).build().unwrap(), calls)
}

#[tokio::test]
async fn per_group_hook() {
    let (app, _) = app();
    let c = app.test_client();
    let r = c.get("/admin").query(&[("LOGIN", "calvin")]).await;
    assert_eq!((r.status(), r.text()), (200, "admin calvin".to_owned()));
    let r = c.get("/admin").query(&[("LOGIN", "hobbes")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("\"admin\""), "{}", r.text());
    assert_eq!(c.get("/admin").await.status(), 401);
}

#[tokio::test]
async fn group_lists_are_conjunctions() {
    let (app, _) = app();
    let c = app.test_client();
    assert_eq!(c.get("/reader-writer").query(&[("LOGIN", "calvin")]).await.status(), 200);
    let r = c.get("/reader-writer").query(&[("LOGIN", "hobbes")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("\"writer\""), "{}", r.text());
    let r = c.get("/reader-writer").query(&[("LOGIN", "susie")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("\"reader\""), "{}", r.text());
}

#[tokio::test]
async fn close_anywhere_closes() {
    let (app, _) = app();
    let c = app.test_client();
    assert_eq!(c.get("/admin-close").query(&[("LOGIN", "calvin")]).await.status(), 403);
    assert_eq!(c.get("/admin-close").await.status(), 403);
}

#[tokio::test]
async fn integer_groups() {
    let (app, _) = app();
    let c = app.test_client();
    let r = c.get("/gid").query(&[("LOGIN", "calvin")]).await;
    assert_eq!((r.status(), r.text()), (200, "42 calvin".to_owned()));
    let r = c.get("/gid").query(&[("LOGIN", "hobbes")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("42"), "{}", r.text());
    assert_eq!(c.get("/gid-neg").query(&[("LOGIN", "hobbes")]).await.status(), 200);
    assert_eq!(c.get("/gid-neg").query(&[("LOGIN", "calvin")]).await.status(), 403);
    // The group named "42" is not the group 42, even after the latter was cached for calvin.
    assert_eq!(c.get("/gid").query(&[("LOGIN", "calvin")]).await.status(), 200);
    assert_eq!(c.get("/gname-42").query(&[("LOGIN", "calvin")]).await.status(), 403);
}

#[tokio::test]
async fn authentication_then_groups_then_parameters() {
    let (app, _) = app();
    let c = app.test_client();
    // anonymous: 401 even with a bad or missing parameter
    assert_eq!(c.get("/admin-param?x=bad").await.status(), 401);
    assert_eq!(c.get("/admin-param").await.status(), 401);
    // outside the group: 403 before any parameter error
    assert_eq!(c.get("/admin-param?x=bad&LOGIN=hobbes").await.status(), 403);
    assert_eq!(c.get("/admin-param?y=1&LOGIN=hobbes").await.status(), 403);
    // in the group: parameters are checked
    let r = c.get("/admin-param?x=bad&LOGIN=calvin").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"x\""), "{}", r.text());
    let r = c.get("/admin-param?x=7&LOGIN=calvin").await;
    assert_eq!((r.status(), r.text()), (200, "7\n".to_owned()));
}

#[tokio::test]
async fn hook_errors_are_answered_and_panics_are_500() {
    let (app, _) = app();
    let c = app.test_client();
    let r = c.get("/outage").query(&[("LOGIN", "calvin")]).await;
    assert_eq!((r.status(), r.text()), (503, "directory unavailable".to_owned()));
    let r = c.get("/crash").query(&[("LOGIN", "calvin")]).await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("crashed"), "the cause stays in the logs: {}", r.text());
    // the app still serves
    assert_eq!(c.get("/admin").query(&[("LOGIN", "calvin")]).await.status(), 200);
    // FSA_SERVER_ERROR sets the status of unexpected failures
    let app = builder(Arc::new(AtomicUsize::new(0))).config("FSA_SERVER_ERROR", 599).build().unwrap();
    assert_eq!(app.test_client().get("/crash").query(&[("LOGIN", "calvin")]).await.status(), 599);
}

#[tokio::test]
async fn answers_are_cached_per_user_and_group() {
    let (app, calls) = app();
    let c = app.test_client();
    for _ in 0..3 {
        assert_eq!(c.get("/reader-writer").query(&[("LOGIN", "calvin")]).await.status(), 200);
    }
    // reader and writer, once each
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // another user is another entry
    assert_eq!(c.get("/reader-writer").query(&[("LOGIN", "hobbes")]).await.status(), 403);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(c.get("/reader-writer").query(&[("LOGIN", "hobbes")]).await.status(), 403);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    // forgetting one entry asks the hook again
    app.group_uncache("hobbes", "writer").await;
    assert_eq!(c.get("/reader-writer").query(&[("LOGIN", "hobbes")]).await.status(), 403);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    // errors are not cached
    for _ in 0..2 {
        assert_eq!(c.get("/outage").query(&[("LOGIN", "calvin")]).await.status(), 503);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 7);
}

#[tokio::test]
async fn no_cache_asks_every_time() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = builder(calls.clone()).config("FSA_CACHE", "none").build().unwrap();
    let c = app.test_client();
    for _ in 0..3 {
        assert_eq!(c.get("/gid").query(&[("LOGIN", "calvin")]).await.status(), 200);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

fn build_error(b: fsa::AppBuilder) -> String {
    match b.build() {
        Ok(_) => panic!("the app should be refused"),
        Err(ConfigError(msg)) => msg,
    }
}

#[test]
fn undeclared_groups_are_refused_at_build() {
    let msg = build_error(builder(Arc::default()).config("FSA_AUTHZ_GROUPS", vec!["reader", "writer"]));
    // admin has its own hook: declared by it; 42, -1, "42", outage, crash are not declared
    assert!(msg.contains("undeclared group \"outage\""), "{msg}");
    assert!(msg.contains("/outage"), "{msg}");
    assert!(msg.contains("undeclared group \"42\""), "{msg}");
    assert!(!msg.contains("\"admin\""), "{msg}");
    assert!(!msg.contains("\"reader\""), "{msg}");
    // add_group declares, strings and integers alike
    let mut b = builder(Arc::default()).config("FSA_AUTHZ_GROUPS", vec!["reader", "writer"]);
    for g in ["42", "outage", "crash"] {
        b = b.add_group(g);
    }
    let b = b.add_group(42).add_group(-1);
    assert!(b.build().is_ok());
    // integer groups in the directive
    let b = builder(Arc::default())
        .config("FSA_AUTHZ_GROUPS", vec!["reader", "writer", "42", "outage", "crash"])
        .add_group(-1);
    let msg = build_error(b);
    assert!(msg.contains("/gid ") && msg.contains("\"42\""), "{msg}");
}

#[test]
fn groups_without_a_check_are_refused_at_build() {
    let msg = build_error(
        App::new()
            .config("FSA_AUTH", vec!["fake", "none"])
            .group_check("admin", |login: String| async move { Ok(login == "calvin") })
            .routes(fsa::routes![admin, reader_writer]),
    );
    assert!(msg.contains("\"reader\"") && msg.contains("\"writer\"") && msg.contains("/reader-writer"), "{msg}");
    assert!(!msg.contains("\"admin\""), "{msg}");
}
