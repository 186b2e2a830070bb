//! The request lifecycle through the in-process client: CORS, hooks, modes, error handling,
//! 401 redirects and secure mode (the same pipeline the server runs, see `server_socket.rs`).

use fsa::config::parse_env_value;
use fsa::prelude::*;

#[get("/open", authorize = "OPEN")]
fn open() -> &'static str {
    "open"
}

#[get("/auth", authorize = "AUTH")]
fn auth(user: CurrentUser) -> String {
    format!("hello {user}")
}

#[post("/auth", authorize = "AUTH")]
fn auth_post(user: CurrentUser) -> String {
    format!("posted by {user}")
}

#[get("/num", authorize = "OPEN")]
fn num(n: i64) -> Json<i64> {
    Json(n)
}

#[get("/boom", authorize = "OPEN")]
fn boom() -> &'static str {
    panic!("boom: secret detail")
}

#[get("/teapot", authorize = "OPEN")]
fn teapot() -> fsa::Result<&'static str> {
    Err(Error::new(418, "I am a teapot"))
}

#[get("/stuff/<id>", authorize = ("stuff", "id"))]
fn stuff(id: i64) -> String {
    format!("stuff {id}")
}

#[get("/io", authorize = "OPEN")]
fn io_failure() -> fsa::Result<String> {
    Ok(std::fs::read_to_string("/no/such/dir/secret-detail.txt")?)
}

#[get("/poisoned", authorize = "OPEN")]
fn poisoned() -> fsa::Result<&'static str> {
    let lock = std::sync::Mutex::new(());
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = lock.lock();
        panic!("poisoning the lock");
    }));
    let _guard = lock.lock()?;
    Ok("not poisoned")
}

#[get("/join", authorize = "OPEN")]
async fn join_failure() -> fsa::Result<&'static str> {
    tokio::task::spawn_blocking(|| panic!("secret detail")).await?;
    Ok("joined")
}

/// Basic authentication with plaintext stored passwords (fast), user calvin/hobbes, plus the
/// given directives.
fn builder(directives: &[(&str, &str)]) -> fsa::AppBuilder {
    let mut b = App::new()
        .config("FSA_AUTH", "basic")
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .get_user_pass(|login| async move { Ok((login == "calvin").then(|| "hobbes".to_owned())) })
        .object_perms("stuff", |_login: String, id: i64, _role: Option<&'static str>| async move {
            Ok(match id {
                0 => None,
                2 => Some(false),
                _ => Some(true),
            })
        })
        .routes(fsa::routes![open, auth, auth_post, num, boom, teapot, stuff, io_failure, poisoned, join_failure]);
    for (k, v) in directives {
        b = b.config(k, parse_env_value(v));
    }
    b
}

fn app(directives: &[(&str, &str)]) -> App {
    builder(directives).build().expect("valid app")
}

// ---------------------------------------------------------------------------------------- CORS

const CORS: &[(&str, &str)] = &[("FSA_CORS", "true"), ("FSA_CORS_OPTS", r#"{origins = "http://client.example"}"#)];

#[tokio::test]
async fn cors_simple_request_allowed_origin_only() {
    let c = app(CORS).test_client();
    let r = c.get("/open").header("origin", "http://client.example").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), "open");
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
    assert!(r.headers().get_all("vary").iter().any(|v| v.to_str().unwrap().to_lowercase().contains("origin")));
    let r = c.get("/open").header("origin", "http://evil.example").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // Errors carry the CORS headers too, so that browsers can read them.
    let r = c.get("/auth").header("origin", "http://client.example").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
    let r = c.get("/nope").header("origin", "http://client.example").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
}

#[tokio::test]
async fn cors_preflight() {
    let c = app(CORS).test_client();
    let r = c
        .request(http::Method::OPTIONS, "/auth")
        .header("origin", "http://client.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .await;
    // A preflight is answered before authentication.
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://client.example"));
    let methods = r.header("access-control-allow-methods").expect("allow-methods");
    assert!(methods.split(',').any(|m| m.trim() == "GET"), "{methods}");
    assert!(r.header("access-control-allow-headers").unwrap_or("").to_lowercase().contains("authorization"));
    let r = c
        .request(http::Method::OPTIONS, "/open")
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "GET")
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    // A plain OPTIONS (no preflight) is still the router's answer.
    let r = c.request(http::Method::OPTIONS, "/auth").await;
    assert_eq!(r.status(), 200);
    assert!(r.header("allow").unwrap().contains("POST"));
    assert_eq!(r.header("access-control-allow-methods"), None);
}

