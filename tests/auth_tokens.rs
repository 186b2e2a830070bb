//! Tokens through the HTTP surface: fsa and JWT formats, every carrier, expiry and grace,
//! realms, issuers, tampering, `alg: none`, algorithm confusion, public-key algorithms, OAuth
//! scopes and the cookie carrier's issuing and renewal rules.
//!
//! The PEM keys in `tests/data/keys` were made with `openssl genpkey` for these tests only.

use base64::Engine;
use fsa::prelude::*;
use fsa::{CurrentScheme, Scopes};
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn list(items: &[&str]) -> fsa::config::Value {
    fsa::config::Value::Array(items.iter().map(|s| fsa::config::Value::String((*s).to_owned())).collect())
}

fn now() -> i64 {
    fsa::token::now()
}

#[get("/whoami", authorize = "AUTH")]
async fn whoami(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user.0, "scheme": scheme.0}))
}

#[get("/token-only", authorize = "AUTH", auth = "token")]
async fn token_only(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

#[get("/mfa", authorize = "AUTH", auth = "token", realm = "mfa")]
async fn mfa(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

#[get("/hash-free", authorize = "OPEN")]
async fn hash_free() -> &'static str {
    "ok"
}

fn fsa_app(extra: &[(&str, fsa::config::Value)]) -> App {
    let mut b = App::new()
        .config("FSA_AUTH", list(&["token", "basic", "none"]))
        .config("FSA_REALM", "features")
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .config("FSA_TOKEN_SECRET", "main-config-token-secret-0123456789")
        .get_user_pass(|login| async move { Ok((login == "calvin").then(|| "hobbes".to_owned())) });
    for (k, v) in extra {
        b = b.config(k, v.clone());
    }
    b.routes(fsa::routes![whoami, token_only, mfa, hash_free]).build().unwrap()
}

#[tokio::test]
async fn fsa_bearer_token_life_cycle() {
    let app = fsa_app(&[]);
    let c = app.test_client();
    let token = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert!(token.starts_with("features:calvin:"), "{token}");
    let r = c.get("/whoami").bearer(&token).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "token"})));
    // A delay of any size makes a token that lasts as long as the format can say.
    let lasting = app.create_token("calvin", TokenOptions::default().delay(1e300)).unwrap();
    assert_eq!(c.get("/whoami").bearer(&lasting).await.status(), 200, "{lasting}");
    // Expired.
    let old = app.create_token("calvin", TokenOptions::default().expires_at(now() - 120)).unwrap();
    let r = c.get("/token-only").bearer(&old).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("expired"), "{}", r.text());
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"features\""));
    // Tampered signature, login or limit.
    let mut bad_sig = token.clone();
    let last = bad_sig.pop().unwrap();
    bad_sig.push(if last == '0' { '1' } else { '0' });
    let bad_login = token.replacen(":calvin:", ":hobbes:", 1);
    let (head, sig) = token.rsplit_once(':').unwrap();
    let (data, _) = head.rsplit_once(':').unwrap();
    let bad_limit = format!("{data}:20991231235959:{sig}");
    for t in [&bad_sig, &bad_login, &bad_limit, &format!("{token}:x"), &"features:calvin".to_owned()] {
        let r = c.get("/token-only").bearer(t).await;
        assert_eq!(r.status(), 401, "{t}");
    }
    // A malformed limit is a 401 too (upstream answers 400).
    let r = c.get("/token-only").bearer("features:calvin:2099:00").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("timestamp"), "{}", r.text());
    // Another secret.
    let other = app.create_token("calvin", TokenOptions::default().secret("another secret 0123456789")).unwrap();
    assert_eq!(c.get("/token-only").bearer(&other).await.status(), 401);
    // Bearer word is case-sensitive and exact.
    let r = c.get("/token-only").header("authorization", &format!("bearer {token}")).await;
    assert_eq!(r.status(), 401);
    // One space after it: a second one belongs to the token, which is then invalid.
    let r = c.get("/token-only").header("authorization", &format!("Bearer  {token}")).await;
    assert_eq!(r.status(), 401);
    let r = c.get("/token-only").header("authorization", &format!("Bearer {token}")).await;
    assert_eq!(r.status(), 200);
    // A well-signed token for the empty login authenticates nobody, as upstream reads it.
    let empty = app.create_token("", TokenOptions::default()).unwrap();
    assert!(empty.starts_with("features::"), "{empty}");
    let r = c.get("/token-only").bearer(&empty).await;
    assert_eq!((r.status(), r.text()), (401, "missing authentication".to_owned()));
}

