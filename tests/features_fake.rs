//! The `fake` configuration of the features fixture (spec sections 2.3, 3.10–3.12 and 6), in process.

#[allow(dead_code)]
#[path = "../examples/features.rs"]
mod features;

use fsa::{TestClient, TestResponse};
use serde_json::{Value, json};

async fn client() -> TestClient {
    features::app("fake").await.expect("fake app").test_client()
}

fn ok(r: &TestResponse) -> Value {
    assert_eq!(r.status(), 200, "{}", r.text());
    r.json()
}

/// An error: plain text whose body is the message.
fn plain(r: &TestResponse, status: u16) -> String {
    assert_eq!(r.status(), status, "{}", r.text());
    assert!(r.header("content-type").is_some_and(|ct| ct.starts_with("text/plain")), "{:?}", r.headers());
    r.text()
}

#[tokio::test]
async fn fake_authentication_from_loopback_only() {
    let c = client().await;
    assert_eq!(ok(&c.get("/config").await), json!({"config": "fake"}));
    assert_eq!(ok(&c.get("/whoami?LOGIN=anyone").await), json!({"user": "anyone"}));
    assert!(plain(&c.get("/whoami").await, 401).contains("LOGIN"));
    assert!(plain(&c.get("/whoami?LOGIN=").await, 401).contains("LOGIN"));
    // A JSON member that Python finds false is no login, as for upstream's `if not login`.
    for falsy in ["null", "false", "0", "0.0", "\"\"", "[]", "{}"] {
        let r = c.get("/whoami").body(format!("{{\"LOGIN\": {falsy}}}"), "application/json").await;
        assert!(plain(&r, 401).contains("LOGIN"), "{falsy}");
    }
    let r = c.get("/whoami").body(r#"{"LOGIN": 42}"#, "application/json").await;
    assert_eq!(ok(&r), json!({"user": "42"}));
    assert_eq!(c.get("/whoami?LOGIN=calvin").basic("calvin", "Hobbes123").await.status(), 200);
    // Not a loopback client: no fake authentication, but secure mode is off.
    let far = |uri: &str| c.get(uri).header("X-Fixture-Remote-Addr", "192.0.2.9");
    plain(&far("/whoami?LOGIN=calvin").await, 401);
    assert_eq!(ok(&far("/config").await), json!({"config": "fake"}));
    plain(&c.get("/whoami?LOGIN=calvin").peer("192.0.2.9").await, 401);
    assert_eq!(c.get("/whoami?LOGIN=calvin").header("X-Fixture-Remote-Addr", "::1").await.status(), 200);
    plain(&c.get("/whoami?LOGIN=calvin").header("X-Fixture-Remote-Addr", "localhost").await, 401);
    assert_eq!(ok(&c.get("/writer?LOGIN=susie").await), json!({"user": "susie"}));
    assert!(plain(&c.get("/writer?LOGIN=hobbes").await, 403).contains("writer"));
}

#[tokio::test]
async fn tokens_in_the_auth_parameter() {
    let c = client().await;
    let t = ok(&c.get("/token?LOGIN=hobbes").await)["token"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = t.split(':').collect();
    assert_eq!((parts.len(), parts[0], parts[1], parts[2].len()), (4, "features-fake/fake-issuer", "hobbes", 14));
    assert_eq!(ok(&c.get("/token-only").query(&[("AUTH", &t)]).await), json!({"user": "hobbes"}));
    assert_eq!(ok(&c.post("/token-only").json(&json!({"AUTH": t, "x": 5})).await), json!({"user": "hobbes", "x": 5}));
    assert_eq!(ok(&c.post("/token-only").form(&[("AUTH", &t)]).await), json!({"user": "hobbes", "x": 0}));
    assert!(plain(&c.get("/token-only?LOGIN=hobbes").await, 401).contains("token"));
    // A body that cannot be read leaves the token and fake schemes the query string: its
    // error is the answer of the parameter step, after the 401 or 403.
    let r = c.get("/token-only").query(&[("AUTH", &t)]).body("{bad", "application/json").await;
    assert!(plain(&r, 400).starts_with("invalid JSON body"));
    assert!(plain(&c.get("/token-only").body("{bad", "application/json").await, 401).contains("token"));
    assert!(plain(&c.get("/writer?LOGIN=susie").body("{bad", "application/json").await, 400).contains("JSON body"));
    assert!(plain(&c.get("/writer?LOGIN=hobbes").body("{bad", "application/json").await, 403).contains("writer"));
    assert!(plain(&c.get("/writer").body("{bad", "application/json").await, 401).contains("LOGIN"));
    plain(&c.get("/token-only").query(&[("AUTH", &t.replace("hobbes", "calvin"))]).await, 401);
    assert_eq!(ok(&c.get("/either").query(&[("AUTH", &t)]).await), json!({"user": "hobbes"}));
    assert_eq!(ok(&c.get("/either?LOGIN=moe").await), json!({"user": "moe"}));
    plain(&c.get("/either").await, 401);
    // Default routes ignore a token, without calling it unexpected.
    plain(&c.get("/whoami").query(&[("AUTH", &t)]).await, 401);
    let r = c.get("/params?LOGIN=moe&a=0x10").query(&[("AUTH", &t)]).await;
    assert_eq!(ok(&r), json!({"user": "moe", "a": 16, "b": "b"}));
    assert_eq!(ok(&c.get("/params?LOGIN=moe&a=1&b=x").await)["b"], "x");
    assert!(plain(&c.get("/params?LOGIN=moe").await, 400).contains("\"a\""));
    assert!(plain(&c.get("/params?LOGIN=moe&a=1&zz=2").await, 400).contains("zz"));
}

#[tokio::test]
async fn open_routes_need_none_explicitly() {
    let c = client().await;
    assert_eq!(ok(&c.get("/open-explicit").await), json!({"open": true}));
    plain(&c.get("/open-implicit").await, 401);
    assert_eq!(ok(&c.get("/open-implicit?LOGIN=x").await), json!({"open": true}));
}

/// §2.3 and §3.11: added headers, development headers, teapot hook, plain-text errors.
#[tokio::test]
async fn headers_and_hooks() {
    let c = client().await;
    let r = c.get("/whoami?LOGIN=calvin").await;
    assert_eq!(r.header("x-features-config"), Some("fake"));
    assert_eq!(r.header("x-features-status"), Some("200"));
    assert_eq!(r.header("fsa-request"), Some("GET /whoami"));
    assert_eq!(r.header("fsa-user"), Some("calvin (fake)"));
    // The login's UTF-8 bytes, read back as text by the test client.
    let r = c.get("/whoami").query(&[("LOGIN", "josé")]).await;
    assert_eq!(r.header("fsa-user"), Some("josé (fake)"));
    assert!(r.header("fsa-delay").is_some_and(|d| d.parse::<f64>().is_ok_and(|d| d >= 0.0)));
    // Control characters, which no header may hold, written %XX, in the login and in the path.
    let r = c.get("/whoami?LOGIN=a%0D%0Ab%01").await;
    assert_eq!(r.header("fsa-user"), Some("a%0D%0Ab%01 (fake)"));
    let r = c.get("/nope%0a").await;
    assert_eq!((r.status(), r.header("fsa-request")), (404, Some("GET /nope%0A")));
    let r = c.get("/whoami").await;
    assert_eq!((r.header("x-features-status"), r.header("www-authenticate")), (Some("401"), None));
    assert_eq!(r.header("fsa-request"), Some("GET /whoami"));
    // Every response carries all three, as FlaskSimpleAuth writes them without a user.
    assert_eq!(r.header("fsa-user"), Some("None (none)"));
    let r = c.get("/open-explicit").await;
    assert_eq!((r.header("fsa-request"), r.header("fsa-user")), (Some("GET /open-explicit"), Some("None (None)")));
    assert!(r.header("fsa-delay").is_some());
    assert!(!plain(&c.get("/nope").await, 404).is_empty());
    // The path decoded, as Flask's `request.path`.
    let r = c.get("/no%20such/caf%C3%A9").await;
    assert_eq!(r.header("fsa-request"), Some("GET /no such/café"));
    plain(&c.post("/open-explicit").await, 405);
    let teapot = |uri: &str| c.get(uri).header("X-Teapot", "yes");
    assert_eq!(plain(&teapot("/whoami?LOGIN=susie").await, 418), "teapot for susie");
    assert_eq!(plain(&teapot("/open-explicit").await, 418), "teapot for None");
    plain(&teapot("/whoami").await, 401);
    plain(&teapot("/writer?LOGIN=moe").await, 403);
    assert_eq!(c.get("/open-explicit").header("X-Teapot", "no").await.status(), 200);
}

/// §3.12 CORS.
#[tokio::test]
async fn cors_for_one_origin() {
    let c = client().await;
    let r = c.get("/config").header("Origin", "http://client.example").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
    let r = c.get("/config").header("Origin", "http://evil.example").await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let pre = |origin: &str| {
        c.request(fsa::http::Method::OPTIONS, "/whoami")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
    };
    let r = pre("http://client.example").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
    assert!(r.header("access-control-allow-methods").is_some_and(|m| m.contains("GET")));
    assert_eq!(pre("http://evil.example").await.header("access-control-allow-origin"), None);
    // A plain OPTIONS (no Access-Control-Request-Method) is answered by the router, with the
    // headers of a simple request, as on any other response.
    for path in ["/whoami", "/nowhere"] {
        let r = c.request(fsa::http::Method::OPTIONS, path).header("Origin", "http://client.example").await;
        assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"), "{path}");
    }
    let r = c.request(fsa::http::Method::OPTIONS, "/whoami").await;
    assert_eq!((r.status(), r.header("allow").is_some()), (200, true));
}