#[tokio::test]
async fn cors_off_by_default() {
    let c = app(&[]).test_client();
    let r = c.get("/open").header("origin", "http://client.example").await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = c
        .request(http::Method::OPTIONS, "/open")
        .header("origin", "http://client.example")
        .header("access-control-request-method", "GET")
        .await;
    assert_eq!(r.header("access-control-allow-methods"), None);
    assert!(r.header("allow").is_some());
}

#[tokio::test]
async fn cors_options() {
    let opts = r#"{origins = ["http://a.example", "https://.*\\.b\\.example"], methods = ["GET", "POST"],
        allow_headers = ["x-token"], expose_headers = ["x-total"], supports_credentials = true, max_age = 600}"#;
    let c = app(&[("FSA_CORS", "true"), ("FSA_CORS_OPTS", opts)]).test_client();
    let r = c
        .request(http::Method::OPTIONS, "/open")
        .header("origin", "https://api.b.example")
        .header("access-control-request-method", "POST")
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some("https://api.b.example"));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("access-control-allow-headers"), Some("x-token"));
    assert!(!r.header("access-control-allow-methods").unwrap().contains("DELETE"));
    let r = c.get("/open").header("origin", "http://a.example").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://a.example"));
    assert_eq!(r.header("access-control-expose-headers"), Some("x-total"));
    assert_eq!(c.get("/open").header("origin", "https://b.example").await.header("access-control-allow-origin"), None);
    // Default options: any origin, echoed.
    let c = app(&[("FSA_CORS", "true")]).test_client();
    let r = c.get("/open").header("origin", "http://any.example").await;
    assert_eq!(r.header("access-control-allow-origin"), Some("http://any.example"));
}

#[tokio::test]
async fn cors_bad_options_fail_the_build() {
    for opts in [
        r#"{origin = "http://x"}"#,
        r#"{methods = ["GE T"]}"#,
        r#"{send_wildcard = true, supports_credentials = true}"#,
        r#"{expose_headers = "*", supports_credentials = true}"#,
        r#"{max_age = "soon"}"#,
    ] {
        let e = builder(&[("FSA_CORS", "true"), ("FSA_CORS_OPTS", opts)]).build().unwrap_err();
        assert!(e.to_string().contains("FSA_CORS_OPTS"), "{opts}: {e}");
    }
}

// --------------------------------------------------------------------------------------- hooks

#[tokio::test]
async fn before_request_may_answer_early() {
    let app = builder(&[])
        .before_request(|ctx| {
            ctx.headers().contains_key("x-block").then(|| {
                let mut r = fsa::Response::new(fsa::Body::from("blocked"));
                *r.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
                r
            })
        })
        .build()
        .unwrap();
    let c = app.test_client();
    // Before routing and authentication: even unknown paths and protected routes.
    for path in ["/open", "/auth", "/nope"] {
        let r = c.get(path).header("x-block", "1").await;
        assert_eq!((r.status(), r.text()), (503, "blocked".to_owned()), "{path}");
    }
    assert_eq!(c.get("/open").await.status(), 200);
}

#[tokio::test]
async fn async_before_request_hook() {
    let c = builder(&[])
        .before_request_async(|head| async move {
            tokio::task::yield_now().await;
            (head.uri.path() == "/open" && head.headers.contains_key("x-limit")).then(|| {
                let mut r = fsa::Response::new(fsa::Body::from("slow down"));
                *r.status_mut() = http::StatusCode::TOO_MANY_REQUESTS;
                r
            })
        })
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/open").header("x-limit", "1").await;
    assert_eq!((r.status(), r.text()), (429, "slow down".to_owned()));
    assert_eq!(c.get("/open").await.status(), 200);
}

#[tokio::test]
async fn async_after_request_hook() {
    let c = builder(&[])
        .after_request_async(|head, mut resp| async move {
            tokio::task::yield_now().await;
            if head.headers.contains_key("x-panic") {
                panic!("async after hook");
            }
            resp.headers_mut().insert("x-async", http::HeaderValue::from_static("done"));
            resp
        })
        .add_header_with("x-seen-status", |r| Some(r.status().as_u16().to_string()))
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/open").await;
    assert_eq!((r.status(), r.text(), r.header("x-async")), (200, "open".to_owned(), Some("done")));
    let r = c.get("/auth").await;
    assert_eq!((r.status(), r.header("x-async")), (401, Some("done")));
    let r = c.get("/open").header("x-panic", "1").await;
    assert_eq!((r.status(), r.header("x-async"), r.header("x-seen-status")), (500, None, Some("500")));
}

