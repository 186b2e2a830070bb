//! The in-process cache (default `FSA_CACHE=ttl`), observed through the hooks' call counts.

#[path = "cache_support/mod.rs"]
mod support;

use std::time::Duration;

use fsa::prelude::*;
use support::{app, get, get_token, hash, store, v};

#[tokio::test]
async fn memory_hits_and_misses() {
    let s = store().await;
    let app = app(&s, &[]);
    for _ in 0..3 {
        assert_eq!(get(&app, "/me", "calvin", "hobbes").await, (200, "calvin".into()));
    }
    assert_eq!(s.users(), 1, "get_user_pass answer is cached");
    assert_eq!(get(&app, "/me", "susie", "moe").await.0, 200);
    assert_eq!(s.users(), 2, "another login is another entry");
    assert_eq!(get(&app, "/me", "nobody", "x").await.0, 401);
    assert_eq!(get(&app, "/me", "nobody", "x").await.0, 401);
    assert_eq!(s.users(), 3, "unknown users are cached too");

    for _ in 0..3 {
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    }
    assert_eq!(s.groups(), 1);
    assert_eq!(get(&app, "/admin", "susie", "moe").await.0, 403);
    assert_eq!(get(&app, "/admin", "susie", "moe").await.0, 403);
    assert_eq!(s.groups(), 2, "negative memberships are cached per login");
    assert_eq!(get(&app, "/reader", "calvin", "hobbes").await.0, 200);
    assert_eq!(s.groups(), 3, "another group is another entry");

    for _ in 0..2 {
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/2", "calvin", "hobbes").await.0, 403);
        assert_eq!(get(&app, "/stuff/101", "calvin", "hobbes").await.0, 404);
        assert_eq!(get(&app, "/stuff/1", "susie", "moe").await.0, 403);
    }
    assert_eq!(s.perms(), 4, "one hook call per (login, id)");
    assert_eq!(s.users(), 3);
}

#[tokio::test]
async fn memory_ttl_expiry() {
    let s = store().await;
    let app = app(&s, &[("FSA_CACHE_OPTS", v("{ ttl = 1 }"))]);
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (1, 1));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!((s.users(), s.groups()), (2, 2), "expired entries are loaded again");
}

#[tokio::test]
async fn memory_changes_seen_on_next_request_after_auth_uncache() {
    let s = store().await;
    let app = app(&s, &[]);
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
    // The password, the admin flag and the permission change in the store...
    s.set_password("calvin", &hash("tiger").await);
    s.admins.lock().unwrap().clear();
    s.stuff.lock().unwrap().clear();
    // ...but cached answers stand until uncached (FSA semantics).
    assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&app, "/me", "calvin", "tiger").await.0, 401);
    app.auth_uncache("calvin").await;
    assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 401, "old password refused at once");
    assert_eq!(get(&app, "/me", "calvin", "tiger").await.0, 200, "new password accepted at once");
    assert_eq!(get(&app, "/admin", "calvin", "tiger").await.0, 403, "lost group at once");
    assert_eq!(get(&app, "/stuff/1", "calvin", "tiger").await.0, 403, "lost permission at once");
}

#[tokio::test]
async fn memory_changed_hash_invalidates_password_check() {
    let s = store().await;
    // Users are not cached: each request reads the stored hash, the password check is cached.
    let app = app(&s, &[("FSA_CACHE_USERS", v("false"))]);
    assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 200);
    assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 200);
    assert_eq!(s.users(), 2);
    s.set_password("calvin", &hash("tiger").await);
    assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 401, "a new stored hash misses the check cache");
    assert_eq!(get(&app, "/me", "calvin", "tiger").await.0, 200);
    // Even with the very same password, a new hash (new salt) is checked again and accepted.
    s.set_password("calvin", &hash("tiger").await);
    assert_eq!(get(&app, "/me", "calvin", "tiger").await.0, 200);
    assert_eq!(get(&app, "/me", "calvin", "wrong").await.0, 401);
}

#[tokio::test]
async fn memory_every_uncache_method() {
    let s = store().await;
    let app = app(&s, &[]);
    let warm = || async {
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/admin", "susie", "moe").await.0, 403);
        assert_eq!(get(&app, "/stuff/1", "susie", "moe").await.0, 403);
    };
    warm().await;
    let base = (s.users(), s.groups(), s.perms());
    assert_eq!(base, (2, 2, 2));
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), base, "all cached");

    app.password_uncache("calvin").await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 2, 2));

    app.group_uncache("calvin", "admin").await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 3, 2));

    app.object_perms_uncache("stuff", "calvin", 1i64, Some("read")).await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (3, 3, 3));

    app.auth_uncache("calvin").await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (4, 4, 4), "only calvin's entries are gone");

    app.clear_caches().await;
    warm().await;
    assert_eq!((s.users(), s.groups(), s.perms()), (6, 6, 6), "everything is gone");
}

#[tokio::test]
async fn memory_tokens_are_cached_and_uncached() {
    let s = store().await;
    let app = app(&s, &[]);
    let token = app.create_token("hobbes", TokenOptions::default()).unwrap();
    // A valid token authenticates whether or not the account exists; no user hook is called.
    assert_eq!(get_token(&app, "/me", &token).await, 200);
    assert_eq!(get_token(&app, "/me", &token).await, 200);
    app.token_uncache(&token, None).await;
    app.user_token_uncache("hobbes", None).await;
    app.auth_uncache("hobbes").await;
    assert_eq!(get_token(&app, "/me", &token).await, 200);
    assert_eq!(get_token(&app, "/me", &format!("{token}x")).await, 401);
    assert_eq!(s.users(), 0);
}

