//! The `jwt` configuration of the features fixture (spec sections 2.2, 3.4, 3.5 and 5), in process.

#[allow(dead_code)]
#[path = "../examples/features.rs"]
mod features;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fsa::{App, TestClient, TestResponse, TokenOptions};
use serde_json::{Value, json};

async fn app() -> App {
    features::app("jwt").await.expect("jwt app")
}

fn sj(r: &TestResponse) -> (u16, Value) {
    if r.status() >= 400 {
        assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text());
        assert!(r.json()["error"].is_string(), "{}", r.text());
    }
    (r.status(), r.json())
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

/// The `auth` cookie set by a response, if any.
fn set_cookie(r: &TestResponse) -> Option<String> {
    let v = r.header("set-cookie")?;
    assert!(v.contains("Max-Age=3600") && v.contains("Path=/"), "{v}");
    Some(v.strip_prefix("auth=")?.split(';').next()?.to_owned())
}

async fn login(c: &TestClient, user: &str, pass: &str) -> String {
    let r = c.get("/login").basic(user, pass).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

/// §3.4: claims and validation.
#[tokio::test]
async fn login_issues_jwts_with_scopes() {
    let c = app().await.test_client();
    assert_eq!(sj(&c.get("/config").await), (200, json!({"config": "jwt"})));
    let t = login(&c, "calvin", "Hobbes123").await;
    let cl = claims(&t);
    assert_eq!(
        (&cl["sub"], &cl["aud"], &cl["iss"], &cl["scope"]),
        (&json!("calvin"), &json!("features-jwt"), &json!("features-issuer"), &json!("read write"))
    );
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(t.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let delay = cl["exp"].as_i64().unwrap() - fsa::token::now();
    assert!((3500..=3600).contains(&delay), "{delay}");
    assert_eq!(claims(&login(&c, "hobbes", "Tiger456").await)["scope"], "read");
    assert!(claims(&login(&c, "moe", "Bully1000").await).get("scope").is_none());
    // password shortcut: param with the default names.
    let r = c.get("/login?USER=susie&PASS=Derkins789").await;
    assert_eq!(claims(r.json()["token"].as_str().unwrap())["sub"], "susie");
    assert_eq!(c.get("/login?login=susie&pwd=Derkins789").await.status(), 401);
}

#[tokio::test]
async fn token_only_from_the_cookie() {
    let app = app().await;
    let c = app.test_client();
    let t = login(&c, "calvin", "Hobbes123").await;
    assert_eq!(sj(&c.get("/whoami").cookie("auth", &t).await), (200, json!({"user": "calvin"})));
    let r = c.get("/whoami").bearer(&t).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some(r#"Basic realm="features-jwt""#));
    let opts = || TokenOptions::default();
    for bad in [
        app.create_token("calvin", opts().delay(-1.0)).unwrap(),
        app.create_token("calvin", TokenOptions::realm("other")).unwrap(),
        app.create_token("calvin", opts().issuer("someone-else")).unwrap(),
        app.create_token("calvin", opts().secret("not-the-secret-0123456789")).unwrap(),
    ] {
        assert_eq!(c.get("/whoami").cookie("auth", &bad).await.status(), 401, "{}", claims(&bad));
    }
    // Unsigned tokens are refused.
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", enc(json!({"alg": "none", "typ": "JWT"})), enc(claims(&t)));
    assert_eq!(c.get("/whoami").cookie("auth", &none).await.status(), 401);
}

/// §5: OAuth scopes come from the token only.
#[tokio::test]
async fn oauth_scopes() {
    let app = app().await;
    let c = app.test_client();
    let calvin = login(&c, "calvin", "Hobbes123").await;
    let hobbes = login(&c, "hobbes", "Tiger456").await;
    let moe = login(&c, "moe", "Bully1000").await;
    let r = c.get("/oauth/read").cookie("auth", &hobbes).await;
    assert_eq!(sj(&r), (200, json!({"user": "hobbes", "scope": "read"})));
    let r = c.post("/oauth/write").cookie("auth", &calvin).await;
    assert_eq!(sj(&r), (200, json!({"user": "calvin", "scope": "write"})));
    let r = c.get("/oauth/read-write").cookie("auth", &calvin).await;
    assert_eq!(sj(&r), (200, json!({"user": "calvin", "scope": "read+write"})));
    let r = c.post("/oauth/write").cookie("auth", &hobbes).await;
    assert!(r.status() == 403 && r.json()["error"].as_str().unwrap().contains("write"));
    let r = c.get("/oauth/read").cookie("auth", &moe).await;
    assert!(r.status() == 403 && r.json()["error"].as_str().unwrap().contains("read"));
    assert_eq!(c.get("/oauth/read-write").cookie("auth", &hobbes).await.status(), 403);
    // Passwords are not accepted on oauth routes.
    assert_eq!(sj(&c.get("/oauth/read").basic("calvin", "Hobbes123").await).0, 401);
    let r = c.get("/oauth/scopes").cookie("auth", &hobbes).await;
    assert_eq!(sj(&r), (200, json!({"user": "hobbes", "scopes": {"read": true, "write": false, "admin": false}})));
    // A correctly signed token with a scope grants it whoever the user is.
    let forged = app.create_token("moe", TokenOptions::default().scopes(["write", "admin"])).unwrap();
    assert_eq!(sj(&c.post("/oauth/write").cookie("auth", &forged).await).1["user"], "moe");
    let r = c.get("/oauth/scopes").cookie("auth", &forged).await;
    assert_eq!(sj(&r).1["scopes"], json!({"read": false, "write": true, "admin": true}));
}

#[tokio::test]
async fn groups_on_jwt() {
    let c = app().await.test_client();
    let r = c.get("/jwt/writer").basic("susie", "Derkins789").await;
    assert_eq!(sj(&r), (200, json!({"user": "susie", "group": "writer"})));
    let r = c.get("/jwt/writer").basic("hobbes", "Tiger456").await;
    assert!(r.status() == 403 && r.json()["error"].as_str().unwrap().contains("writer"));
}

/// §3.5: cookie issuing and renewal.
#[tokio::test]
async fn cookie_issuing_and_renewal() {
    let app = app().await;
    let c = app.test_client();
    // Password authentication without a cookie: a fresh cookie, without scopes, even on 403.
    let r = c.get("/whoami").basic("calvin", "Hobbes123").await;
    let fresh = set_cookie(&r).expect("a cookie");
    assert_eq!((claims(&fresh)["sub"].as_str(), claims(&fresh).get("scope")), (Some("calvin"), None));
    assert!(set_cookie(&c.get("/jwt/writer").basic("moe", "Bully1000").await).is_some());
    assert!(set_cookie(&c.get("/login").basic("hobbes", "Tiger456").await).is_some());
    // No authenticated user: no cookie.
    assert_eq!(c.get("/config").await.header("set-cookie"), None);
    assert_eq!(c.get("/whoami").basic("calvin", "nope").await.header("set-cookie"), None);
    // A cookie with plenty of life left is kept; one expiring within 30 minutes is renewed.
    let r = c.get("/whoami").cookie("auth", &fresh).await;
    assert_eq!((r.status(), r.header("set-cookie")), (200, None));
    let old = app.create_token("susie", TokenOptions::default().delay(10.0)).unwrap();
    let r = c.get("/whoami").cookie("auth", &old).await;
    assert_eq!(r.status(), 200);
    let renewed = set_cookie(&r).expect("a renewed cookie");
    assert_eq!(claims(&renewed)["sub"], "susie");
    assert!(claims(&renewed)["exp"].as_i64() > claims(&old)["exp"].as_i64());
    // Only the cookie's expiry counts: another user's long-lived cookie stays as it is when a
    // password authenticates the request, as upstream has it; an invalid cookie is replaced.
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", "not.a.token").await;
    assert!(set_cookie(&r).is_some(), "an invalid cookie is replaced");
    let hobbes = app.create_token("hobbes", TokenOptions::default()).unwrap();
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", &hobbes).await;
    assert_eq!((r.status(), r.header("set-cookie")), (200, None));
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", &old).await;
    assert_eq!(claims(&set_cookie(&r).expect("a renewed cookie"))["sub"], "calvin");
}
