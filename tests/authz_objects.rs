//! Object permissions through HTTP: the fixture's `stuff` and `doc` domains, defaults of the
//! permission tuple, several variables, the order 401 → 400 → 404/403, hook errors and panics,
//! caching keyed by domain, user, identifier and role, and build-time refusals.

use std::sync::{Arc, Mutex};

use fsa::ConfigError;
use fsa::prelude::*;
use serde_json::{Value, json};

type Calls = Arc<Mutex<Vec<String>>>;

#[get("/stuff/<sid>", authorize = ("stuff", "sid", "read"))]
fn get_stuff(sid: i64) -> Json<Value> {
    Json(json!({"sid": sid}))
}

#[patch("/stuff/<sid>", authorize = ("stuff", "sid", "update"))]
fn patch_stuff(sid: i64, name: String) -> Json<Value> {
    Json(json!({"sid": sid, "name": name, "updated": true}))
}

#[delete("/stuff/<sid>", authorize = ("stuff",))]
fn delete_stuff(sid: i64) -> Json<Value> {
    Json(json!({"sid": sid, "deleted": true}))
}

#[get("/stuff-by-query", authorize = ("stuff", "sid", "read"))]
fn stuff_by_query(sid: i64) -> Json<Value> {
    Json(json!({"sid": sid}))
}

#[get("/stuff-empty-role/<sid>", authorize = ("stuff", "sid", ""))]
fn stuff_empty_role(sid: i64) -> Json<Value> {
    Json(json!({"sid": sid}))
}

#[get("/docs/<folder>/<num>", authorize = ("doc", "folder:num", "read"))]
fn get_doc(folder: String, num: i64) -> Json<Value> {
    Json(json!({"folder": folder, "num": num}))
}

#[put("/docs/<folder>/<num>", authorize = ("doc", "folder:num"))]
fn put_doc(folder: String, num: i64) -> Json<Value> {
    Json(json!({"folder": folder, "num": num, "written": true}))
}

#[get("/admin-stuff/<sid>", authorize = ["admin", ("stuff", "sid", "read")])]
fn admin_stuff(sid: i64) -> Json<i64> {
    Json(sid)
}

#[get("/fragile/<n>", authorize = ("fragile", "n"))]
fn fragile(n: i64) -> Json<i64> {
    Json(n)
}

/// (id, owner, shared with)
const STUFF: [(i64, &str, &str); 3] = [(1, "calvin", "hobbes"), (2, "hobbes", ""), (3, "susie", "calvin")];

fn builder(calls: Calls) -> fsa::AppBuilder {
    let c2 = calls.clone();
    App::new()
        .config("FSA_AUTH", vec!["fake", "none"])
        .config("FSA_ERROR_RESPONSE", "json:error")
        .group_check("admin", |login: String| async move { Ok(login == "calvin") })
        .object_perms("stuff", move |login: String, id: i64, role: Option<&'static str>| {
            calls.lock().unwrap().push(format!("stuff {login} {id} {role:?}"));
            async move {
                let Some((_, owner, shared)) = STUFF.iter().find(|s| s.0 == id) else { return Ok(None) };
                let admin = login == "calvin";
                Ok(Some(match role {
                    Some("read") => login == *owner || login == *shared || admin,
                    Some("update") => login == *owner,
                    None => login == *owner || admin,
                    Some(_) => false,
                }))
            }
        })
        .object_perms("doc", move |login: String, (folder, num): (String, i64), role: Option<&'static str>| {
            c2.lock().unwrap().push(format!("doc {login} {folder} {num} {role:?}"));
            async move {
                if num > 100 {
                    return Ok(None);
                }
                Ok(Some(match role {
                    Some("read") => folder == "public" || folder == login,
                    _ => folder == login,
                }))
            }
        })
        .object_perms("fragile", |_login: String, n: i64, _role: Option<&'static str>| async move {
            match n {
                0 => Err(Error::new(503, "permission service unavailable")),
                1 => panic!("permission service crashed"),
                _ => Ok(Some(true)),
            }
        })
        .routes(fsa::routes![
            get_stuff,
            patch_stuff,
            delete_stuff,
            stuff_by_query,
            stuff_empty_role,
            get_doc,
            put_doc,
            admin_stuff,
            fragile
        ])
}

