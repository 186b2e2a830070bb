//! Authentication schemes through the HTTP surface: basic, param, password, custom (sync and
//! async), fake, httpd, none; scheme lists, messages and WWW-Authenticate challenges.

use std::net::IpAddr;

use fsa::prelude::*;
use fsa::{AuthRequest, CurrentScheme};
use serde_json::{Value, json};

#[get("/whoami", authorize = "AUTH")]
async fn whoami(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/basic", authorize = "AUTH", auth = "basic")]
async fn basic(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/token", authorize = "AUTH", auth = "token")]
async fn token(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[route("/param", method = ["GET", "POST"], authorize = "AUTH", auth = "param")]
async fn param(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/password", authorize = "AUTH", auth = "password")]
async fn password(user: CurrentUser, scheme: CurrentScheme, #[default(0)] n: i64) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0, "n": n}))
}

#[get("/xyz", authorize = "AUTH", auth = "xyz")]
async fn xyz(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/async", authorize = "AUTH", auth = "slow-key")]
async fn async_scheme(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/open/get-user", authorize = "OPEN")]
async fn open_get_user(user: Option<CurrentUser>) -> Json<Value> {
    Json(json!({"user": user.map(|u| u.0)}))
}

/// Authentication required on demand on an OPEN route (upstream `get_user(required=True)`).
struct RequiredUser(String);

impl fsa::Special for RequiredUser {
    async fn extract(ctx: &mut Context, _name: &'static str) -> fsa::Result<Self> {
        let login = ctx.get_user(true).await?;
        login.map(RequiredUser).ok_or_else(|| fsa::Error::unauthorized("missing authentication"))
    }
}

#[get("/open/get-user-required", authorize = "OPEN")]
async fn open_get_user_required(user: RequiredUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

/// Keys known to the async scheme, standing for a database table.
struct KeyTable(Vec<(&'static str, &'static str)>);

async fn main_app() -> App {
    let hasher = App::new().build().unwrap();
    let calvin = hasher.hash_password_unchecked("Hobbes123").await.unwrap();
    App::new()
        .config("FSA_AUTH", toml_list(&["token", "basic", "param", "xyz", "slow-key", "none"]))
        .config("FSA_REALM", "features")
        .config("FSA_TOKEN_SECRET", "main-config-token-secret-0123456789")
        .config("FSA_PARAM_USER", "login")
        .config("FSA_PARAM_PASS", "pwd")
        .get_user_pass(move |login| {
            let h = (login == "calvin").then(|| calvin.clone());
            async move { Ok(h) }
        })
        .password_check(|login, pass| async move {
            match (login.as_str(), pass.as_str()) {
                ("rosalyn", "Babysit42") | ("calvin", "Spaceman9") => Ok(Some(true)),
                ("outage", _) => Err(fsa::Error::new(503, "directory unavailable")),
                ("susie", _) => Ok(Some(false)),
                _ => Ok(None),
            }
        })
        .authentication("xyz", |ctx: &Context| match ctx.headers().get("x-api-key").map(|v| v.as_bytes()) {
            None => Ok(None),
            Some(b"key-calvin-0001") => Ok(Some("calvin".to_owned())),
            Some(b"key-empty") => Ok(Some(String::new())),
            Some(_) => Err(fsa::Error::unauthorized("invalid api key")),
        })
        .state(KeyTable(vec![("slow-susie", "susie")]))
        .authentication("slow-key", |req: AuthRequest| async move {
            let Some(key) = req.header("x-slow-key").map(str::to_owned) else { return Ok(None) };
            tokio::task::yield_now().await; // stands for a database query
            let table = req.app.state::<KeyTable>().ok_or_else(|| fsa::Error::internal("no key table"))?;
            match table.0.iter().find(|(k, _)| *k == key) {
                Some((_, login)) => Ok(Some((*login).to_owned())),
                None => Err(fsa::Error::new(403, format!("key {key} is revoked"))),
            }
        })
        .routes(fsa::routes![
            whoami,
            basic,
            token,
            param,
            password,
            xyz,
            async_scheme,
            open_get_user,
            open_get_user_required
        ])
        .build()
        .unwrap()
}

fn toml_list(items: &[&str]) -> toml_value::Value {
    toml_value::list(items)
}

/// A TOML array without naming the toml crate in the dev-dependencies.
mod toml_value {
    pub type Value = fsa::config::Value;
    pub fn list(items: &[&str]) -> Value {
        Value::Array(items.iter().map(|s| Value::String((*s).to_owned())).collect())
    }
}

#[tokio::test]
async fn basic_scheme() {
    let app = main_app().await;
    let c = app.test_client();
    let r = c.get("/basic").basic("calvin", "Hobbes123").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "basic"})));
    // Wrong password: 401, message naming the login, Basic challenge only.
    let r = c.get("/basic").basic("calvin", "wrong").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("calvin"), "{}", r.text());
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"features\""));
    // Unknown user and missing header.
    let r = c.get("/basic").basic("nobody", "x").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("nobody"));
    let r = c.get("/basic").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("missing authorization header"), "{}", r.text());
    // Garbage in the header: a clean 401.
    for h in ["Basic !!!", "Basic bm9jb2xvbg==", "Digest x", "Basic"] {
        let r = c.get("/basic").header("authorization", h).await;
        assert_eq!(r.status(), 401, "{h}");
    }
    // Passwords longer than bcrypt's 72 bytes never match a hash of their prefix.
    let long = format!("Hobbes123{}", "x".repeat(80));
    let r = c.get("/basic").basic("calvin", &long).await;
    assert_eq!(r.status(), 401);
}