#[tokio::test]
async fn memory_cached_token_expiry_is_checked_on_every_hit() {
    let s = store().await;
    let app = app(&s, &[]);
    let exp = fsa::token::now() + 1;
    let token = app.create_token("hobbes", TokenOptions::default().expires_at(exp)).unwrap();
    assert_eq!(get_token(&app, "/me", &token).await, 200, "valid: checked, then cached");
    while fsa::token::now() <= exp {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get_token(&app, "/me", &token).await, 401, "the cached validation has expired");
}

#[tokio::test]
async fn memory_each_kind_can_be_turned_off() {
    let s = store().await;
    let app = app(&s, &[("FSA_CACHE_GROUPS", v("false")), ("FSA_CACHE_PERMS", v("false"))]);
    for _ in 0..3 {
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
    }
    assert_eq!((s.users(), s.groups(), s.perms()), (1, 3, 3));

    let s = store().await;
    let app = support::app(&s, &[("FSA_CACHE_USERS", v("false"))]);
    for _ in 0..3 {
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    }
    assert_eq!((s.users(), s.groups()), (3, 1));
}

#[tokio::test]
async fn memory_cache_none_calls_hooks_every_time() {
    let s = store().await;
    let app = app(&s, &[("FSA_CACHE", v("none"))]);
    for _ in 0..3 {
        assert_eq!(get(&app, "/stuff/1", "calvin", "hobbes").await.0, 200);
        assert_eq!(get(&app, "/admin", "calvin", "hobbes").await.0, 200);
    }
    assert_eq!((s.users(), s.groups(), s.perms()), (6, 3, 3));
    app.clear_caches().await;
    app.auth_uncache("calvin").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_concurrent_identical_requests_call_hooks_once() {
    let s = store().await;
    *s.delay.lock().unwrap() = Duration::from_millis(200);
    let app = app(&s, &[]);
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_a_hook_call_that_never_ends_holds_up_its_own_request_only() {
    let s = store().await;
    let app = app(&s, &[]);
    // The first call for calvin hangs (a database reply lost, no timeout)…
    *s.delay.lock().unwrap() = Duration::from_secs(3600);
    let hung = tokio::spawn({
        let app = app.clone();
        async move { get(&app, "/me", "calvin", "hobbes").await }
    });
    while s.users() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // …and the hook answers at once again: a later request waits for the hung call a while
    // (fsa's FLIGHT_SHARED_FOR, 5 s), then calls the hook itself.
    *s.delay.lock().unwrap() = Duration::ZERO;
    // (How long it waits is checked under tokio's paused clock, in the cache's unit tests.)
    let later = tokio::time::timeout(Duration::from_secs(30), get(&app, "/me", "calvin", "hobbes")).await;
    assert_eq!(later.expect("not held up by the hung call"), (200, "calvin".into()));
    assert_eq!(s.users(), 2);
    // The answer is cached for the next ones.
    assert_eq!(get(&app, "/me", "calvin", "hobbes").await.0, 200);
    assert_eq!(s.users(), 2);
    assert!(!hung.is_finished());
    hung.abort();
}

#[test]
fn memory_bad_cache_options_are_refused() {
    for (name, text) in [
        ("FSA_CACHE_OPTS", "{ ttl = -1 }"),
        ("FSA_CACHE_OPTS", "{ ttl = \"soon\" }"),
        ("FSA_CACHE_OPTS", "{ host = \"localhost\" }"),
    ] {
        let r = App::new().config(name, v(text)).build();
        assert!(r.is_err(), "{name}={text} must be refused");
    }
    assert!(App::new().config("FSA_CACHE_OPTS", v("{ ttl = 0.5 }")).build().is_ok());
    assert!(App::new().config("FSA_CACHE_GROUPS", v("maybe")).build().is_err());
    let off = App::new().config("FSA_CACHE", "none").config("FSA_CACHE_OPTS", v("redis://127.0.0.1:1/0"));
    assert!(off.build().is_ok(), "options of a cache switched off are ignored");
}

#[tokio::test]
async fn memory_other_token_configurations_are_cached_apart() {
    use fsa::token::Tokens;
    let s = store().await;
    let app = app(&s, &[]);
    let jwt = |secret: &str| {
        let mut c = app.config().clone();
        c.set("FSA_TOKEN_TYPE", "jwt").unwrap();
        c.set("FSA_TOKEN_SECRET", secret).unwrap();
        Tokens::new(&c).unwrap()
    };
    let (a, b) = (jwt("the first secret of this test"), jwt("the second secret of this test"));
    let token = a.create("calvin", "r", &TokenOptions::default()).unwrap();
    for _ in 0..2 {
        assert_eq!(app.check_token_with(&a, &token, "r").await.unwrap().login, "calvin");
    }
    // Cached for `a`, never an answer for another configuration, the app's own tokens, or
    // another realm.
    assert_eq!(app.check_token_with(&b, &token, "r").await.unwrap_err().status(), 401);
    assert!(app.check_token(&token, Some("r")).is_err());
    assert!(app.check_token_with(&a, &token, "other").await.is_err());
    // Failures are not cached; uncaching forgets; the expiry is checked on every hit.
    assert!(app.check_token_with(&a, &format!("{token}x"), "r").await.is_err());
    app.token_uncache_with(&a, &token, "r").await;
    app.user_token_uncache("calvin", Some("r")).await;
    assert!(app.check_token_with(&a, &token, "r").await.is_ok());
    let exp = fsa::token::now() + 1;
    let short = a.create("hobbes", "r", &TokenOptions::default().expires_at(exp)).unwrap();
    assert!(app.check_token_with(&a, &short, "r").await.is_ok());
    while fsa::token::now() <= exp {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.check_token_with(&a, &short, "r").await.unwrap_err().status(), 401);
}