fn app() -> (App, Calls) {
    let calls: Calls = Arc::default();
    (builder(calls.clone()).build().unwrap(), calls)
}

fn login(uri: &str, who: &str) -> String {
    format!("{uri}{}LOGIN={who}", if uri.contains('?') { '&' } else { '?' })
}

#[tokio::test]
async fn roles_and_answers() {
    let (app, _) = app();
    let c = app.test_client();
    let r = c.get(&login("/stuff/1", "hobbes")).await;
    assert_eq!((r.status(), r.json()), (200, json!({"sid": 1})));
    assert_eq!(c.get(&login("/stuff/1", "susie")).await.status(), 403);
    assert_eq!(c.get(&login("/stuff/2", "calvin")).await.status(), 200, "admin reads");
    // update: owner only
    assert_eq!(c.patch(&login("/stuff/1?name=x", "calvin")).await.status(), 200);
    let r = c.patch(&login("/stuff/1?name=x", "hobbes")).await;
    assert_eq!(r.status(), 403);
    assert!(r.json()["error"].as_str().unwrap().contains("stuff"), "{}", r.text());
    // unknown object: 404, in the error format
    let r = c.get(&login("/stuff/9", "calvin")).await;
    assert_eq!(r.status(), 404);
    assert!(r.json()["error"].is_string(), "{}", r.text());
    // path converter
    assert_eq!(c.get(&login("/stuff/abc", "calvin")).await.status(), 404);
    // from the query string too
    assert_eq!(c.get(&login("/stuff-by-query?sid=3", "calvin")).await.status(), 200);
    assert_eq!(c.get(&login("/stuff-by-query?sid=3", "hobbes")).await.status(), 403);
    assert_eq!(c.get(&login("/stuff-by-query?sid=7", "hobbes")).await.status(), 404);
}

#[tokio::test]
async fn tuple_defaults() {
    let (app, calls) = app();
    let c = app.test_client();
    // ("stuff",): first argument, no role
    assert_eq!(c.delete(&login("/stuff/2", "hobbes")).await.status(), 200);
    assert_eq!(c.delete(&login("/stuff/1", "hobbes")).await.status(), 403, "shared is not enough without role");
    assert_eq!(c.delete(&login("/stuff/2", "calvin")).await.status(), 200);
    assert!(calls.lock().unwrap().contains(&"stuff hobbes 2 None".to_owned()));
    // ("doc", "folder:num"): no role
    assert_eq!(c.put(&login("/docs/public/1", "hobbes")).await.status(), 403);
    assert_eq!(c.put(&login("/docs/hobbes/1", "hobbes")).await.status(), 200);
}

#[tokio::test]
async fn several_variables_pass_a_tuple() {
    let (app, calls) = app();
    let c = app.test_client();
    let r = c.get(&login("/docs/public/7", "susie")).await;
    assert_eq!((r.status(), r.json()), (200, json!({"folder": "public", "num": 7})));
    assert_eq!(c.get(&login("/docs/calvin/7", "susie")).await.status(), 403);
    assert_eq!(c.get(&login("/docs/susie/7", "susie")).await.status(), 200);
    assert_eq!(c.get(&login("/docs/susie/101", "susie")).await.status(), 404);
    assert!(calls.lock().unwrap().contains(&"doc susie public 7 Some(\"read\")".to_owned()));
}

#[tokio::test]
async fn order_401_then_400_then_permissions() {
    let (app, calls) = app();
    let c = app.test_client();
    // anonymous: 401 whatever the object or parameters
    assert_eq!(c.get("/stuff/9").await.status(), 401);
    assert_eq!(c.patch("/stuff/2").await.status(), 401);
    assert_eq!(c.patch("/stuff/2?name=x&bad=1").await.status(), 401);
    // parameters before permissions: a missing name is a 400 even where update is denied
    let r = c.patch(&login("/stuff/2", "susie")).await;
    assert_eq!(r.status(), 400);
    assert!(r.json()["error"].as_str().unwrap().contains("\"name\""), "{}", r.text());
    assert_eq!(c.patch(&login("/stuff/9", "susie")).await.status(), 400);
    assert!(calls.lock().unwrap().is_empty(), "no permission check before parameters are valid");
    assert_eq!(c.patch(&login("/stuff/2?name=x", "susie")).await.status(), 403);
    assert_eq!(c.patch(&login("/stuff/9?name=x", "susie")).await.status(), 404);
    // groups before parameters and permissions
    assert_eq!(c.get(&login("/admin-stuff/2", "hobbes")).await.status(), 403);
    assert_eq!(c.get(&login("/admin-stuff/9", "hobbes")).await.status(), 403);
    assert_eq!(c.get(&login("/admin-stuff/9", "calvin")).await.status(), 404);
    assert_eq!(c.get(&login("/admin-stuff/2", "calvin")).await.status(), 200);
}