/// An `Authorization` header whose bytes are not UTF-8 is there: it fails as credentials that
/// do not decode, not as missing ones.
#[tokio::test]
async fn credentials_that_are_not_utf8_are_invalid_not_missing() {
    let app = main_app().await;
    let c = app.test_client();
    let r = c.get("/basic").header_bytes("authorization", b"Basic Y2Fs\xe9dmlu").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("decoding error on authorization header"), "{}", r.text());
    let r = c.get("/basic").header_bytes("authorization", b"B\xe9sic x").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("unexpected Authorization header"), "{}", r.text());
    let r = c.get("/token").header_bytes("authorization", b"Bearer caf\xe9").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("invalid fsa token"), "{}", r.text());
    // The route reads a valid token, to show that the one above failed as a token.
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    let r = c.get("/token").bearer(&token).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "token"})));
}

#[tokio::test]
async fn password_check_hook_after_or_instead_of_the_hash() {
    let app = main_app().await;
    let c = app.test_client();
    // No stored hash: the directory decides.
    let r = c.get("/basic").basic("rosalyn", "Babysit42").await;
    assert_eq!((r.status(), r.json()["user"].clone()), (200, json!("rosalyn")));
    assert_eq!(c.get("/basic").basic("rosalyn", "nope").await.status(), 401);
    // Hash mismatch: the directory is asked too.
    assert_eq!(c.get("/basic").basic("calvin", "Spaceman9").await.status(), 200);
    // false and None are both refusals.
    assert_eq!(c.get("/basic").basic("susie", "x").await.status(), 401);
    // An explicit hook error is answered as is when it is the last error.
    let r = c.get("/basic").basic("outage", "x").await;
    assert_eq!((r.status(), r.text()), (503, "directory unavailable".to_owned()));
}

#[tokio::test]
async fn an_internal_error_of_a_scheme_is_the_answer_whatever_comes_after() {
    // basic then token: the password hook's database is down for "outage", its directory
    // answers 503 for "busy".
    let app = App::new()
        .config("FSA_AUTH", toml_list(&["basic", "token"]))
        .config("FSA_ERROR_RESPONSE", "json:error")
        .get_user_pass(|login| async move {
            match login.as_str() {
                "outage" => Err(fsa::Error::internal("database error: pool timed out")),
                "busy" => Err(fsa::Error::new(503, "directory unavailable")),
                _ => Ok(None),
            }
        })
        .routes(fsa::routes![whoami])
        .build()
        .unwrap();
    let c = app.test_client();
    let r = c.get("/whoami").basic("outage", "x").await;
    assert_eq!((r.status(), r.json()), (500, json!({"error": "internal error"})), "not 'missing token'");
    // An error of the hook's own making follows upstream's rule: the last scheme's error.
    let r = c.get("/whoami").basic("busy", "x").await;
    assert_eq!((r.status(), r.json()), (401, json!({"error": "missing token"})));
}