#[tokio::test]
async fn expiry_is_rechecked_after_cached_validations() {
    for extra in [vec![], vec![("FSA_TOKEN_TYPE", "jwt".into())]] {
        let app = fsa_app(&extra);
        let c = app.test_client();
        // As upstream (and PyJWT), a token is expired once its second of expiry has begun.
        let ending = app.create_token("calvin", TokenOptions::default().expires_at(now())).unwrap();
        let r = c.get("/token-only").bearer(&ending).await;
        assert_eq!(r.status(), 401, "{extra:?}");
        assert!(r.text().contains("expired"), "{}", r.text());
        let t = app.create_token("calvin", TokenOptions::default().expires_at(now() + 2)).unwrap();
        assert_eq!(c.get("/token-only").bearer(&t).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        let r = c.get("/token-only").bearer(&t).await;
        assert_eq!(r.status(), 401);
        assert!(r.text().contains("expired"), "{}", r.text());
    }
}

#[tokio::test]
async fn fsa_grace_period() {
    let app = fsa_app(&[("FSA_TOKEN_GRACE", 5.into())]);
    let c = app.test_client();
    let recent = app.create_token("calvin", TokenOptions::default().expires_at(now() - 60)).unwrap();
    assert_eq!(c.get("/token-only").bearer(&recent).await.status(), 200);
    let old = app.create_token("calvin", TokenOptions::default().expires_at(now() - 600)).unwrap();
    let r = c.get("/token-only").bearer(&old).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("expired"));
}

#[tokio::test]
async fn realms_and_issuers() {
    let app = fsa_app(&[]);
    let c = app.test_client();
    let main = app.create_token("calvin", TokenOptions::default()).unwrap();
    let mfa_token = app.create_token("calvin", TokenOptions::realm("mfa")).unwrap();
    // A route realm accepts only its tokens, and says so in its challenge.
    assert_eq!(c.get("/mfa").bearer(&mfa_token).await.json(), json!({"user": "calvin"}));
    let r = c.get("/mfa").bearer(&main).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("realm"), "{}", r.text());
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"mfa\""));
    assert_eq!(c.get("/token-only").bearer(&mfa_token).await.status(), 401);
    assert_eq!(c.get("/token-only").bearer(&main).await.status(), 200);
    // Issuer: the realm part becomes realm/issuer, and must match.
    let issued = fsa_app(&[("FSA_TOKEN_ISSUER", "auth.example.com".into())]);
    let t = issued.create_token("calvin", TokenOptions::default()).unwrap();
    assert!(t.starts_with("features/auth.example.com:calvin:"), "{t}");
    let ic = issued.test_client();
    assert_eq!(ic.get("/token-only").bearer(&t).await.status(), 200);
    assert_eq!(ic.get("/token-only").bearer(&main).await.status(), 401);
    let wrong = issued.create_token("calvin", TokenOptions::default().issuer("elsewhere")).unwrap();
    assert_eq!(ic.get("/token-only").bearer(&wrong).await.status(), 401);
    assert_eq!(c.get("/token-only").bearer(&t).await.status(), 401);
}

