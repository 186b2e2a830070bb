//! Every accepted form of the route attributes compiles, and the routes they declare answer
//! as declared (the counterpart of the compile errors pinned in `tests/ui`). An ordinary
//! integration test rather than a trybuild "pass" case: it shares the workspace's build, where
//! a pass case made trybuild build every dependency again in its own target directory.
#![allow(dead_code)]
use fsa::prelude::*;

#[get("/open", authorize = "OPEN")]
fn open() -> &'static str {
    "open"
}

#[post("/auth", authz = "AUTH", authn = ["token", "basic"], realm = "r")]
async fn auth(user: CurrentUser) -> String {
    user.0
}

// A group named like a deprecated keyword in lower case is a group.
#[put("/group", authorize = ["admin", 42, "all"])]
fn group() {}

// An extension method, and an argument with an attribute of its own.
#[route("/cache/<key>", method = "purge", authorize = "OPEN")]
fn purge(#[cfg_attr(test, allow(unused_variables))] key: String) -> String {
    key
}

#[patch("/stuff/<id>", authorize = ("stuff",))]
fn perm_short(id: i64) -> Json<i64> {
    Json(id)
}

#[delete("/doc/<folder>/<num>", authorize = ("doc", "folder:num", "write"))]
fn perm_multi(folder: String, num: u32) -> fsa::Result<String> {
    Ok(format!("{folder}/{num}"))
}

// A method in lower case is upper-cased, as Flask does.
#[route("/multi", method = ["GET", "post"], authorize = "OPEN")]
fn multi(
    #[default(10)] limit: u32,
    r#type: Option<String>,
    #[default("p")] _pass: Option<String>,
    #[rename("x-y")] xy: Option<i64>,
) -> String {
    format!("{limit} {type:?} {_pass:?} {xy:?}", type = r#type)
}

// Text defaults on every text type that takes them.
#[get("/texts", authorize = "OPEN")]
fn texts(
    #[default("b")] b: Box<str>,
    #[default("c")] c: std::borrow::Cow<'static, str>,
    #[default("p")] p: std::path::PathBuf,
    #[default("v")] v: serde_json::Value,
) -> String {
    format!("{b} {c} {} {v}", p.display())
}

#[get("/files/<path..>", authorize = "CLOSE")]
fn files(path: String) -> (String, u16) {
    (path, 200)
}

fn app() -> App {
    App::new()
        .config("FSA_AUTH", toml::Value::Array(vec!["none".into(), "token".into(), "basic".into()]))
        .config("FSA_TOKEN_SECRET", "route forms secret of at least sixteen bytes")
        .get_user_pass(|_login| async { Ok(None) })
        .user_in_group(|_login, group| async move { Ok(group == "admin" || group == 42 || group == "all") })
        .object_perms("stuff", |_login, id: i64, _role| async move { Ok(Some(id == 12)) })
        .object_perms("doc", |_login, id: (String, u32), role| async move {
            Ok(Some(id == ("a".into(), 1) && role == Some("write")))
        })
        .routes(fsa::routes![open, auth, group, purge, perm_short, perm_multi, multi, texts, files])
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_accepted_form_serves_its_route() {
    let app = app();
    let c = app.test_client();
    let r = c.get("/open").await;
    assert_eq!((r.status(), r.text()), (200, "open".to_owned()));
    // Authenticated routes refuse an anonymous request, whatever their method.
    assert_eq!(c.post("/auth").await.status(), 401);
    assert_eq!(c.put("/group").await.status(), 401);
    assert_eq!(c.patch("/stuff/12").await.status(), 401);
    assert_eq!(c.delete("/doc/a/1").await.status(), 401);
    // With a token, each form reaches its handler through its authorization: the route's own
    // realm, a group name and a group number, and the path variables handed to the
    // permission hooks (one value, then a tuple of two with the role).
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    let in_r = app.create_token("calvin", TokenOptions::realm("r")).unwrap();
    let r = c.post("/auth").bearer(&in_r).await;
    assert_eq!((r.status(), r.text()), (200, "calvin".to_owned()));
    assert_eq!(c.post("/auth").bearer(&token).await.status(), 401, "a token of another realm");
    assert!(c.put("/group").bearer(&token).await.status() < 300);
    let r = c.patch("/stuff/12").bearer(&token).await;
    assert_eq!((r.status(), r.json()), (200, serde_json::json!(12)));
    assert_eq!(c.patch("/stuff/13").bearer(&token).await.status(), 403);
    let r = c.delete("/doc/a/1").bearer(&token).await;
    assert_eq!((r.status(), r.text()), (200, "a/1".to_owned()));
    assert_eq!(c.delete("/doc/a/2").bearer(&token).await.status(), 403);
    // A route with several methods, a default, a raw identifier and a renamed parameter.
    let r = c.get("/multi").query(&[("type", "t"), ("x-y", "5")]).await;
    assert_eq!((r.status(), r.text()), (200, "10 Some(\"t\") Some(\"p\") Some(5)".to_owned()));
    let r = c.post("/multi").form(&[("limit", "3")]).await;
    assert_eq!((r.status(), r.text()), (200, "3 None Some(\"p\") None".to_owned()));
    let r = c.request(fsa::http::Method::from_bytes(b"PURGE").unwrap(), "/cache/k").await;
    assert_eq!((r.status(), r.text()), (200, "k".to_owned()));
    let r = c.get("/texts").await;
    assert_eq!((r.status(), r.text()), (200, "b c p \"v\"".to_owned()));
    let r = c.get("/texts").query(&[("b", "x"), ("p", "/tmp")]).await;
    assert_eq!((r.status(), r.text()), (200, "x c /tmp \"v\"".to_owned()));
    // A closed route is forbidden to everyone.
    assert_eq!(c.get("/files/a/b").await.status(), 403);
}
