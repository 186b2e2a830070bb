//! Passwords through the HTTP surface: quality rules, bcrypt options, argon2 (with hashes made
//! by FlaskSimpleAuth 36.0 / argon2-cffi), the 72-byte bcrypt limit, plaintext.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fsa::prelude::*;
use serde_json::{Value, json};

/// Stored hashes, standing for a user table.
#[derive(Default)]
struct Users(Mutex<HashMap<String, String>>);

#[post("/hash", authorize = "OPEN")]
async fn hash(app: App, password: String) -> fsa::Result<Json<Value>> {
    let h = app.hash_password_unchecked(&password).await?;
    let check = app.check_password(&password, &h).await;
    Ok(Json(json!({"hash": h, "check": check})))
}

#[get("/me", authorize = "AUTH", auth = "basic")]
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user.0}))
}

fn app_with(extra: &[(&str, fsa::config::Value)]) -> App {
    let users = Arc::new(Users::default());
    let lookup = users.clone();
    let mut b = App::new()
        .config("FSA_AUTH", "basic")
        .config("FSA_REALM", "pw")
        .config("FSA_CACHE", "none")
        .config("FSA_PASSWORD_LENGTH", 8)
        .config("FSA_PASSWORD_RE", fsa::config::Value::Array(vec!["[A-Z]".into(), "[a-z]".into(), "[0-9]".into()]))
        .password_quality(|p| {
            if p.contains("boom") {
                return Err(fsa::Error::new(418, "quality hook exploded"));
            }
            Ok(!p.to_lowercase().contains("password"))
        })
        .get_user_pass(move |login| {
            let h = lookup.0.lock().ok().and_then(|m| m.get(&login).cloned());
            async move { Ok(h) }
        });
    for (k, v) in extra {
        b = b.config(k, v.clone());
    }
    b.state(ArcUsers(users)).routes(fsa::routes![register_shared, hash, me]).build().unwrap()
}

/// The same table as a state (the hook and the route share it).
struct ArcUsers(Arc<Users>);

#[post("/register", authorize = "OPEN")]
async fn register_shared(
    app: App,
    users: State<ArcUsers>,
    user: String,
    pass: String,
) -> fsa::Result<(Json<Value>, u16)> {
    let hash = app.hash_password(&pass).await?;
    users.0.0.0.lock()?.insert(user.clone(), hash);
    Ok((Json(json!({"user": user})), 201))
}

#[tokio::test]
async fn quality_rules_on_new_passwords() {
    let app = app_with(&[]);
    let c = app.test_client();
    for (pass, needle) in [
        ("Ab1", "short"),
        ("abcdefgh1", "[A-Z]"),
        ("ABCDEFGH1", "[a-z]"),
        ("Abcdefghi", "[0-9]"),
        ("MyPassword1", "quality"),
    ] {
        let r = c.post("/register").form(&[("user", "susie"), ("pass", pass)]).await;
        assert_eq!(r.status(), 400, "{pass}");
        assert!(r.text().contains(needle), "{pass}: {}", r.text());
    }
    // A hook error is answered as is.
    let r = c.post("/register").form(&[("user", "susie"), ("pass", "Kaboom123")]).await;
    assert_eq!((r.status(), r.text()), (418, "quality hook exploded".to_owned()));
    // Longer than bcrypt can hash: 400, not truncated.
    let long = format!("Aa1{}", "x".repeat(80));
    let r = c.post("/register").form(&[("user", "susie"), ("pass", &long)]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("72"), "{}", r.text());
    // A good one: stored, then usable with basic.
    let r = c.post("/register").form(&[("user", "susie"), ("pass", "Derkins789")]).await;
    assert_eq!((r.status(), r.json()), (201, json!({"user": "susie"})));
    assert_eq!(c.get("/me").basic("susie", "Derkins789").await.json(), json!({"user": "susie"}));
    assert_eq!(c.get("/me").basic("susie", "Derkins788").await.status(), 401);
}