#[tokio::test]
async fn other_carriers() {
    // Custom bearer word.
    let app = fsa_app(&[("FSA_TOKEN_NAME", "Token".into())]);
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/token-only").header("authorization", &format!("Token {t}")).await.status(), 200);
    let r = c.get("/token-only").bearer(&t).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Token realm=\"features\""));
    // Header carrier, default name Auth, then a custom name.
    let app = fsa_app(&[("FSA_TOKEN_CARRIER", "header".into())]);
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/token-only").header("Auth", &t).await.json(), json!({"user": "calvin"}));
    // Spaces around the token are trimmed; bytes that are not UTF-8 make an invalid token.
    assert_eq!(c.get("/token-only").header("Auth", &format!(" {t} ")).await.status(), 200);
    let r = c.get("/token-only").header_bytes("Auth", b"caf\xe9").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("invalid fsa token"), "{}", r.text());
    let r = c.get("/token-only").bearer(&t).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), None);
    let app = fsa_app(&[("FSA_TOKEN_CARRIER", "header".into()), ("FSA_TOKEN_NAME", "X-Session".into())]);
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(app.test_client().get("/token-only").header("x-session", &t).await.status(), 200);
    // Cookie carrier.
    let app = fsa_app(&[("FSA_TOKEN_CARRIER", "cookie".into())]);
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(app.test_client().get("/token-only").cookie("auth", &t).await.status(), 200);
    assert_eq!(app.test_client().get("/token-only").bearer(&t).await.status(), 401);
    // Param carrier: query, form, JSON; the name is not an unexpected parameter.
    let app = fsa_app(&[("FSA_TOKEN_CARRIER", "param".into())]);
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/token-only").query(&[("AUTH", &t)]).await.status(), 200);
    assert_eq!(c.get("/hash-free").query(&[("AUTH", &t)]).await.status(), 200);
    assert_eq!(c.get("/token-only").bearer(&t).await.status(), 401);
}

#[tokio::test]
async fn secrets_and_disabled_tokens() {
    // Random per-process secrets: each app only trusts its own tokens.
    let a = App::new().config("FSA_AUTH", "basic").routes(fsa::routes![token_only]).build().unwrap();
    let b = App::new().config("FSA_AUTH", "basic").routes(fsa::routes![token_only]).build().unwrap();
    let t = a.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(a.test_client().get("/token-only").bearer(&t).await.status(), 200);
    assert_eq!(b.test_client().get("/token-only").bearer(&t).await.status(), 401);
    // FSA_TOKEN_TYPE none: no token scheme, no token creation.
    let off = fsa_app(&[("FSA_TOKEN_TYPE", "none".into())]);
    assert!(off.create_token("calvin", TokenOptions::default()).is_err());
    let r = off.test_client().get("/whoami").bearer(&t).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"features\""));
}

// ---------------------------------------------------------------- JWT

const JWT_SECRET: &str = "jwt-config-token-secret-0123456789";

fn jwt_app(extra: &[(&str, fsa::config::Value)]) -> App {
    let mut b = App::new()
        .config("FSA_AUTH", list(&["token", "basic"]))
        .config("FSA_TOKEN_TYPE", "jwt")
        .config("FSA_REALM", "features-jwt")
        .config("FSA_TOKEN_ISSUER", "features-issuer")
        .config("FSA_TOKEN_SECRET", JWT_SECRET)
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .get_user_pass(|login| async move { Ok((login == "calvin").then(|| "hobbes".to_owned())) });
    for (k, v) in extra {
        b = b.config(k, v.clone());
    }
    b.routes(fsa::routes![whoami, token_only, mfa]).build().unwrap()
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
}

fn header_of(token: &str) -> Value {
    serde_json::from_slice(&B64.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

/// Signs arbitrary claims with HS256 and the app's secret.
fn forge(claims: &Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), claims, &key).unwrap()
}

