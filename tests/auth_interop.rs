//! Interoperability with FlaskSimpleAuth 36.0, from the vectors its own code generated
//! (`tests/data/interop.json`, made by `scripts/interop/gen_vectors.py`).
//!
//! Both directions: fsa must mint byte-for-byte the token Python minted for the same inputs
//! (so Python accepts fsa's tokens), and must accept (or reject, with the same status) the
//! tokens Python made. The tokens fsa makes are also written to
//! `$CARGO_TARGET_TMPDIR/rust_tokens.json` and must equal the committed
//! `tests/data/rust_tokens.json`, which `scripts/interop/check_rust_tokens.py` checks with the
//! Python library.
//! No Python is needed to run these tests.

use fsa::prelude::*;
use fsa::{Scopes, TestResponse};
use serde_json::{Value, json};

const VECTORS: &str = include_str!("data/interop.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("tests/data/interop.json is valid JSON")
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("missing string {k} in {v}"))
}

#[get("/who", authorize = "AUTH")]
async fn who(user: CurrentUser, scopes: Scopes) -> Json<Value> {
    let scopes = if scopes.0.is_empty() { Value::Null } else { json!(scopes.0) };
    Json(json!({"user": user.0, "scopes": scopes}))
}

/// An app configured like the generator's `make_app` for one vector.
fn app_for(v: &Value, jwt: bool) -> App {
    let realm = v.get("config_realm").and_then(Value::as_str).unwrap_or_else(|| s(v, "realm"));
    let mut b = App::new()
        .config("FSA_AUTH", "token")
        .config("FSA_REALM", realm)
        .config("FSA_TOKEN_SECRET", s(v, "secret"))
        .config("FSA_TOKEN_ALGO", s(v, "algo"))
        .config("FSA_TOKEN_TYPE", if jwt { "jwt" } else { "fsa" });
    if !jwt {
        b = b.config("FSA_TOKEN_LENGTH", v["length"].as_i64().unwrap_or(16));
    }
    if let Some(i) = v["issuer"].as_str() {
        b = b.config("FSA_TOKEN_ISSUER", i);
    }
    b.routes(fsa::routes![who]).build().expect("vector app builds")
}

async fn present(app: &App, token: &str) -> TestResponse {
    app.test_client().get("/who").bearer(token).await
}

fn fsa_limit_to_epoch(limit: &str) -> i64 {
    fsa::token::parse_limit(limit).expect("vector limits are valid")
}

#[tokio::test]
async fn python_fsa_tokens_are_reproduced_and_accepted() {
    let data = vectors();
    let tokens = data["fsa_tokens"].as_array().unwrap();
    assert!(tokens.len() >= 15);
    for v in tokens {
        let app = app_for(v, false);
        let token = s(v, "token");
        // Same inputs, same token, byte for byte.
        let exp = fsa_limit_to_epoch(s(v, "limit"));
        let mine = app.create_token(s(v, "login"), TokenOptions::default().expires_at(exp)).unwrap();
        assert_eq!(mine, token, "fsa token for {v}");
        // Python's token through the HTTP surface.
        let r = present(&app, token).await;
        if v["expired"].as_bool() == Some(true) {
            assert_eq!(r.status(), 401, "{token}");
            assert!(r.text().contains("expired"), "{token}: {}", r.text());
        } else {
            assert_eq!(r.status(), 200, "{token}: {}", r.text());
            assert_eq!(r.json()["user"], v["login"], "{token}");
        }
    }
}

#[tokio::test]
async fn python_rejected_fsa_tokens_are_rejected_the_same_way() {
    let data = vectors();
    let rejects = data["fsa_rejects"].as_array().unwrap();
    assert!(rejects.len() >= 8);
    for v in rejects {
        let app = app_for(v, false);
        let r = present(&app, s(v, "token")).await;
        // Same status, except that fsa answers a malformed expiry with 401 where upstream says 400.
        let expected = match v["status"].as_i64().unwrap() {
            400 => 401,
            other => other,
        };
        assert_eq!(r.status() as i64, expected, "{}: {}", s(v, "reason"), r.text());
        // Upstream's message, without the token it echoes.
        assert!(s(v, "message").starts_with(&r.text()), "{}: {} vs {}", s(v, "reason"), r.text(), s(v, "message"));
        if r.status() == 401 {
            assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer realm=")));
        }
    }
}

#[test]
fn realm_simplification_matches_python() {
    let data = vectors();
    for v in data["realm_simplification"].as_array().unwrap() {
        assert_eq!(fsa::token::simplify_realm(s(v, "input")), s(v, "realm"), "{v}");
    }
}

