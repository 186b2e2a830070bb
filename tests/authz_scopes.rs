//! OAuth scopes through HTTP with JWTs made by the test: conjunction of scopes, 403 naming the
//! missing scope, the `Scopes` helper, and the build-time refusals (undeclared scopes, oauth
//! mixed with other schemes or without an issuer, groups and scopes mixed).

use fsa::prelude::*;
use fsa::{ConfigError, Scopes, TokenOptions};
use serde_json::{Value, json};

#[get("/oauth/read", authorize = "read", auth = "oauth")]
fn oauth_read(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "scope": "read"}))
}

#[get("/oauth/read-write", authorize = ["read", "write"], auth = "oauth")]
fn oauth_read_write(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "scope": "read+write"}))
}

#[get("/oauth/scopes", authorize = "AUTH", auth = "oauth")]
fn oauth_scopes(user: CurrentUser, scopes: Scopes) -> Json<Value> {
    Json(json!({"user": user, "read": scopes.has("read"), "write": scopes.has("write"), "admin": scopes.has("admin")}))
}

#[get("/oauth/param", authorize = "write", auth = "oauth")]
fn oauth_param(x: i64) -> Json<i64> {
    Json(x)
}

#[get("/writer", authorize = "writer")]
fn writer(user: CurrentUser) -> String {
    format!("writer {user}")
}

#[get("/mixed", authorize = "read", auth = ["oauth", "basic"])]
fn mixed() -> &'static str {
    "never"
}

#[get("/scope-as-group", authorize = "admin")]
fn scope_as_group() -> &'static str {
    "never"
}

#[get("/numbered-scope", authorize = 3, auth = "oauth")]
fn numbered_scope() -> &'static str {
    "never"
}

fn builder() -> fsa::AppBuilder {
    App::new()
        .config("FSA_AUTH", vec!["token", "oauth", "none"])
        .config("FSA_TOKEN_TYPE", "jwt")
        .config("FSA_TOKEN_SECRET", "scope-test-secret-0123456789-0123456789")
        .config("FSA_TOKEN_ISSUER", "scope-issuer")
        .config("FSA_REALM", "scopes")
        .config("FSA_AUTHZ_SCOPES", vec!["read", "write", "admin"])
        .user_in_group(|login: String, group: fsa::Group| async move { Ok(group == "writer" && login == "susie") })
}

fn app() -> App {
    builder().routes(fsa::routes![oauth_read, oauth_read_write, oauth_scopes, oauth_param, writer]).build().unwrap()
}

fn token(app: &App, login: &str, scopes: &[&str]) -> String {
    let opts =
        if scopes.is_empty() { TokenOptions::default() } else { TokenOptions::default().scopes(scopes.to_vec()) };
    app.create_token(login, opts).unwrap()
}

#[tokio::test]
async fn scopes_must_all_be_granted() {
    let app = app();
    let c = app.test_client();
    let rw = token(&app, "calvin", &["read", "write"]);
    let r = c.get("/oauth/read").bearer(&rw).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scope": "read"})));
    assert_eq!(c.get("/oauth/read-write").bearer(&rw).await.status(), 200);
    let ro = token(&app, "hobbes", &["read"]);
    assert_eq!(c.get("/oauth/read").bearer(&ro).await.status(), 200);
    let r = c.get("/oauth/read-write").bearer(&ro).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("\"write\""), "{}", r.text());
    // no scope claim at all
    let none = token(&app, "moe", &[]);
    let r = c.get("/oauth/read").bearer(&none).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("\"read\""), "{}", r.text());
    // scopes come from the token only, whoever the user is
    let forged = token(&app, "moe", &["write", "read"]);
    assert_eq!(c.get("/oauth/read-write").bearer(&forged).await.status(), 200);
    // no token: 401
    assert_eq!(c.get("/oauth/read").await.status(), 401);
}

#[tokio::test]
async fn scopes_helper_in_handler() {
    let app = app();
    let c = app.test_client();
    let r = c.get("/oauth/scopes").bearer(&token(&app, "calvin", &["read", "admin"])).await;
    assert_eq!(r.json(), json!({"user": "calvin", "read": true, "write": false, "admin": true}));
    let r = c.get("/oauth/scopes").bearer(&token(&app, "moe", &[])).await;
    assert_eq!(r.json(), json!({"user": "moe", "read": false, "write": false, "admin": false}));
}

#[tokio::test]
async fn scopes_before_parameters() {
    let app = app();
    let c = app.test_client();
    assert_eq!(c.get("/oauth/param?x=bad").await.status(), 401);
    assert_eq!(c.get("/oauth/param?x=bad").bearer(&token(&app, "hobbes", &["read"])).await.status(), 403);
    let w = token(&app, "susie", &["write"]);
    assert_eq!(c.get("/oauth/param?x=bad").bearer(&w).await.status(), 400);
    assert_eq!(c.get("/oauth/param?x=2").bearer(&w).await.text(), "2\n");
}

#[tokio::test]
async fn groups_are_not_scopes_elsewhere() {
    let app = app();
    let c = app.test_client();
    // a token granting the "writer" scope does not make its user a member of the group
    assert_eq!(c.get("/writer").bearer(&token(&app, "calvin", &["writer"])).await.status(), 403);
    assert_eq!(c.get("/writer").bearer(&token(&app, "susie", &[])).await.status(), 200);
}

fn build_error(b: fsa::AppBuilder) -> String {
    match b.build() {
        Ok(_) => panic!("the app should be refused"),
        Err(ConfigError(m)) => m,
    }
}

#[tokio::test]
async fn build_refusals() {
    // undeclared scope
    let msg = build_error(builder().config("FSA_AUTHZ_SCOPES", vec!["read"]).routes(fsa::routes![oauth_read_write]));
    assert!(msg.contains("undeclared scope \"write\"") && msg.contains("/oauth/read-write"), "{msg}");
    // add_scope declares
    assert!(
        builder()
            .config("FSA_AUTHZ_SCOPES", vec!["read"])
            .add_scope("write")
            .routes(fsa::routes![oauth_read_write])
            .build()
            .is_ok()
    );
    // oauth mixed with other schemes
    let msg = build_error(builder().config("FSA_AUTH", vec!["token", "oauth", "basic"]).routes(fsa::routes![mixed]));
    assert!(msg.contains("/mixed") && msg.contains("oauth"), "{msg}");
    // oauth without an issuer
    let msg = build_error(
        App::new()
            .config("FSA_AUTH", vec!["token", "oauth"])
            .config("FSA_TOKEN_TYPE", "jwt")
            .config("FSA_TOKEN_SECRET", "scope-test-secret-0123456789-0123456789")
            .routes(fsa::routes![oauth_read]),
    );
    assert!(msg.contains("FSA_TOKEN_ISSUER"), "{msg}");
    // a number used as a scope
    let msg = build_error(builder().routes(fsa::routes![numbered_scope]));
    assert!(msg.contains("/numbered-scope") && msg.contains("3"), "{msg}");
    // a group named like a declared scope is a group, checked by the group hooks
    let app = builder().routes(fsa::routes![scope_as_group]).build().unwrap();
    let c = app.test_client();
    let r = c.get("/scope-as-group").bearer(&token(&app, "calvin", &["admin"])).await;
    assert_eq!(r.status(), 403, "the admin scope is not the admin group");
}