#[tokio::test]
async fn password_check_alone_is_enough() {
    // LDAP/AD recipe: no stored passwords at all, no get_user_pass.
    let app = App::new()
        .config("FSA_AUTH", "basic")
        .password_check(|login, pass| async move {
            Ok(match (login.as_str(), pass.as_str()) {
                ("calvin", "hobbes") => Some(true),
                ("calvin", _) => Some(false),
                _ => None,
            })
        })
        .routes(fsa::routes![basic])
        .build()
        .unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/basic").basic("calvin", "hobbes").await.status(), 200);
    assert_eq!(c.get("/basic").basic("calvin", "moe").await.status(), 401);
    let r = c.get("/basic").basic("moe", "x").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("moe"));
}

#[tokio::test]
async fn param_scheme_from_query_form_and_json() {
    let app = main_app().await;
    let c = app.test_client();
    let want = json!({"user": "calvin", "scheme": "param"});
    let r = c.get("/param").query(&[("login", "calvin"), ("pwd", "Hobbes123")]).await;
    assert_eq!((r.status(), r.json()), (200, want.clone()));
    let r = c.post("/param").form(&[("login", "calvin"), ("pwd", "Hobbes123")]).await;
    assert_eq!((r.status(), r.json()), (200, want.clone()));
    let r = c.post("/param").json(&json!({"login": "calvin", "pwd": "Hobbes123"})).await;
    assert_eq!((r.status(), r.json()), (200, want));
    // Missing password: the message names the parameter; param adds no challenge.
    let r = c.get("/param").query(&[("login", "calvin")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("pwd"), "{}", r.text());
    assert_eq!(r.header("www-authenticate"), None);
    let r = c.get("/param").await;
    assert!(r.text().contains("login"), "{}", r.text());
    let r = c.get("/param").query(&[("login", "calvin"), ("pwd", "bad")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("calvin"));
}

#[tokio::test]
async fn param_scheme_reads_the_query_when_the_body_fails() {
    let hash = App::new().build().unwrap().hash_password_unchecked("Hobbes123").await.unwrap();
    let app = App::new()
        .config("FSA_AUTH", "param")
        .config("FSA_PARAM_USER", "login")
        .config("FSA_PARAM_PASS", "pwd")
        .config("FSA_MAX_BODY_SIZE", 64)
        .get_user_pass(move |login| {
            let h = (login == "calvin").then(|| hash.clone());
            async move { Ok(h) }
        })
        .routes(fsa::routes![param])
        .build()
        .unwrap();
    let c = app.test_client();
    let big = "x=".to_owned() + &"y".repeat(100);
    let form = "application/x-www-form-urlencoded";
    // The body's error comes after authentication, which the query string's credentials pass.
    let r = c.post("/param?login=calvin&pwd=Hobbes123").body(big.clone(), form).await;
    assert_eq!(r.status(), 413, "{}", r.text());
    let r = c.post("/param").body(big, form).await;
    assert_eq!((r.status(), r.text()), (401, "missing param login parameter: login".to_owned()));
    let r = c.post("/param?login=calvin&pwd=Hobbes123").body(&b"x=caf\xe9"[..], form).await;
    assert_eq!((r.status(), r.text()), (400, "form body is not valid UTF-8".to_owned()));
}

#[tokio::test]
async fn password_is_basic_then_param() {
    let app = main_app().await;
    let c = app.test_client();
    let r = c.get("/password").basic("calvin", "Hobbes123").await;
    assert_eq!((r.status(), r.json()["scheme"].clone()), (200, json!("basic")));
    // The credentials parameters are not unexpected parameters.
    let r = c.get("/password").query(&[("login", "calvin"), ("pwd", "Hobbes123"), ("n", "3")]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "param", "n": 3})));
    let r = c.get("/password").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"features\""));
}