#[tokio::test]
async fn jwt_claims_and_validation() {
    let app = jwt_app(&[]);
    let c = app.test_client();
    let t = app.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(header_of(&t), json!({"alg": "HS256", "typ": "JWT"}));
    let cl = claims_of(&t);
    assert!(cl["exp"].is_i64(), "{cl}");
    assert_eq!(
        (cl["sub"].clone(), cl["aud"].clone(), cl["iss"].clone()),
        (json!("calvin"), json!("features-jwt"), json!("features-issuer"))
    );
    assert!(cl.get("scope").is_none(), "no scope claim when there is no scope: {cl}");
    let scoped = app.create_token("calvin", TokenOptions::default().scopes(["read", "write"])).unwrap();
    assert_eq!(claims_of(&scoped)["scope"], "read write");
    let empty = app.create_token("calvin", TokenOptions::default().scopes(Vec::<String>::new())).unwrap();
    assert!(claims_of(&empty).get("scope").is_none());
    let r = c.get("/whoami").bearer(&t).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "scheme": "token"})));

    let exp = now() + 600;
    let good = json!({"exp": exp, "sub": "calvin", "aud": "features-jwt", "iss": "features-issuer"});
    assert_eq!(c.get("/token-only").bearer(&forge(&good, JWT_SECRET)).await.status(), 200);
    let mut cases: Vec<(&str, String)> = Vec::new();
    let with = |k: &str, v: Value| {
        let mut x = good.clone();
        x[k] = v;
        x
    };
    let without = |k: &str| {
        let mut x = good.clone();
        x.as_object_mut().unwrap().remove(k);
        x
    };
    cases.push(("wrong secret", forge(&good, "not the secret at all 0123456789")));
    cases.push(("wrong audience", forge(&with("aud", json!("other")), JWT_SECRET)));
    cases.push(("wrong issuer", forge(&with("iss", json!("evil")), JWT_SECRET)));
    cases.push(("missing issuer", forge(&without("iss"), JWT_SECRET)));
    cases.push(("issuer in an array", forge(&with("iss", json!(["features-issuer"])), JWT_SECRET)));
    cases.push(("issuer among others", forge(&with("iss", json!(["x", "features-issuer"])), JWT_SECRET)));
    cases.push(("missing exp", forge(&without("exp"), JWT_SECRET)));
    cases.push(("missing sub", forge(&without("sub"), JWT_SECRET)));
    cases.push(("not yet valid nbf", forge(&with("nbf", json!(now() + 3600)), JWT_SECRET)));
    cases.push(("issued in the future", forge(&with("iat", json!(now() + 3600)), JWT_SECRET)));
    // A scope claim is split as a string: FlaskSimpleAuth's `data["scope"].split(" ")`.
    cases.push(("null scope", forge(&with("scope", Value::Null), JWT_SECRET)));
    cases.push(("scope list", forge(&with("scope", json!(["read"])), JWT_SECRET)));
    // alg none: unsigned.
    let none_header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = B64.encode(serde_json::to_vec(&good).unwrap());
    cases.push(("alg none", format!("{none_header}.{payload}.")));
    cases.push(("alg none with signature", format!("{none_header}.{payload}.{}", t.rsplit('.').next().unwrap())));
    // Tampered payload keeping the signature.
    let parts: Vec<&str> = t.split('.').collect();
    let evil = B64.encode(serde_json::to_vec(&with("sub", json!("hobbes"))).unwrap());
    cases.push(("tampered payload", format!("{}.{evil}.{}", parts[0], parts[2])));
    cases.push(("garbage", "not.a.jwt".to_owned()));
    // A valid JWT for the empty login: nobody.
    let r = c.get("/token-only").bearer(&forge(&with("sub", json!("")), JWT_SECRET)).await;
    assert_eq!((r.status(), r.text()), (401, "missing authentication".to_owned()));
    for (what, token) in &cases {
        let r = c.get("/token-only").bearer(token).await;
        assert_eq!(r.status(), 401, "{what}: {}", r.text());
        assert!(r.text().contains("jwt"), "{what}: {}", r.text());
    }
    // Past nbf and iat are fine.
    let ok = forge(&with("nbf", json!(now() - 10)), JWT_SECRET);
    assert_eq!(c.get("/token-only").bearer(&ok).await.status(), 200);
    // Expiry and grace.
    let old = app.create_token("calvin", TokenOptions::default().expires_at(now() - 120)).unwrap();
    let r = c.get("/token-only").bearer(&old).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().contains("expired"), "{}", r.text());
    let graceful = jwt_app(&[("FSA_TOKEN_GRACE", 5.into())]);
    assert_eq!(graceful.test_client().get("/token-only").bearer(&old).await.status(), 200);
    let older = app.create_token("calvin", TokenOptions::default().expires_at(now() - 900)).unwrap();
    assert_eq!(graceful.test_client().get("/token-only").bearer(&older).await.status(), 401);
    // Realm of the route is the audience.
    let mfa_token = app.create_token("calvin", TokenOptions::realm("mfa")).unwrap();
    assert_eq!(claims_of(&mfa_token)["aud"], "mfa");
    assert_eq!(c.get("/mfa").bearer(&mfa_token).await.status(), 200);
    assert_eq!(c.get("/mfa").bearer(&t).await.status(), 401);
    assert_eq!(c.get("/token-only").bearer(&mfa_token).await.status(), 401);
}