#[tokio::test]
async fn python_jwt_tokens_are_reproduced_and_accepted() {
    let data = vectors();
    let tokens = data["jwt_tokens"].as_array().unwrap();
    assert!(tokens.len() >= 6);
    for v in tokens {
        let app = app_for(v, true);
        let token = s(v, "token");
        let mut opts = TokenOptions::default().expires_at(v["exp"].as_i64().unwrap());
        if let Some(scope) = v["scope"].as_array() {
            opts = opts.scopes(scope.iter().filter_map(Value::as_str));
        }
        let mine = app.create_token(s(v, "login"), opts).unwrap();
        assert_eq!(mine, token, "jwt for {v}");
        let r = present(&app, token).await;
        if v["expired"].as_bool() == Some(true) {
            assert_eq!(r.status(), 401, "{token}");
            assert!(r.text().contains("expired"), "{token}: {}", r.text());
        } else {
            assert_eq!(r.status(), 200, "{token}: {}", r.text());
            let got = r.json();
            assert_eq!(got["user"], v["login"]);
            let want = match v["scope"].as_array() {
                Some(a) if !a.is_empty() => v["scope"].clone(),
                _ => Value::Null,
            };
            assert_eq!(got["scopes"], want, "{token}");
        }
    }
}

#[tokio::test]
async fn python_bcrypt_hashes_verify() {
    let app = App::new().routes(fsa::routes![who]).build().unwrap();
    let data = vectors();
    let hashes = data["bcrypt"].as_array().unwrap();
    let prefixes: std::collections::BTreeSet<&str> = hashes.iter().map(|v| s(v, "prefix")).collect();
    assert_eq!(prefixes.into_iter().collect::<Vec<_>>(), ["2a", "2b", "2y"]);
    for v in hashes {
        let (pwd, hash) = (s(v, "password"), s(v, "hash"));
        assert!(app.check_password(pwd, hash).await, "{v}");
        if let Some(wrong) = v["wrong"].as_str() {
            assert!(!app.check_password(wrong, hash).await, "{v}");
        }
    }
}

/// bcrypt and argon2 hashes made here, in FlaskSimpleAuth's layout; they are also written to
/// `$CARGO_TARGET_TMPDIR/rust_hashes.tsv` (scheme, password, hash) for a check by Python.
#[tokio::test]
async fn rust_hashes_have_python_layout() {
    let mut lines = String::new();
    for (scheme, prefix) in [("bcrypt", "$2b$04$"), ("argon2", "$argon2id$v=19$m=1000,t=1,p=1$")] {
        let app = App::new().config("FSA_PASSWORD_SCHEME", scheme).routes(fsa::routes![who]).build().unwrap();
        for pwd in ["hello", "été", "pâssw0rd ünïcödé ✓", ""] {
            let h = app.hash_password(pwd).await.unwrap();
            assert!(h.starts_with(prefix), "{h}");
            assert!(scheme != "bcrypt" || h.len() == 60, "{h}");
            assert!(app.check_password(pwd, &h).await);
            assert!(!app.check_password(&format!("{pwd}!"), &h).await);
            lines.push_str(&format!("{scheme}\t{pwd}\t{h}\n"));
        }
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust_hashes.tsv");
    std::fs::write(path, lines).unwrap();
}

/// Mints fresh tokens with fsa for the inputs of every vector (new expiries, so nothing is
/// copied from Python) and writes them in `check_rust_tokens.py`'s format.
#[tokio::test]
async fn rust_tokens_for_python() {
    let data = vectors();
    let mut out = Vec::new();
    // Fixed expiries (as the Python vectors), so that the output is deterministic.
    let future = fsa::token::parse_limit("20991231235959").unwrap();
    for (kind, list) in [("fsa", &data["fsa_tokens"]), ("jwt", &data["jwt_tokens"])] {
        for v in list.as_array().unwrap() {
            let jwt = kind == "jwt";
            let app = app_for(v, jwt);
            let expired = v["expired"].as_bool() == Some(true);
            let exp = if expired { 1_000_000_000 } else { future };
            let login = format!("{}-rust", s(v, "login"));
            let mut opts = TokenOptions::default().expires_at(exp);
            let scope = v["scope"].as_array().cloned();
            if let Some(sc) = &scope {
                opts = opts.scopes(sc.iter().filter_map(Value::as_str));
            }
            let token = app.create_token(&login, opts).unwrap();
            // Check it here too, through HTTP.
            let r = present(&app, &token).await;
            assert_eq!(r.status(), if expired { 401 } else { 200 }, "{token}: {}", r.text());
            let realm = if jwt { v.get("config_realm").unwrap_or(&v["realm"]).clone() } else { v["realm"].clone() };
            let mut item = json!({
                "type": kind, "realm": realm, "issuer": v["issuer"], "login": login,
                "secret": v["secret"], "algo": v["algo"], "length": v.get("length").cloned().unwrap_or(json!(16)),
                "token": token,
            });
            if expired {
                item["expired"] = json!(true);
            }
            if jwt {
                item["scope"] = scope.map(Value::Array).unwrap_or(Value::Null);
            }
            out.push(item);
        }
    }
    let text = serde_json::to_string_pretty(&json!({"tokens": out})).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust_tokens.json");
    std::fs::write(&path, &text).unwrap();
    // The committed copy, checked by scripts/interop/check_rust_tokens.py, must stay current.
    // Compared as JSON values: key order depends on serde_json's features in the build.
    let committed: Value = serde_json::from_str(include_str!("data/rust_tokens.json")).unwrap();
    assert_eq!(committed, json!({"tokens": out}), "tests/data/rust_tokens.json is stale: copy {}", path.display());
}