#[tokio::test]
async fn custom_schemes_sync_and_async() {
    let app = main_app().await;
    let c = app.test_client();
    let r = c.get("/xyz").header("x-api-key", "key-calvin-0001").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "xyz"})));
    let r = c.get("/xyz").header("x-api-key", "bad").await;
    assert_eq!((r.status(), r.text()), (401, "invalid api key".to_owned()));
    // Nothing to say: 401, custom schemes add no challenge.
    let r = c.get("/xyz").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), None);
    // An empty login authenticates nobody: nothing to say either.
    let r = c.get("/xyz").header("x-api-key", "key-empty").await;
    assert_eq!((r.status(), r.text()), (401, "missing authentication".to_owned()));
    // The async scheme reads app state after an await point.
    let r = c.get("/async").header("x-slow-key", "slow-susie").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "susie", "scheme": "slow-key"})));
    let r = c.get("/async").header("x-slow-key", "old").await;
    assert_eq!((r.status(), r.text()), (403, "key old is revoked".to_owned()));
    assert_eq!(c.get("/async").await.status(), 401);
}

#[tokio::test]
async fn default_routes_try_every_enabled_scheme() {
    let app = main_app().await;
    let c = app.test_client();
    let token = app.create_token("hobbes", TokenOptions::default()).unwrap();
    for (req, user, scheme) in [
        (c.get("/whoami").bearer(&token), "hobbes", "token"),
        (c.get("/whoami").basic("calvin", "Hobbes123"), "calvin", "basic"),
        (c.get("/whoami").query(&[("login", "rosalyn"), ("pwd", "Babysit42")]), "rosalyn", "param"),
        (c.get("/whoami").header("x-api-key", "key-calvin-0001"), "calvin", "xyz"),
        (c.get("/whoami").header("x-slow-key", "slow-susie"), "susie", "slow-key"),
    ] {
        let r = req.await;
        assert_eq!((r.status(), r.json()), (200, json!({"user": user, "scheme": scheme})));
    }
    let r = c.get("/whoami").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"features\", Bearer realm=\"features\""));
    // A bad token does not prevent basic from succeeding.
    let r = c.get("/whoami").basic("calvin", "Hobbes123").header("x-api-key", "key-calvin-0001").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn optional_and_required_user_on_open_routes() {
    let app = main_app().await;
    let c = app.test_client();
    assert_eq!(c.get("/open/get-user").await.json(), json!({"user": null}));
    assert_eq!(c.get("/open/get-user").basic("calvin", "Hobbes123").await.json(), json!({"user": "calvin"}));
    let r = c.get("/open/get-user").basic("calvin", "bad").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": null})));
    let r = c.get("/open/get-user-required").await;
    assert_eq!(r.status(), 401);
    assert!(r.header("www-authenticate").is_some());
    let r = c.get("/open/get-user-required").basic("calvin", "Hobbes123").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin"})));
}