fn key(name: &str) -> String {
    let path = format!("{}/tests/data/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn public_key_algorithms() {
    for (algo, private, public) in [
        ("RS256", "rsa.pem", "rsa.pub.pem"),
        ("PS256", "rsa.pem", "rsa.pub.pem"),
        ("ES256", "ec.pem", "ec.pub.pem"),
        ("EdDSA", "ed.pem", "ed.pub.pem"),
    ] {
        let app = jwt_app(&[
            ("FSA_TOKEN_ALGO", algo.into()),
            ("FSA_TOKEN_SIGN", key(private).into()),
            ("FSA_TOKEN_SECRET", key(public).into()),
        ]);
        let t = app.create_token("calvin", TokenOptions::default()).unwrap();
        assert_eq!(header_of(&t)["alg"], algo);
        let c = app.test_client();
        assert_eq!(c.get("/token-only").bearer(&t).await.json(), json!({"user": "calvin"}), "{algo}");
        // Algorithm confusion: an HMAC token keyed with the public key is refused.
        let claims = claims_of(&t);
        let hs = forge(&claims, &key(public));
        assert_eq!(c.get("/token-only").bearer(&hs).await.status(), 401, "{algo}");
        // Verification only (third-party issuer): tokens are checked, none can be made.
        let verify_only = jwt_app(&[("FSA_TOKEN_ALGO", algo.into()), ("FSA_TOKEN_SECRET", key(public).into())]);
        assert!(verify_only.create_token("calvin", TokenOptions::default()).is_err());
        assert_eq!(verify_only.test_client().get("/token-only").bearer(&t).await.status(), 200, "{algo}");
    }
    // A token of one public-key algorithm is refused by another.
    let rs = jwt_app(&[
        ("FSA_TOKEN_ALGO", "RS256".into()),
        ("FSA_TOKEN_SIGN", key("rsa.pem").into()),
        ("FSA_TOKEN_SECRET", key("rsa.pub.pem").into()),
    ]);
    let ps = jwt_app(&[("FSA_TOKEN_ALGO", "PS256".into()), ("FSA_TOKEN_SECRET", key("rsa.pub.pem").into())]);
    let t = rs.create_token("calvin", TokenOptions::default()).unwrap();
    assert_eq!(ps.test_client().get("/token-only").bearer(&t).await.status(), 401);
    // `none` is not an algorithm fsa accepts, and bad keys are start-up errors.
    let e = App::new().config("FSA_TOKEN_TYPE", "jwt").config("FSA_TOKEN_ALGO", "none").build().unwrap_err();
    assert!(e.to_string().contains("none"), "{e}");
    let e = App::new()
        .config("FSA_TOKEN_TYPE", "jwt")
        .config("FSA_TOKEN_ALGO", "RS256")
        .config("FSA_TOKEN_SECRET", "not a key")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("RS256"), "{e}");
}