#[tokio::test]
async fn bcrypt_hashes_and_the_72_byte_limit() {
    let app = app_with(&[]);
    let c = app.test_client();
    let a = c.post("/hash").form(&[("password", "x")]).await.json();
    let b = c.post("/hash").form(&[("password", "x")]).await.json();
    let h = a["hash"].as_str().unwrap();
    assert!(h.starts_with("$2b$04$") && h.len() == 60, "{h}");
    assert_eq!(a["check"], true);
    assert_ne!(a["hash"], b["hash"], "salted");
    // A 72-byte password is fine; 73 bytes never match its 72-byte prefix's hash (401, not 500).
    let p72 = "y".repeat(72);
    let r = c.post("/register").form(&[("user", "moe"), ("pass", &format!("Aa1{}", &p72[3..]))]).await;
    assert_eq!(r.status(), 201);
    let stored = format!("Aa1{}", &p72[3..]);
    assert_eq!(c.get("/me").basic("moe", &stored).await.status(), 200);
    let r = c.get("/me").basic("moe", &format!("{stored}z")).await;
    assert_eq!(r.status(), 401);
    // Credentials longer than 96 bytes decode as well as short ones.
    let long_login = "m".repeat(30);
    let r = c.post("/register").form(&[("user", long_login.as_str()), ("pass", stored.as_str())]).await;
    assert_eq!(r.status(), 201);
    assert_eq!(c.get("/me").basic(&long_login, &stored).await.status(), 200);
    assert_eq!(c.get("/me").basic(&long_login, &format!("{stored}z")).await.status(), 401);
    assert_eq!(c.post("/hash").form(&[("password", &"z".repeat(73))]).await.status(), 400);
    // Options: cost and prefix.
    let app = app_with(&[("FSA_PASSWORD_OPTS", toml_table(&[("rounds", 5.into()), ("prefix", "2y".into())]))]);
    let h = app.hash_password_unchecked("x").await.unwrap();
    assert!(h.starts_with("$2y$05$"), "{h}");
    assert!(app.check_password("x", &h).await);
    let e = App::new().config("FSA_PASSWORD_OPTS", toml_table(&[("rounds", 3.into())])).build().unwrap_err();
    assert!(e.to_string().contains("rounds"), "{e}");
    let e = App::new().config("FSA_PASSWORD_OPTS", toml_table(&[("ident", "2x".into())])).build().unwrap_err();
    assert!(e.to_string().contains("prefix"), "{e}");
}

fn toml_table(items: &[(&str, fsa::config::Value)]) -> fsa::config::Value {
    fsa::config::Value::Table(items.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

/// Made by FlaskSimpleAuth 36.0 with `FSA_PASSWORD_SCHEME="argon2"` (argon2-cffi 25.1).
const PYTHON_ARGON2: &[(&str, &str)] = &[
    ("hobbes", "$argon2id$v=19$m=1000,t=1,p=1$F8fZgToZvVxQaEt+SYrXlQ$z2GDFX8RReKra+VoCX9gkItR7TJhT+zpExxc4RYmWmA"),
    ("été", "$argon2id$v=19$m=1000,t=1,p=1$JOxWaJJKcm7SDwCGOeS5EA$5NASAqD+Ho6r6lJOe5bHTFxUVYYCk/a+YUEa4eHwT+k"),
    ("hobbes", "$argon2id$v=19$m=2048,t=2,p=2$NcpxRiiEvmYlmsDRyGSQ4g$QsXztkn+TGOx+NsdMLkku6eRJG61bPdnyk+pE4KtNcU"),
];

#[tokio::test]
async fn argon2_scheme() {
    let app = app_with(&[("FSA_PASSWORD_SCHEME", "argon2".into())]);
    for (pwd, h) in PYTHON_ARGON2 {
        assert!(app.check_password(pwd, h).await, "{h}");
        assert!(!app.check_password("calvin", h).await);
    }
    let h = app.hash_password_unchecked("hobbes").await.unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=1000,t=1,p=1$"), "{h}");
    // Through HTTP: registration and basic login; no 72-byte limit with argon2.
    let c = app.test_client();
    let long = format!("Aa1{}", "é".repeat(50));
    assert_eq!(c.post("/register").form(&[("user", "calvin"), ("pass", &long)]).await.status(), 201);
    assert_eq!(c.get("/me").basic("calvin", &long).await.status(), 200);
    assert_eq!(c.get("/me").basic("calvin", &long[..long.len() - 2]).await.status(), 401);
    // bcrypt hashes still verify (migration), garbage never does.
    let bcrypt = App::new().build().unwrap().hash_password_unchecked("x").await.unwrap();
    assert!(app.check_password("x", &bcrypt).await);
    assert!(!app.check_password("x", "$argon2id$garbage").await);
    let opts = toml_table(&[("memory_cost", 2048.into()), ("time_cost", 2.into()), ("parallelism", 2.into())]);
    let tuned = app_with(&[("FSA_PASSWORD_SCHEME", "argon2".into()), ("FSA_PASSWORD_OPTS", opts)]);
    let h = tuned.hash_password_unchecked("x").await.unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=2048,t=2,p=2$"), "{h}");
}

#[tokio::test]
async fn plaintext_and_disabled_schemes() {
    let app = app_with(&[("FSA_PASSWORD_SCHEME", "plaintext".into())]);
    assert_eq!(app.hash_password_unchecked("Hobbes123").await.unwrap(), "Hobbes123");
    let c = app.test_client();
    assert_eq!(c.post("/register").form(&[("user", "calvin"), ("pass", "Hobbes123")]).await.status(), 201);
    assert_eq!(c.get("/me").basic("calvin", "Hobbes123").await.status(), 200);
    assert_eq!(c.get("/me").basic("calvin", "Hobbes12").await.status(), 401);
    let e = App::new().config("FSA_PASSWORD_SCHEME", "md5crypt").build().unwrap_err();
    assert!(e.to_string().contains("md5crypt"));
}