#[tokio::test]
async fn not_found_status_is_configurable() {
    let app = builder(Arc::default()).config("FSA_NOT_FOUND_ERROR", 410).build().unwrap();
    assert_eq!(app.test_client().get(&login("/stuff/9", "calvin")).await.status(), 410);
}

#[tokio::test]
async fn hook_errors_and_panics() {
    let (app, _) = app();
    let c = app.test_client();
    let r = c.get(&login("/fragile/0", "calvin")).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.json()["error"], "permission service unavailable");
    let r = c.get(&login("/fragile/1", "calvin")).await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("crashed"), "{}", r.text());
    assert_eq!(c.get(&login("/fragile/2", "calvin")).await.status(), 200);
}

#[tokio::test]
async fn cache_never_shares_entries() {
    let (app, calls) = app();
    let c = app.test_client();
    let count = || calls.lock().unwrap().len();
    assert_eq!(c.get(&login("/stuff/1", "hobbes")).await.status(), 200);
    assert_eq!(c.get(&login("/stuff/1", "hobbes")).await.status(), 200);
    assert_eq!(count(), 1, "same user, domain, id and role: cached");
    // another role
    assert_eq!(c.patch(&login("/stuff/1?name=n", "hobbes")).await.status(), 403);
    assert_eq!(count(), 2);
    // no role and an empty role are different roles
    assert_eq!(c.delete(&login("/stuff/1", "hobbes")).await.status(), 403);
    assert_eq!(count(), 3);
    assert_eq!(c.get(&login("/stuff-empty-role/1", "hobbes")).await.status(), 403);
    assert_eq!(count(), 4);
    // another user, another identifier
    assert_eq!(c.get(&login("/stuff/1", "susie")).await.status(), 403);
    assert_eq!(c.get(&login("/stuff/2", "hobbes")).await.status(), 200);
    assert_eq!(count(), 6);
    // another domain with the same login and values
    assert_eq!(c.get(&login("/docs/x/1", "hobbes")).await.status(), 403);
    assert_eq!(count(), 7);
    // explicit forgetting
    app.object_perms_uncache("stuff", "hobbes", 1i64, Some("read")).await;
    assert_eq!(c.get(&login("/stuff/1", "hobbes")).await.status(), 200);
    assert_eq!(count(), 8);
    app.object_perms_uncache("doc", "hobbes", ("x".to_owned(), 1i64), Some("read")).await;
    assert_eq!(c.get(&login("/docs/x/1", "hobbes")).await.status(), 403);
    assert_eq!(count(), 9);
}

#[test]
fn unserved_domains_and_wrong_types_are_refused_at_build() {
    let err = |b: fsa::AppBuilder| match b.build() {
        Ok(_) => panic!("should be refused"),
        Err(ConfigError(m)) => m,
    };
    let msg = err(App::new().config("FSA_AUTH", vec!["fake", "none"]).routes(fsa::routes![get_stuff, get_doc]));
    assert!(msg.contains("\"stuff\"") && msg.contains("\"doc\"") && msg.contains("/docs/<folder>/<num>"), "{msg}");
    let msg = err(App::new()
        .config("FSA_AUTH", vec!["fake", "none"])
        .object_perms("stuff", |_: String, _: String, _: Option<&'static str>| async { Ok(Some(true)) })
        .routes(fsa::routes![get_stuff]));
    assert!(msg.contains("i64") && msg.contains("String"), "{msg}");
}