// ---------------------------------------------------------------- OAuth and cookies

#[get("/oauth/read", authorize = "read", auth = "oauth")]
async fn oauth_read(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0, "scope": "read"}))
}

#[get("/oauth/scopes", authorize = "AUTH", auth = "oauth")]
async fn oauth_scopes(user: CurrentUser, scopes: Scopes) -> Json<Value> {
    Json(json!({"user": user.0, "read": scopes.has("read"), "write": scopes.has("write")}))
}

#[get("/login", authorize = "AUTH", auth = ["basic", "param"])]
async fn login(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

#[get("/writer", authorize = "writer")]
async fn writer(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

fn cookie_app() -> App {
    App::new()
        .config("FSA_AUTH", list(&["token", "oauth", "none", "password"]))
        .config("FSA_TOKEN_TYPE", "jwt")
        .config("FSA_REALM", "features-jwt")
        .config("FSA_TOKEN_ISSUER", "features-issuer")
        .config("FSA_TOKEN_SECRET", JWT_SECRET)
        .config("FSA_TOKEN_CARRIER", "cookie")
        .config("FSA_TOKEN_RENEWAL", 0.5)
        .config("FSA_AUTHZ_SCOPES", list(&["read", "write", "admin"]))
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .get_user_pass(|login| async move {
            Ok(match login.as_str() {
                "calvin" => Some("Hobbes123".to_owned()),
                "hobbes" => Some("Tiger456".to_owned()),
                _ => None,
            })
        })
        .user_in_group(|login, group| async move { Ok(group == "writer" && login == "calvin") })
        .routes(fsa::routes![whoami, token_only, oauth_read, oauth_scopes, writer, login])
        .build()
        .unwrap()
}

fn set_cookie(r: &fsa::TestResponse) -> Option<String> {
    r.header("set-cookie").map(str::to_owned)
}

/// A cookie token naming a login with `;` or spaces is one quoted value, as Werkzeug writes
/// it: the login adds no attribute to the cookie, and the cookie sent back authenticates.
#[tokio::test]
async fn cookie_tokens_of_odd_logins_are_quoted() {
    let app = App::new()
        .config("FSA_AUTH", list(&["token", "basic"]))
        .config("FSA_TOKEN_TYPE", "fsa")
        .config("FSA_TOKEN_SECRET", JWT_SECRET)
        .config("FSA_TOKEN_CARRIER", "cookie")
        .config("FSA_PASSWORD_SCHEME", "plaintext")
        .get_user_pass(|_login| async { Ok(Some("Secret12".to_owned())) })
        .routes(fsa::routes![whoami])
        .build()
        .unwrap();
    let c = app.test_client();
    let login = "eve; Domain=evil.example; Path=/admin";
    let r = c.get("/whoami").basic(login, "Secret12").await;
    assert_eq!(r.status(), 200);
    let sc = set_cookie(&r).expect("cookie issued");
    let (value, attrs) = sc.strip_prefix("auth=\"").and_then(|v| v.split_once('"')).expect("quoted");
    assert!(!value.contains(';') && !attrs.contains("Domain") && attrs.ends_with("; Path=/"), "{sc}");
    let r = c.get("/whoami").cookie("auth", &format!("\"{value}\"")).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": login, "scheme": "token"})));
}

#[tokio::test]
async fn cookie_issuing_and_renewal() {
    let app = cookie_app();
    let c = app.test_client();
    // Password authentication without cookie: a fresh cookie token, no scope.
    let r = c.get("/whoami").basic("calvin", "Hobbes123").await;
    assert_eq!(r.status(), 200);
    let sc = set_cookie(&r).expect("cookie issued");
    let (token, attrs) = sc.strip_prefix("auth=").unwrap().split_once(';').unwrap();
    assert!(attrs.contains("Max-Age=3600") && attrs.contains("Path=/"), "{sc}");
    // `Expires` as well, as Werkzeug writes it: the same hour on.
    let expires = attrs.split(';').map(str::trim).find_map(|a| a.strip_prefix("Expires=")).expect("Expires");
    let expires = httpdate::parse_http_date(expires).expect("an HTTP date");
    let hour = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let off = expires.duration_since(hour).unwrap_or_else(|e| e.duration());
    assert!(off.as_secs() <= 60, "{sc}");
    let cl = claims_of(token);
    assert_eq!((cl["sub"].clone(), cl["aud"].clone()), (json!("calvin"), json!("features-jwt")));
    assert!(cl.get("scope").is_none() && cl["exp"].is_i64(), "{cl}");
    // Also on a 403, once authenticated.
    let r = c.get("/writer").query(&[("USER", "hobbes"), ("PASS", "Tiger456")]).await;
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r).is_some_and(|s| s.starts_with("auth=")));
    // Not without authentication.
    let r = c.get("/whoami").await;
    assert_eq!((r.status(), set_cookie(&r)), (401, None));
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"features-jwt\""));
    // The cookie authenticates; with plenty of life left it is not renewed.
    let r = c.get("/whoami").cookie("auth", token).await;
    assert_eq!((r.status(), r.json()["scheme"].clone(), set_cookie(&r)), (200, json!("token"), None));
    // Close to expiry (less than 0.5 × 60 minutes left): renewed.
    let near = app.create_token("calvin", TokenOptions::default().expires_at(now() + 600)).unwrap();
    let r = c.get("/whoami").cookie("auth", &near).await;
    assert_eq!(r.status(), 200);
    let renewed = set_cookie(&r).expect("renewed");
    let fresh = renewed.strip_prefix("auth=").unwrap().split(';').next().unwrap();
    assert!(claims_of(fresh)["exp"].as_i64().unwrap() > now() + 3000);
    // The bearer header is not a carrier here.
    assert_eq!(c.get("/token-only").bearer(token).await.status(), 401);
    // On a password-only route the cookie is checked too: kept while valid and long-lived,
    // whoever it names (upstream reads only its expiry), replaced when broken.
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", token).await;
    assert_eq!((r.status(), set_cookie(&r)), (200, None));
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", "garbage").await;
    let replaced = set_cookie(&r).expect("replaced");
    assert_eq!(claims_of(replaced.strip_prefix("auth=").unwrap().split(';').next().unwrap())["sub"], "calvin");
    let hobbes = app.create_token("hobbes", TokenOptions::default()).unwrap();
    let r = c.get("/login").basic("calvin", "Hobbes123").cookie("auth", &hobbes).await;
    assert_eq!((r.status(), set_cookie(&r)), (200, None));
}

#[tokio::test]
async fn oauth_scopes_are_authorizations() {
    let app = cookie_app();
    let c = app.test_client();
    let read = app.create_token("hobbes", TokenOptions::default().scopes(["read"])).unwrap();
    let none = app.create_token("moe", TokenOptions::default()).unwrap();
    let r = c.get("/oauth/read").cookie("auth", &read).await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "hobbes", "scope": "read"})));
    let r = c.get("/oauth/read").cookie("auth", &none).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().contains("read"), "{}", r.text());
    // Passwords do not open oauth routes.
    assert_eq!(c.get("/oauth/read").basic("calvin", "Hobbes123").await.status(), 401);
    let r = c.get("/oauth/scopes").cookie("auth", &read).await;
    assert_eq!(r.json(), json!({"user": "hobbes", "read": true, "write": false}));
}