#[get("/fake-whoami", authorize = "AUTH")]
async fn fake_whoami(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[route("/token-only", method = ["GET", "POST"], authorize = "AUTH", auth = "token")]
async fn token_only(user: CurrentUser, #[default(0)] x: i64) -> Json<Value> {
    Json(json!({"user": user.0, "x": x}))
}

#[get("/either", authorize = "AUTH", auth = ["fake", "token"])]
async fn either(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

fn fake_app() -> App {
    App::new()
        .config("FSA_AUTH", toml_list(&["fake", "token", "none"]))
        .config("FSA_AUTH_DEFAULT", "fake")
        .config("FSA_REALM", "features-fake")
        .config("FSA_TOKEN_ISSUER", "fake-issuer")
        .config("FSA_TOKEN_CARRIER", "param")
        .config("FSA_TOKEN_SECRET", "fake-config-token-secret-0123456789")
        .config("FSA_SECURE", false)
        .client_addr(|parts, peer| {
            parts.headers.get("x-fixture-remote-addr").and_then(|v| v.to_str().ok()?.parse::<IpAddr>().ok()).or(peer)
        })
        .routes(fsa::routes![fake_whoami, token_only, either])
        .build()
        .unwrap()
}

#[tokio::test]
async fn fake_scheme_only_for_loopback_peers() {
    let app = fake_app();
    let c = app.test_client();
    let r = c.get("/fake-whoami").query(&[("LOGIN", "calvin")]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "fake"})));
    let r = c.get("/fake-whoami").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("LOGIN"), "{}", r.text());
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(c.get("/fake-whoami").query(&[("LOGIN", "")]).await.status(), 401);
    // A remote peer never gets fake authentication.
    let r = c.get("/fake-whoami").query(&[("LOGIN", "calvin")]).peer("10.0.0.7").await;
    assert_eq!(r.status(), 401);
    let r = c.get("/fake-whoami").query(&[("LOGIN", "calvin")]).peer("::ffff:10.0.0.7").await;
    assert_eq!(r.status(), 401);
    // Nor a local peer that the client-address hook says is remote…
    let r = c.get("/fake-whoami").query(&[("LOGIN", "calvin")]).header("x-fixture-remote-addr", "10.0.0.7").await;
    assert_eq!(r.status(), 401);
    // …nor a remote peer claiming to be local: the TCP peer decides, whatever the config.
    let r = c
        .get("/fake-whoami")
        .query(&[("LOGIN", "calvin")])
        .peer("10.0.0.7")
        .header("x-fixture-remote-addr", "127.0.0.1")
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(c.get("/fake-whoami").query(&[("LOGIN", "calvin")]).peer("::1").await.status(), 200);
}

/// A route can name a scheme the app does not enable, but for `fake`: it would let any
/// loopback client, a local reverse proxy's included, be anyone.
#[test]
fn fake_is_enabled_by_the_app_only() {
    let built = App::new()
        .config("FSA_AUTH", "token")
        .config("FSA_TOKEN_SECRET", "fake-config-token-secret-0123456789")
        .routes(fsa::routes![either])
        .build();
    match built {
        Ok(_) => panic!("the app should be refused"),
        Err(fsa::ConfigError(msg)) => {
            assert!(msg.contains("GET /either") && msg.contains("the fake scheme is not enabled in FSA_AUTH"), "{msg}");
        }
    }
}

#[tokio::test]
async fn fake_login_parameter_renamed() {
    let app = App::new()
        .config("FSA_AUTH", "fake")
        .config("FSA_FAKE_LOGIN", "AS")
        .routes(fsa::routes![fake_whoami])
        .build()
        .unwrap();
    let c = app.test_client();
    let r = c.get("/fake-whoami").query(&[("AS", "hobbes")]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "hobbes", "scheme": "fake"})));
    // The default name no longer authenticates.
    let r = c.get("/fake-whoami").query(&[("LOGIN", "hobbes")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("missing fake login parameter: AS"), "{}", r.text());
}

#[tokio::test]
async fn param_carrier_and_token_only_routes() {
    let app = fake_app();
    let c = app.test_client();
    let r = c.get("/token-only").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("token"), "{}", r.text());
    // Fake credentials do not open a token-only route.
    assert_eq!(c.get("/token-only").query(&[("LOGIN", "calvin")]).await.status(), 401);
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert!(token.starts_with("features-fake/fake-issuer:calvin:"), "{token}");
    let r = c.get("/token-only").query(&[("AUTH", &token)]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "x": 0})));
    let r = c.post("/token-only").form(&[("AUTH", &token), ("x", "2")]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "x": 2})));
    let r = c.post("/token-only").json(&json!({"AUTH": token, "x": 3})).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "x": 3})));
    // Either scheme on a route listing both.
    assert_eq!(c.get("/either").query(&[("AUTH", &token)]).await.status(), 200);
    assert_eq!(c.get("/either").query(&[("LOGIN", "hobbes")]).await.json(), json!({"user": "hobbes"}));
    // On default (fake) routes a token is ignored, and not an unexpected parameter.
    let r = c.get("/fake-whoami").query(&[("AUTH", &token)]).await;
    assert_eq!(r.status(), 401);
    let r = c.get("/fake-whoami").query(&[("AUTH", &token), ("LOGIN", "susie")]).await;
    assert_eq!((r.status(), r.json()["user"].clone()), (200, json!("susie")));
}