fn teapot_hook(ctx: &Context) -> Option<fsa::Response> {
    if ctx.headers().get("x-teapot").is_some_and(|v| v == "yes") {
        let login = ctx.user().unwrap_or("None");
        let scheme = ctx.auth_scheme().unwrap_or("-");
        let mut r = fsa::Response::new(fsa::Body::from(format!("teapot for {login} ({scheme})")));
        *r.status_mut() = http::StatusCode::IM_A_TEAPOT;
        r.headers_mut().insert("content-type", http::HeaderValue::from_static("text/plain"));
        return Some(r);
    }
    None
}

#[tokio::test]
async fn before_exec_answers_after_all_checks() {
    let c = builder(&[]).before_exec(teapot_hook).build().unwrap().test_client();
    let r = c.get("/open").header("x-teapot", "yes").await;
    assert_eq!((r.status(), r.text()), (418, "teapot for None (-)".to_owned()));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    let r = c.get("/auth").basic("calvin", "hobbes").header("x-teapot", "yes").await;
    assert_eq!((r.status(), r.text()), (418, "teapot for calvin (basic)".to_owned()));
    // Authentication, parameters and permissions come first.
    assert_eq!(c.get("/auth").header("x-teapot", "yes").await.status(), 401);
    assert_eq!(c.get("/num?n=x").header("x-teapot", "yes").await.status(), 400);
    assert_eq!(c.get("/stuff/2").basic("calvin", "hobbes").header("x-teapot", "yes").await.status(), 403);
    assert_eq!(c.get("/stuff/1").basic("calvin", "hobbes").header("x-teapot", "yes").await.status(), 418);
    // Without the header the route runs.
    assert_eq!(c.get("/auth").basic("calvin", "hobbes").await.text(), "hello calvin");
}

/// `Context::path` is the path the router reads, so that a hook guarding a path sees it
/// whatever escapes or leading slashes the request adds.
#[tokio::test]
async fn hooks_see_the_routed_path() {
    let guard = |ctx: &Context| {
        let guarded = ctx.path() == "/open" && ctx.headers().contains_key("x-guard");
        guarded.then(|| ctx.error_response(Error::new(403, "guarded")))
    };
    let c = builder(&[]).before_request(guard).build().unwrap().test_client();
    for path in ["/open", "/%6Fpen", "//open", "///%6f%70en"] {
        assert_eq!(c.get(path).await.status(), 200, "{path}");
        assert_eq!(c.get(path).header("x-guard", "1").await.status(), 403, "{path}");
    }
}

/// A hook's refusal through `Context::error_response` takes the configured error format.
#[tokio::test]
async fn hook_errors_in_the_configured_format() {
    let closed = |ctx: &Context| {
        let down = ctx.headers().contains_key("x-down");
        down.then(|| ctx.error_response(Error::new(503, "down for maintenance")))
    };
    let c = builder(&[("FSA_ERROR_RESPONSE", "json:error")]).before_exec(closed).build().unwrap().test_client();
    let r = c.get("/open").header("x-down", "1").await;
    assert_eq!((r.status(), r.text()), (503, r#"{"error": "down for maintenance"}"#.to_owned()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let c = builder(&[]).before_request(closed).build().unwrap().test_client();
    let r = c.get("/open").header("x-down", "1").await;
    assert_eq!((r.status(), r.text()), (503, "down for maintenance".to_owned()));
    assert_eq!(c.get("/open").await.status(), 200);
}

#[tokio::test]
async fn after_request_and_added_headers() {
    let c = builder(&[("FSA_ADD_HEADERS", r#"{X-Config = "test"}"#)])
        .add_header("X-Features-Config", "fake")
        .add_header_with("x-features-status", |r| Some(r.status().as_u16().to_string()))
        .add_header_with("x-maybe", |r| r.status().is_success().then(|| "ok".to_owned()))
        .after_request(|ctx, resp| {
            if ctx.path() == "/teapot" {
                *resp.status_mut() = http::StatusCode::OK;
            }
            resp.headers_mut().insert("x-after", http::HeaderValue::from_static("seen"));
        })
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/auth").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("x-features-status"), Some("401"));
    assert_eq!(r.header("x-features-config"), Some("fake"));
    assert_eq!(r.header("x-config"), Some("test"));
    assert_eq!(r.header("x-after"), Some("seen"));
    assert_eq!(r.header("x-maybe"), None);
    let r = c.get("/open").await;
    assert_eq!((r.header("x-features-status"), r.header("x-maybe")), (Some("200"), Some("ok")));
    // The after-request hook changed the status, computed headers see the new one.
    let r = c.get("/teapot").await;
    assert_eq!((r.status(), r.header("x-features-status")), (200, Some("200")));
}

/// Statuses seen by the finalizers of `Audited` arguments, in order.
static AUDIT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

/// An argument whose finalizer records the response status, and fails when the request has
/// an `x-fail-finalizer` header (as a commit that fails would).
struct Audited;

impl fsa::Special for Audited {
    async fn extract(ctx: &mut Context, _name: &'static str) -> fsa::Result<Self> {
        let fail = ctx.headers().contains_key("x-fail-finalizer");
        ctx.on_response(move |status| async move {
            tokio::task::yield_now().await;
            AUDIT.lock().unwrap().push(status.as_u16());
            if fail { Err(Error::new(409, "finalizer failed")) } else { Ok(()) }
        });
        Ok(Audited)
    }
}

#[get("/audited", authorize = "OPEN")]
fn audited(_a: Audited, n: Option<i64>) -> fsa::Result<&'static str> {
    if n == Some(0) { Err(Error::bad_request("zero")) } else { Ok("audited") }
}

#[tokio::test]
async fn finalizers_see_the_status_and_may_replace_the_response() {
    // No CORS and no asynchronous after-request hook: the finalizer alone is awaited.
    let c = App::new()
        .routes(fsa::routes![audited])
        .after_request(|_ctx, resp| {
            resp.headers_mut().insert("x-after", http::HeaderValue::from_static("seen"));
        })
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/audited").await;
    assert_eq!((r.status(), r.text()), (200, "audited".to_owned()));
    let r = c.get("/audited?n=0").await;
    assert_eq!(r.status(), 400);
    // A failing finalizer replaces the response with its error's; after-request hooks follow.
    let r = c.get("/audited").header("x-fail-finalizer", "1").await;
    assert_eq!((r.status(), r.header("x-after")), (409, Some("seen")));
    assert!(r.text().contains("finalizer failed"), "{}", r.text());
    assert_eq!(*AUDIT.lock().unwrap(), [200, 400, 200]);
}

#[tokio::test]
async fn path_check_refuses_routes_at_build() {
    let e = builder(&[])
        .path_check(|_method, path| path.contains("boom").then(|| format!("no boom in {path}")))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("no boom in /boom"), "{e}");
    assert!(!e.to_string().contains("/open"), "{e}");
    let app = builder(&[]).path_check(|method, _| (method == "DELETE").then(|| "no DELETE".into())).build();
    assert!(app.is_ok());
}

#[tokio::test]
async fn error_hook_renders_errors() {
    let c = builder(&[])
        .error_response(|e, ctx| {
            (e.status() == 418).then(|| fsa::Response::new(fsa::Body::from(format!("custom {} on {}", e, ctx.path()))))
        })
        .build()
        .unwrap()
        .test_client();
    assert_eq!(c.get("/teapot").await.text(), "custom 418 I am a teapot on /teapot");
    // Other errors keep the configured format.
    assert_eq!(c.get("/num").await.status(), 400);
}

#[tokio::test]
async fn panicking_hooks_become_server_errors() {
    let c = builder(&[("FSA_ERROR_RESPONSE", "json:error")])
        .before_request(|ctx| {
            if ctx.path() == "/open" && ctx.headers().contains_key("x-a") { panic!("hook a") } else { None }
        })
        .after_request(|ctx, _| {
            if ctx.headers().contains_key("x-b") {
                panic!("hook b")
            }
        })
        .error_response(|e, _| if e.status() == 418 { panic!("hook c") } else { None })
        .before_exec(|ctx| if ctx.headers().contains_key("x-d") { panic!("hook d") } else { None })
        .add_header_with("x-computed", |r| if r.status() == 404 { panic!("hook e") } else { None })
        .build()
        .unwrap()
        .test_client();
    for (path, h) in [("/open", "x-a"), ("/open", "x-b"), ("/teapot", "x-c"), ("/open", "x-d"), ("/nope", "x-e")] {
        let r = c.get(path).header(h, "1").await;
        assert_eq!(r.status(), 500, "{h}");
        assert!(!r.text().contains("hook"), "{h}: {}", r.text());
        assert!(r.json()["error"].is_string(), "{h}: {}", r.text());
    }
    assert_eq!(c.get("/open").await.text(), "open");
}

#[tokio::test]
async fn panicking_client_address_hook() {
    let c = builder(&[])
        .client_addr(|parts, peer| if parts.headers.contains_key("x-f") { panic!("hook f") } else { peer })
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/open").header("x-f", "1").await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("hook"));
    assert_eq!(c.get("/open").await.status(), 200);
}

// ------------------------------------------------------------------------------ modes and errors

#[tokio::test]
async fn dev_headers_only_in_dev_and_debug_modes() {
    let c = app(&[]).test_client();
    let r = c.get("/auth").basic("calvin", "hobbes").await;
    assert_eq!(r.header("fsa-request"), None);
    assert_eq!(r.header("fsa-user"), None);
    assert_eq!(r.header("fsa-delay"), None);
    for mode in ["dev", "debug1", "debug4"] {
        let c = app(&[("FSA_MODE", mode)]).test_client();
        let r = c.get("/auth?").basic("calvin", "hobbes").await;
        assert_eq!(r.header("fsa-request"), Some("GET /auth"), "{mode}");
        assert_eq!(r.header("fsa-user"), Some("calvin (basic)"), "{mode}");
        let delay: f64 = r.header("fsa-delay").unwrap().parse().unwrap();
        assert!(delay >= 0.0);
        // Every response, errors included, as FlaskSimpleAuth writes them: `None (None)` when
        // no authentication was tried, `None (none)` when it was and failed.
        let r = c.post("/nope").await;
        assert_eq!(
            (r.status(), r.header("fsa-request"), r.header("fsa-user")),
            (404, Some("POST /nope"), Some("None (None)"))
        );
        assert!(r.header("fsa-delay").is_some());
        assert_eq!(c.get("/open").await.header("fsa-user"), Some("None (None)"), "{mode}");
        let r = c.get("/auth").basic("calvin", "wrong").await;
        assert_eq!((r.status(), r.header("fsa-user")), (401, Some("None (none)")), "{mode}");
        let r = c.get("/auth").await;
        assert_eq!((r.status(), r.header("fsa-user")), (401, Some("None (none)")), "{mode}");
    }
    assert!(builder(&[("FSA_MODE", "verbose")]).build().is_err());
}

#[tokio::test]
async fn login_with_crlf_never_reaches_a_header() {
    let c = App::new()
        .config("FSA_AUTH", "fake")
        .config("FSA_MODE", "dev")
        .routes(fsa::routes![auth])
        .build()
        .unwrap()
        .test_client();
    let r = c.get("/auth").query(&[("LOGIN", "eve\r\nX-Injected: 1")]).await;
    assert_eq!(r.status(), 200);
    assert!(r.header("x-injected").is_none());
    assert!(r.headers().values().all(|v| !v.as_bytes().contains(&b'\n')));
    assert_eq!(c.get("/auth").query(&[("LOGIN", "hobbes")]).await.header("fsa-user"), Some("hobbes (fake)"));
}

#[tokio::test]
async fn routing_errors_follow_the_error_format() {
    let c = app(&[("FSA_ERROR_RESPONSE", "json:error")]).test_client();
    let r = c.get("/nope").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.json()["error"].is_string());
    let r = c.delete("/open").await;
    assert_eq!(r.status(), 405);
    assert!(r.json()["error"].is_string());
    let r = c.get("/teapot").await;
    assert_eq!((r.status(), r.json()), (418, serde_json::json!({"error": "I am a teapot"})));
    // Without FSA_HANDLE_ALL_ERRORS routing errors stay plain text.
    let c = app(&[("FSA_ERROR_RESPONSE", "json:error"), ("FSA_HANDLE_ALL_ERRORS", "false")]).test_client();
    let r = c.get("/nope").await;
    assert_eq!(r.status(), 404);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(c.get("/teapot").await.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn handler_panic_is_a_server_error_and_serving_goes_on() {
    let c = app(&[("FSA_ERROR_RESPONSE", "json:error")]).test_client();
    let r = c.get("/boom").await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("boom: secret"), "{}", r.text());
    assert!(r.json()["error"].is_string());
    assert_eq!(c.get("/open").await.text(), "open");
    let c = app(&[("FSA_SERVER_ERROR", "503")]).test_client();
    assert_eq!(c.get("/boom").await.status(), 503);
    assert_eq!(c.get("/open").await.status(), 200);
    assert!(builder(&[("FSA_SERVER_ERROR", "1000")]).build().is_err());
}

/// `?` on an I/O error, a poisoned lock or a failed blocking task answers an internal error
/// in the configured format and status; the cause stays in the log.
#[tokio::test]
async fn question_mark_on_std_failures_is_an_internal_error() {
    let c = app(&[("FSA_ERROR_RESPONSE", "json:error"), ("FSA_SERVER_ERROR", "503")]).test_client();
    for path in ["/io", "/poisoned", "/join"] {
        let r = c.get(path).await;
        assert_eq!((r.status(), r.json()), (503, serde_json::json!({"error": "internal error"})), "{path}");
    }
    assert_eq!(c.get("/open").await.status(), 200);
}

#[tokio::test]
async fn keep_user_errors_lets_panics_propagate() {
    let c = app(&[("FSA_KEEP_USER_ERRORS", "true")]).test_client();
    let join = tokio::spawn(async move { c.get("/boom").await.status() }).await;
    assert!(join.unwrap_err().is_panic());
}

#[tokio::test]
async fn not_found_error_status() {
    let c = app(&[("FSA_NOT_FOUND_ERROR", "410")]).test_client();
    assert_eq!(c.get("/stuff/0").basic("calvin", "hobbes").await.status(), 410);
    assert_eq!(c.get("/stuff/1").basic("calvin", "hobbes").await.status(), 200);
    assert_eq!(app(&[]).test_client().get("/stuff/0").basic("calvin", "hobbes").await.status(), 404);
}

#[tokio::test]
async fn unauthorized_redirect() {
    let c = app(&[("FSA_401_REDIRECT", "/login-page"), ("FSA_URL_NAME", "next")]).test_client();
    let r = c.get("/auth?x=1").await;
    assert_eq!(r.status(), 307);
    assert_eq!(r.header("location"), Some("/login-page?next=%2Fauth%3Fx%3D1"));
    // The path and query alone, from a request target with a scheme and a host too (HTTP/2,
    // absolute form).
    let r = c.get("http://app.example/auth?x=1").await;
    assert_eq!(r.header("location"), Some("/login-page?next=%2Fauth%3Fx%3D1"));
    // Only GET carries the original URL.
    let r = c.post("/auth").await;
    assert_eq!((r.status(), r.header("location")), (307, Some("/login-page")));
    assert_eq!(c.get("/auth").basic("calvin", "hobbes").await.status(), 200);
    // Default name URL.
    let c = app(&[("FSA_401_REDIRECT", "https://sso.example/login?app=1")]).test_client();
    assert_eq!(c.get("/auth").await.header("location"), Some("https://sso.example/login?app=1&URL=%2Fauth"));
    // No redirect configured: a plain 401.
    assert_eq!(app(&[]).test_client().get("/auth").await.status(), 401);
}

#[tokio::test]
async fn secure_mode() {
    let c = app(&[]).test_client();
    let r = c.get("/nope").peer("10.0.0.1").await;
    assert_eq!(r.status(), 500);
    assert!(r.text().contains("insecure"));
    assert_eq!(c.get("/open").peer("10.0.0.1").tls().await.status(), 200);
    assert_eq!(c.get("/open").peer("::1").await.status(), 200);
    // X-Forwarded-Proto only counts from a trusted proxy.
    assert_eq!(c.get("/open").peer("10.0.0.1").header("x-forwarded-proto", "https").await.status(), 500);
    let c = app(&[("FSA_TRUSTED_PROXIES", "10.0.0.1")]).test_client();
    assert_eq!(c.get("/open").peer("10.0.0.1").header("x-forwarded-proto", "https").await.status(), 200);
    assert_eq!(c.get("/open").peer("10.0.0.1").header("x-forwarded-proto", "http").await.status(), 500);
    assert_eq!(c.get("/open").peer("10.0.0.2").header("x-forwarded-proto", "https").await.status(), 500);
    // CIDR blocks, as for the httpd scheme.
    let c = app(&[("FSA_TRUSTED_PROXIES", "[\"10.0.0.0/8\", \"fd00::/8\"]")]).test_client();
    assert_eq!(c.get("/open").peer("10.1.2.3").header("x-forwarded-proto", "https").await.status(), 200);
    assert_eq!(c.get("/open").peer("fd12::1").header("x-forwarded-proto", "https").await.status(), 200);
    assert_eq!(c.get("/open").peer("11.0.0.1").header("x-forwarded-proto", "https").await.status(), 500);
    let c = app(&[("FSA_SECURE", "false")]).test_client();
    assert_eq!(c.get("/open").peer("10.0.0.1").await.status(), 200);
    // Behind a proxy whose client address comes from `X-Forwarded-For` through the hook, the
    // proxy trusted for `X-Forwarded-Proto` is still the TCP peer.
    let forwarded_for = |parts: &http::request::Parts, peer: Option<std::net::IpAddr>| {
        let xff = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        xff.and_then(|v| v.trim().parse().ok()).or(peer)
    };
    let c = builder(&[("FSA_TRUSTED_PROXIES", "10.0.0.1")]).client_addr(forwarded_for).build().unwrap().test_client();
    let proxied =
        |peer, client| c.get("/open").peer(peer).header("x-forwarded-for", client).header("x-forwarded-proto", "https");
    assert_eq!(proxied("10.0.0.1", "203.0.113.5").await.status(), 200);
    let r = proxied("203.0.113.9", "10.0.0.1").await;
    assert_eq!(r.status(), 500);
    assert!(r.text().contains("insecure"));
}

#[test]
fn settings_written_to_the_fields_are_checked_at_build() {
    let refused = |f: fn(&mut fsa::Config), directive: &str| {
        let e = builder(&[]).configure(f).build().map(drop).unwrap_err();
        assert!(e.0.contains(directive), "{directive}: {e}");
    };
    refused(|c| c.server_header_timeout = -1.0, "FSA_SERVER_HEADER_TIMEOUT");
    refused(|c| c.server_shutdown_timeout = f64::INFINITY, "FSA_SERVER_SHUTDOWN_TIMEOUT");
    refused(|c| c.token_delay = f64::NAN, "FSA_TOKEN_DELAY");
    refused(|c| c.token_grace = -5.0, "FSA_TOKEN_GRACE");
    refused(|c| c.token_renewal = -0.5, "FSA_TOKEN_RENEWAL");
    refused(|c| c.server_error = 1000, "FSA_SERVER_ERROR");
    refused(|c| c.not_found_error = 42, "FSA_NOT_FOUND_ERROR");
    refused(|c| c.logging_level = Some("loud".into()), "FSA_LOGGING_LEVEL");
    // As through `set`: the least limits are raised to, not refused.
    let app = builder(&[])
        .configure(|c| {
            c.server_max_connections = 0;
            c.server_max_header_size = 10;
        })
        .build()
        .unwrap();
    assert_eq!((app.config().server_max_connections, app.config().server_max_header_size), (1, 8192));
    // And through `set`, a token delay beyond 1e9 seconds.
    let e = builder(&[("FSA_TOKEN_DELAY", "1e300")]).build().map(drop).unwrap_err();
    assert!(e.0.contains("FSA_TOKEN_DELAY expects a number of minutes"), "{e}");
}

// ------------------------------------------------------------------------------ documentation

#[test]
fn every_documented_directive_is_known() {
    let doc = include_str!("../docs/CONFIG.md");
    let mut seen = 0;
    for line in doc.lines().filter(|l| l.starts_with("| `FSA_")) {
        let name = line.trim_start_matches("| `").split('`').next().unwrap();
        seen += 1;
        let mut config = fsa::Config::default();
        if let Err(e) = config.set(name, parse_env_value("")) {
            assert!(!e.0.contains("unexpected FSA_* directive"), "{name} is documented but unknown");
        }
    }
    assert!(seen > 60, "{seen}");
    for (name, _) in fsa::config::LEFT_OUT {
        assert!(doc.contains(&format!("| `{name}` |")), "{name} is not documented");
    }
    for typo in ["FSA_SPECIAL_PARAMETERS", "FSA_REJECT_UNEXPECTED_PARAMS", "FSA_AUHT"] {
        let e = fsa::Config::default().set(typo, "x").unwrap_err();
        assert!(e.0.contains("unexpected"), "{typo}");
    }
}