#[get("/httpd", authorize = "AUTH")]
async fn httpd(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[tokio::test]
async fn httpd_scheme_only_from_trusted_proxies() {
    let app = App::new()
        .config("FSA_AUTH", "httpd")
        .config("FSA_SECURE", false)
        .config("FSA_TRUSTED_PROXIES", toml_list(&["10.1.2.3", "192.168.0.0/16", "fd00::/8"]))
        .config("FSA_HTTPD_HEADER", "X-Forwarded-User")
        .routes(fsa::routes![httpd])
        .build()
        .unwrap();
    let c = app.test_client();
    for peer in ["10.1.2.3", "192.168.44.5", "fd00::1"] {
        let r = c.get("/httpd").header("x-forwarded-user", "calvin").peer(peer).await;
        assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "httpd"})), "{peer}");
    }
    for peer in ["10.1.2.4", "127.0.0.1", "172.16.0.1", "::1"] {
        let r = c.get("/httpd").header("x-forwarded-user", "calvin").peer(peer).await;
        assert_eq!(r.status(), 401, "{peer}");
    }
    assert_eq!(c.get("/httpd").peer("10.1.2.3").await.status(), 401);
    // The scalar FSA_AUTH "httpd" also enables tokens, tried first.
    let token = app.create_token("hobbes", TokenOptions::default()).unwrap();
    let r = c.get("/httpd").bearer(&token).await;
    assert_eq!(r.json(), json!({"user": "hobbes", "scheme": "token"}));
    // Bad proxy entries are start-up errors.
    let e = App::new().config("FSA_AUTH", "httpd").config("FSA_TRUSTED_PROXIES", "10.0.0.0/99").build().unwrap_err();
    assert!(e.to_string().contains("FSA_TRUSTED_PROXIES"), "{e}");
}

#[tokio::test]
async fn scheme_lists_follow_upstream() {
    // A scalar token/none scheme is taken alone: OPEN routes need `none`.
    #[get("/open", authorize = "OPEN")]
    async fn open() -> &'static str {
        "open"
    }
    let token_only = App::new().config("FSA_AUTH", "token").routes(fsa::routes![open]).build().unwrap();
    assert_eq!(token_only.test_client().get("/open").await.status(), 401);
    let basic = App::new().config("FSA_AUTH", "basic").routes(fsa::routes![open]).build().unwrap();
    assert_eq!(basic.test_client().get("/open").await.status(), 200);
    // `password` expands to basic and param appended at the end: the last error reported is
    // param's (upstream quirk), and `none` before them keeps OPEN routes open.
    let pw = App::new()
        .config("FSA_AUTH", toml_list(&["password", "token", "none"]))
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .get_user_pass(|l| async move { Ok((l == "calvin").then(|| "hobbes".to_owned())) })
        .routes(fsa::routes![open, whoami])
        .build()
        .unwrap();
    let c = pw.test_client();
    assert_eq!(c.get("/open").await.status(), 200);
    let r = c.get("/whoami").basic("calvin", "tiger").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("missing param login parameter"), "{}", r.text());
    assert_eq!(c.get("/whoami").basic("calvin", "hobbes").await.json()["scheme"], "basic");
    let t = pw.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(c.get("/whoami").bearer(&t).await.json()["scheme"], "token");
    // Unknown scheme names are start-up errors.
    let e = App::new().config("FSA_AUTH", toml_list(&["basic", "kerberos"])).build().unwrap_err();
    assert!(e.to_string().contains("kerberos"));
}
