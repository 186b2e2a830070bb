//! The demo's routes through HTTP (in-process client), written from the specification: every
//! route in both token modes, on SQLite, and again on PostgreSQL when `FSA_TEST_DATABASE_URL`
//! is set (a fresh schema per test, dropped afterwards; an unreachable server fails the test).

use std::path::PathBuf;

use base64::Engine;
use demo::{Settings, TokenMode};
use fsa::{App, TestRequest, TestResponse, TokenOptions};
use serde_json::{Value, json};

/// One demo instance on a fresh database, with its scratch directory.
struct Fixture {
    app: App,
    mode: TokenMode,
    dir: PathBuf,
    /// The PostgreSQL schema (dropped with the fixture); `None` on SQLite.
    schema: Option<PgSchema>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A scratch PostgreSQL schema, dropped when the test ends (even on failure).
struct PgSchema {
    url: String,
    name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&pool).await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fsa-demo-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

async fn sqlite(mode: TokenMode) -> Fixture {
    let dir = scratch_dir();
    let mut s = Settings { mode, upload_dir: dir.clone(), ..Settings::default() };
    s.db.url = Some(dir.join("stuff.db").to_string_lossy().into_owned());
    let app = demo::build(&s).await.expect("demo app on SQLite");
    Fixture { app, mode, dir, schema: None }
}

/// `None` (and a message) when `FSA_TEST_DATABASE_URL` is unset; panics when it is set and
/// the server cannot be used.
async fn postgres(mode: TokenMode) -> Option<Fixture> {
    let Ok(url) = std::env::var("FSA_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED: FSA_TEST_DATABASE_URL is not set, PostgreSQL demo tests skipped");
        return None;
    };
    let name = format!("demo_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .unwrap_or_else(|e| panic!("FSA_TEST_DATABASE_URL={url} is set but PostgreSQL is unreachable: {e}"));
    sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&admin).await.expect("create scratch schema");
    admin.close().await;
    let schema = PgSchema { url: url.clone(), name: name.clone() };
    let dir = scratch_dir();
    let mut s = Settings { mode, upload_dir: dir.clone(), ..Settings::default() };
    s.db.url = Some(url);
    s.db.schema = Some(name);
    let app = demo::build(&s).await.expect("demo app on PostgreSQL");
    Some(Fixture { app, mode, dir, schema: Some(schema) })
}

impl Fixture {
    fn c(&self) -> fsa::TestClient {
        self.app.test_client()
    }

    /// Carries a token the way the mode wants it.
    fn tok(&self, req: TestRequest, token: &str) -> TestRequest {
        match self.mode {
            TokenMode::Jwt => req.bearer(token),
            TokenMode::Fsa => req.query(&[("AUTH", token)]),
        }
    }

    async fn token(&self, login: &str, pass: &str) -> String {
        let r = self.c().get("/scare/token").basic(login, pass).await;
        assert_eq!(r.status(), 200, "token for {login}: {}", r.text());
        r.json().as_str().expect("token string").to_owned()
    }

    /// Registers a non-admin user through `POST /scare`.
    async fn register(&self, login: &str, pass: &str) {
        let r = self
            .c()
            .post("/scare")
            .form(&[("login", login), ("email", &format!("{login}@comics.org")), ("pass", pass), ("secret", "ABCD")])
            .await;
        assert_eq!(r.status(), 201, "register {login}: {}", r.text());
    }
}

fn svc(r: &TestResponse) {
    assert_eq!(r.header("service"), Some("Demo/1.0"), "Service header on {}", r.status());
}

fn json_body(r: &TestResponse) -> Value {
    assert_eq!(r.header("content-type"), Some("application/json"));
    let text = r.text();
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "one trailing newline: {text:?}");
    r.json()
}

async fn open_routes(f: &Fixture) {
    let c = f.c();
    let r = c.get("/version").await;
    svc(&r);
    assert_eq!(r.status(), 200);
    assert!(json_body(&r).as_str().is_some_and(|v| v.contains('.')));
    let r = c.get("/now").await;
    assert_eq!(r.status(), 200);
    let now = json_body(&r).as_str().expect("now string").to_owned();
    let b = now.as_bytes();
    assert_eq!(b.len(), 19, "{now}");
    assert!(b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':' && b[16] == b':', "{now}");
    assert_eq!(r.bytes().len(), 22);
    let r = c.get("/who").await;
    assert_eq!((r.status(), r.text()), (200, "null\n".to_owned()));
    let r = c.get("/who").basic("foo@school.org", "bla").await;
    assert_eq!(r.json(), json!("foo@school.org"));
    let r = c.get("/who").basic("foo", "wrong").await;
    assert_eq!((r.status(), r.json()), (200, Value::Null), "invalid credentials are ignored on open routes");
    let t = f.token("foo", "bla").await;
    assert_eq!(f.tok(c.get("/who"), &t).await.json(), json!("foo"));
    // upload
    let body = "--XBOUNDX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n\
                Content-Type: text/plain\r\n\r\nhello world\r\n--XBOUNDX--\r\n";
    let r = c.post("/upload").body(body, "multipart/form-data; boundary=XBOUNDX").await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let text = r.text();
    let saved = text.strip_prefix("hello.txt (text/plain) saved as ").expect(&text);
    assert!(saved.ends_with(".tmp") && saved.len() == 40 && uuid::Uuid::parse_str(&saved[..36]).is_ok(), "{saved}");
    assert_eq!(std::fs::read_to_string(f.dir.join(saved)).expect("uploaded file"), "hello world");
    // The media type as Flask's `mimetype`: no parameters, lowercase, empty when not given.
    for (part_type, shown) in [("Content-Type: Text/Plain; charset=utf-8\r\n", "text/plain"), ("", "")] {
        let body = format!(
            "--XBOUNDX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n\
             {part_type}\r\nhello world\r\n--XBOUNDX--\r\n"
        );
        let r = c.post("/upload").body(body, "multipart/form-data; boundary=XBOUNDX").await;
        assert_eq!(r.status(), 201, "{}", r.text());
        assert!(r.text().starts_with(&format!("hello.txt ({shown}) saved as ")), "{}", r.text());
    }
    let r = c.post("/upload").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"file\""));
    // routing errors
    let r = c.post("/version").await;
    svc(&r);
    assert_eq!(r.status(), 405);
    let r = c.get("/no/such/path").await;
    svc(&r);
    assert_eq!(r.status(), 404);
}

/// A 401 with the spec's challenge (§1), on any authenticated route, one scheme's included.
fn challenged(r: &TestResponse, mode: TokenMode) {
    assert_eq!(r.status(), 401, "{}", r.text());
    let www = r.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap_or("")).collect::<Vec<_>>();
    let www = www.join(", ");
    assert!(www.contains("Basic realm=\"demo\""), "{www}");
    assert_eq!(www.contains("Bearer realm=\"demo\""), mode == TokenMode::Jwt, "{www}");
}

async fn stuff_routes(f: &Fixture) {
    let c = f.c();
    let r = c.get("/stuff").await;
    svc(&r);
    challenged(&r, f.mode);
    let r = c.get("/stuff").basic("foo", "bla").await;
    assert_eq!(json_body(&r), json!([[1, "Hello"], [2, "World"], [3, "!"]]));
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", "%O%")]).await;
    assert_eq!(r.json(), json!([[1, "Hello"], [2, "World"]]));
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", "_")]).await;
    assert_eq!(r.json(), json!([[3, "!"]]));
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", "")]).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(3));
    // SQLite's longest pattern, and one byte more: the client's 400, not the database's 500.
    let long = "a".repeat(50_000);
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", long.as_str())]).await;
    assert_eq!((r.status(), r.json()), (200, json!([])));
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", format!("{long}a").as_str())]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"pattern\""), "{}", r.text());
    let r = c.get("/stuff").basic("foo", "bla").query(&[("other", "x")]).await;
    assert_eq!((r.status(), r.text()), (400, "unexpected http parameter \"other\"".to_owned()));
    let r = c.post("/stuff").basic("foo", "bla").form(&[("sname", "Bye")]).await;
    assert_eq!((r.status(), r.text()), (201, "4\n".to_owned()));
    let r = c.post("/stuff").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"sname\" is missing".to_owned()));
    let r = c.get("/stuff/4").basic("foo", "bla").await;
    assert_eq!(r.json(), json!(["Bye"]));
    let r = c.get("/stuff/42").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (404, "no such sid: 42".to_owned()));
    assert_eq!(c.get("/stuff/abc").basic("foo", "bla").await.status(), 404);
    assert_eq!(c.get("/stuff/-1").basic("foo", "bla").await.status(), 404);
    let r = c.patch("/stuff/4").basic("foo", "bla").json(&json!({"sname": "Ciao"})).await;
    assert_eq!((r.status(), r.text()), (204, String::new()));
    assert_eq!(c.get("/stuff/4").basic("foo", "bla").await.json(), json!(["Ciao"]));
    let r = c.patch("/stuff/42").basic("foo", "bla").json(&json!({"sname": "Ciao"})).await;
    assert_eq!(r.status(), 404);
    assert_eq!(c.delete("/stuff/4").basic("foo", "bla").await.status(), 204);
    assert_eq!(c.delete("/stuff/4").basic("foo", "bla").await.status(), 204);
    assert_eq!(c.get("/stuff/4").basic("foo", "bla").await.status(), 404);
    assert_eq!(c.put("/stuff/1").basic("foo", "bla").await.status(), 405);
    // Digits beyond 64 bits name no row, as Python's unbounded `int` has it.
    let r = c.get("/stuff/0099999999999999999999").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (404, "no such sid: 99999999999999999999".to_owned()));
    let r = c.get(&format!("/stuff/{}", "%D9%A3".repeat(20))).basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (404, format!("no such sid: {}", "3".repeat(20))));
    let r = c.patch("/stuff/99999999999999999999").basic("foo", "bla").json(&json!({"sname": "x"})).await;
    assert_eq!((r.status(), r.text()), (404, "no such sid: 99999999999999999999".to_owned()));
    let r = c.patch("/stuff/99999999999999999999").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"sname\" is missing".to_owned()));
    assert_eq!(c.delete("/stuff/99999999999999999999").basic("foo", "bla").await.status(), 204);
    assert_eq!(c.delete("/stuff/99999999999999999999").await.status(), 401);
    // Each `%` is one recursive call deeper in the database's matcher: 24,999 of them against a
    // name of 25,000 `a`s overflowed the stack of SQLite's thread, which killed the server.
    let r = c.post("/stuff").basic("foo", "bla").form(&[("sname", "a".repeat(25_000).as_str())]).await;
    assert_eq!(r.status(), 201);
    let r =
        c.get("/stuff").basic("foo", "bla").form(&[("pattern", format!("{}b", "%a".repeat(24_999)).as_str())]).await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"pattern\" holds more than 1000 \"%\" wildcards".to_owned()));
    let r =
        c.get("/stuff").basic("foo", "bla").query(&[("pattern", format!("{}b", "%a".repeat(1_000)).as_str())]).await;
    assert_eq!((r.status(), r.json()), (200, json!([])));
    // A run of `%` is one wildcard, however long.
    for (pattern, rows) in [("%".repeat(60_000), 4), (format!("H{}", "%".repeat(1_001)), 1), ("%%O%%".into(), 2)] {
        let r = c.get("/stuff").basic("foo", "bla").form(&[("pattern", pattern.as_str())]).await;
        assert_eq!((r.status(), r.json().as_array().map(Vec::len)), (200, Some(rows)), "{}", r.text());
    }
    let r = c.get("/stuff").basic("foo", "bla").query(&[("pattern", format!("{}%", "%a".repeat(999)).as_str())]).await;
    let rows = r.json();
    assert_eq!((r.status(), rows.as_array().map(Vec::len)), (200, Some(1)), "{rows}");
    let sid = rows[0][0].as_i64().unwrap_or_default();
    assert_eq!(c.delete(&format!("/stuff/{sid}")).basic("foo", "bla").await.status(), 204);
    // SQLite's `LIKE` on both databases: ASCII letters in either case, others only as they
    // are, and `\` no escape.
    let mut sids = Vec::new();
    for name in ["Été", "a\\b", "a%b"] {
        let r = c.post("/stuff").basic("foo", "bla").form(&[("sname", name)]).await;
        sids.push(r.json().as_i64().unwrap_or_default());
    }
    let client = &c;
    let names = |pattern: &'static str| async move {
        let r = client.get("/stuff").basic("foo", "bla").query(&[("pattern", pattern)]).await;
        r.json().as_array().map(|rows| rows.iter().map(|row| row[1].clone()).collect::<Vec<_>>()).unwrap_or_default()
    };
    assert_eq!(names("été").await, Vec::<Value>::new());
    assert_eq!(names("ÉTÉ").await, Vec::<Value>::new());
    assert_eq!(names("Été").await, [json!("Été")]);
    assert_eq!(names("%T%").await, [json!("Été")]);
    assert_eq!(names("A\\%").await, [json!("a\\b")]);
    assert_eq!(names("a\\_").await, [json!("a\\b")]);
    assert_eq!(names("a_b").await, [json!("a\\b"), json!("a%b")]);
    for sid in sids {
        assert_eq!(c.delete(&format!("/stuff/{sid}")).basic("foo", "bla").await.status(), 204);
    }
}

async fn users_routes(f: &Fixture) {
    let c = f.c();
    assert_eq!(c.get("/stuff").basic("calvin", "hobbes1").await.status(), 401);
    assert_eq!(c.get("/stuff").basic("calvin@comics.org", "hobbes1").await.status(), 401);
    f.register("calvin", "hobbes1").await;
    assert_eq!(c.get("/stuff").basic("calvin", "hobbes1").await.status(), 200, "new user usable at once");
    assert_eq!(c.get("/stuff").basic("calvin@comics.org", "hobbes1").await.status(), 200);
    f.register("susie", "derkins1").await;
    let r = c.get("/users").basic("foo", "bla").await;
    let all = json_body(&r);
    let logins: Vec<&str> = all.as_array().expect("array").iter().filter_map(|u| u[0].as_str()).collect();
    assert_eq!(logins, ["bla", "calvin", "foo", "susie"]);
    let rec = &all[2];
    assert_eq!(rec.as_array().map(Vec::len), Some(4));
    assert!(rec[2].as_str().is_some_and(|h| h.starts_with("$2b$")));
    assert!(rec[3] == json!(true) || rec[3] == json!(1));
    assert_eq!(c.get("/users").basic("calvin", "hobbes1").await.status(), 403);
    // POST /users: quality rule, then insert
    for bad in ["x", "12345"] {
        let r = c.post("/users").basic("foo", "bla").form(&[
            ("login", "moe"),
            ("email", "moe@school.org"),
            ("pass", bad),
            ("secret", "S"),
        ]);
        assert_eq!(r.await.status(), 400, "password {bad}");
    }
    assert_eq!(c.get("/who").basic("moe", "m0e").await.json(), Value::Null);
    let r = c
        .post("/users")
        .basic("foo", "bla")
        .json(&json!({"login": "moe", "email": "moe@school.org", "pass": "m0e", "secret": "S", "admin": false}))
        .await;
    assert_eq!(r.status(), 201, "{}", r.text());
    assert!(r.json().is_i64());
    assert_eq!(c.get("/who").basic("moe", "m0e").await.json(), json!("moe"));
    let r = c.post("/users").basic("calvin", "hobbes1").form(&[("login", "x")]).await;
    assert_eq!(r.status(), 403, "group before parameters");
    // duplicate login: server error, nothing changed
    let r = c
        .post("/users")
        .basic("foo", "bla")
        .form(&[("login", "moe"), ("email", "moe2@school.org"), ("pass", "m0e"), ("secret", "S")])
        .await;
    assert!(r.status() >= 500, "{}", r.status());
    // GET /users/<login>: self or admin; 403 before 404
    let r = c.get("/users/calvin").basic("calvin", "hobbes1").await;
    assert_eq!(r.json()[1], json!("calvin@comics.org"));
    assert_eq!(c.get("/users/calvin").basic("calvin@comics.org", "hobbes1").await.status(), 403);
    assert_eq!(c.get("/users/calvin@comics.org").basic("calvin@comics.org", "hobbes1").await.status(), 200);
    assert_eq!(c.get("/users/susie").basic("calvin", "hobbes1").await.status(), 403);
    assert_eq!(c.get("/users/nobody").basic("calvin", "hobbes1").await.status(), 403);
    assert_eq!(c.get("/users/calvin").basic("foo", "bla").await.status(), 200);
    let r = c.get("/users/nobody").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (404, "no such login: nobody".to_owned()));
    // PATCH /users/<login>: admin only, takes effect on the next request
    assert_eq!(c.patch("/users/calvin").basic("calvin", "hobbes1").form(&[("admin", "true")]).await.status(), 403);
    let r = c.patch("/users/calvin").basic("foo", "bla").form(&[("admin", "true")]).await;
    assert_eq!(r.status(), 204, "{}", r.text());
    assert_eq!(c.get("/users").basic("calvin", "hobbes1").await.status(), 200);
    assert_eq!(c.get("/users").basic("calvin@comics.org", "hobbes1").await.status(), 200);
    let r = c.patch("/users/calvin").basic("foo", "bla").json(&json!({"admin": false})).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/users").basic("calvin", "hobbes1").await.status(), 403);
    let r = c.patch("/users/calvin").basic("foo", "bla").form(&[("pass", "tiger1")]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/stuff").basic("calvin", "hobbes1").await.status(), 401);
    assert_eq!(c.get("/stuff").basic("calvin", "tiger1").await.status(), 200);
    assert_eq!(c.patch("/users/calvin").basic("foo", "bla").form(&[("pass", "123")]).await.status(), 400);
    let r = c.patch("/users/calvin").basic("foo", "bla").form(&[("email", "calvin@school.org")]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/who").basic("calvin@comics.org", "tiger1").await.json(), Value::Null);
    assert_eq!(c.get("/who").basic("calvin@school.org", "tiger1").await.json(), json!("calvin@school.org"));
    let r = c.patch("/users/calvin").basic("foo", "bla").form(&[("secret", "NEWSECRET")]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/auth/calvin").basic("foo", "bla").await.json()["secret"], json!("NEWSECRET"));
    assert!(c.patch("/users/nobody").basic("foo", "bla").form(&[("admin", "true")]).await.status() >= 500);
    assert_eq!(c.patch("/users/calvin").basic("foo", "bla").form(&[("admin", "maybe")]).await.status(), 400);
    // rollback: the admin change is undone when the email change fails (no '@')
    let r = c.patch("/users/calvin").basic("foo", "bla").form(&[("admin", "true"), ("email", "nope")]).await;
    assert!(r.status() >= 500, "{}", r.status());
    svc(&r);
    assert_eq!(c.get("/users").basic("calvin", "tiger1").await.status(), 403, "rolled back");
    // DELETE /users/<login>: self or admin
    assert_eq!(c.delete("/users/susie").basic("calvin", "tiger1").await.status(), 403);
    assert_eq!(c.delete("/users/susie").basic("susie", "derkins1").await.status(), 204);
    assert_eq!(c.get("/stuff").basic("susie", "derkins1").await.status(), 401);
    assert_eq!(c.delete("/users/susie").basic("foo", "bla").await.status(), 404);
    assert_eq!(c.delete("/users/moe@school.org").basic("foo", "bla").await.status(), 204);
    assert_eq!(c.get("/stuff").basic("moe", "m0e").await.status(), 401);
}

async fn auth_routes(f: &Fixture) {
    let c = f.c();
    f.register("rosalyn", "babysit1").await;
    let r = c.get("/auth").basic("foo", "bla").await;
    let all = json_body(&r);
    let obj = all.as_array().and_then(|a| a.iter().find(|o| o["login"] == "foo")).expect("foo").clone();
    let keys: Vec<&String> = obj.as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    for k in ["aid", "login", "email", "upass", "admin", "secret"] {
        assert!(obj.get(k).is_some(), "{k}");
    }
    assert_eq!(obj["secret"], json!("FOOSECRETFOOSECRET"));
    assert_eq!(c.get("/auth").basic("rosalyn", "babysit1").await.status(), 403);
    assert_eq!(c.get("/auth/foo").basic("foo", "bla").await.json()["email"], json!("foo@school.org"));
    let r = c.get("/auth/foo@school.org").basic("foo", "bla").await;
    assert_eq!((r.status(), r.text()), (404, "no such login: foo@school.org".to_owned()));
    let user = json!({"login": "hobbes", "email": "hobbes@tiger.org", "upass": "tuna1", "admin": false, "secret": "T"});
    let r = c.post("/auth").basic("foo", "bla").json(&json!({ "user": user })).await;
    assert_eq!(r.status(), 201, "{}", r.text());
    let aid = json_body(&r)["aid"].as_i64().expect("aid");
    let r = c.post("/auth").basic("foo", "bla").json(&json!({ "user": user })).await;
    assert_eq!((r.status(), r.json()), (201, json!({"aid": null})));
    assert_eq!(c.get("/who").basic("hobbes@tiger.org", "tuna1").await.json(), json!("hobbes@tiger.org"));
    assert_eq!(c.get("/who").basic("moe", "m0e").await.json(), Value::Null, "deleted earlier");
    let moe = json!({"login": "moe", "email": "moe@tiger.org", "upass": "m0e", "admin": false, "secret": "M"});
    assert_eq!(c.post("/auth").basic("foo", "bla").json(&json!({ "user": moe })).await.status(), 201);
    assert_eq!(c.get("/who").basic("moe", "m0e").await.json(), json!("moe"), "new user usable at once");
    let form_user =
        json!({"login": "wagner", "email": "w@school.org", "upass": "w4gner", "admin": true, "secret": "W"});
    let r = c.post("/auth").basic("foo", "bla").form(&[("user", &form_user.to_string())]).await;
    assert_eq!(r.status(), 201, "JSON text in a form field: {}", r.text());
    let r = c.post("/auth").basic("foo", "bla").json(&json!({"user": {"login": "x"}})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("cast error"), "{}", r.text());
    // `admin` and `aid` are read as the original's pydantic dataclass reads them (lax mode).
    let lax = json!({"aid": "12.0", "login": "lax", "email": "lax@school.org", "upass": "l4x", "admin": "Yes", "secret": "L"});
    let r = c.post("/auth").basic("foo", "bla").json(&json!({ "user": lax })).await;
    assert_eq!(r.status(), 201, "{}", r.text());
    assert_eq!(c.get("/auth/lax").basic("foo", "bla").await.json()["admin"], json!(true));
    for (key, bad) in [("admin", json!("maybe")), ("admin", json!(2)), ("admin", json!(" true")), ("aid", json!("1.5"))]
    {
        let mut user = lax.clone();
        user[key] = bad.clone();
        let r = c.post("/auth").basic("foo", "bla").json(&json!({ "user": user })).await;
        assert_eq!(r.status(), 400, "{key}: {bad}");
        assert!(r.text().contains("cast error"), "{}", r.text());
    }
    let weak = json!({"login": "weak", "email": "weak@school.org", "upass": "1", "admin": false, "secret": "W"});
    assert_eq!(c.post("/auth").basic("foo", "bla").json(&json!({ "user": weak })).await.status(), 400);
    // PUT /auth/<aid>
    let mut put = user.clone();
    put["aid"] = json!(aid + 1000);
    let r = c.put(&format!("/auth/{aid}")).basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.text()), (400, "inconsistent aid".to_owned()));
    put["aid"] = json!(aid.to_string());
    put["upass"] = json!("salmon1");
    put["admin"] = json!(1);
    let r = c.put(&format!("/auth/{aid}")).basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!(r.status(), 204, "{}", r.text());
    assert_eq!(c.get("/who").basic("hobbes", "tuna1").await.json(), Value::Null);
    assert_eq!(c.get("/auth").basic("hobbes", "salmon1").await.status(), 200, "now an admin");
    put["aid"] = json!(9999);
    let r = c.put("/auth/9999").basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.text()), (404, "no such aid: 9999".to_owned()));
    put["aid"] = Value::Null;
    let r = c.put("/auth/99999999999999999999").basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.text()), (404, "no such aid: 99999999999999999999".to_owned()));
    put["aid"] = json!("99999999999999999999");
    let r = c.put("/auth/99999999999999999999").basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.text()), (404, "no such aid: 99999999999999999999".to_owned()));
    put["aid"] = json!(9999);
    let r = c.put("/auth/99999999999999999999").basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.text()), (400, "inconsistent aid".to_owned()));
    // `/auth/abc` is the path of `GET /auth/<login>`, not of `PUT /auth/<int:aid>`: a 405, as
    // Flask answers, that lists the methods of `/auth/<login>`.
    let r = c.put("/auth/abc").basic("foo", "bla").json(&json!({ "user": put })).await;
    assert_eq!((r.status(), r.header("allow")), (405, Some("DELETE, GET, HEAD, OPTIONS")));
    let r = c.patch("/auth/7").basic("foo", "bla").await;
    assert_eq!((r.status(), r.header("allow")), (405, Some("DELETE, GET, HEAD, OPTIONS, PUT")));
    // `/stuff/<int:sid>` alone takes `/stuff/…`: any method on `/stuff/abc` is a 404.
    for method in ["GET", "PATCH", "OPTIONS"] {
        let method = fsa::http::Method::from_bytes(method.as_bytes()).unwrap();
        assert_eq!(c.request(method.clone(), "/stuff/abc").basic("foo", "bla").await.status(), 404, "{method}");
    }
    // DELETE /auth/<login>
    assert_eq!(c.delete("/auth/hobbes@tiger.org").basic("foo", "bla").await.status(), 204);
    assert_eq!(c.get("/stuff").basic("hobbes", "salmon1").await.status(), 401);
    assert_eq!(c.delete("/auth/hobbes").basic("foo", "bla").await.status(), 404);
    assert_eq!(c.delete("/auth/wagner").basic("rosalyn", "babysit1").await.status(), 403);
    assert_eq!(c.patch("/auth/wagner").basic("foo", "bla").await.status(), 405);
}

async fn scare_routes(f: &Fixture) {
    let c = f.c();
    let r = c.post("/scare").form(&[("login", "tiger"), ("email", "t@x.org"), ("pass", "42"), ("secret", "S")]).await;
    assert_eq!(r.status(), 400, "quality: a letter is needed");
    f.register("miss", "wormwood1").await;
    let r = c.get("/scare").basic("miss", "wormwood1").await;
    let rec = json_body(&r);
    assert_eq!((rec[0].clone(), rec[1].clone()), (json!("miss"), json!("miss@comics.org")));
    assert!(rec[3] == json!(false) || rec[3] == json!(0));
    assert_eq!(c.get("/scare").basic("miss@comics.org", "wormwood1").await.json()[0], json!("miss"));
    assert_eq!(c.get("/scare").await.status(), 401);
    // tokens: basic only
    let t = f.token("miss", "wormwood1").await;
    challenged(&f.tok(c.get("/scare/token"), &t).await, f.mode);
    challenged(&c.get("/scare/token").await, f.mode);
    assert_eq!(f.tok(c.get("/scare"), &t).await.json()[0], json!("miss"));
    let r = c.get("/scare/token2").basic("miss", "wormwood1").query(&[("code", "miss:41")]).await;
    assert_eq!((r.status(), r.text()), (400, "invalid validation code for miss".to_owned()));
    let r = c.get("/scare/token2").basic("miss@comics.org", "wormwood1").query(&[("code", "miss@comics.org:42")]).await;
    assert_eq!(r.status(), 200);
    let t2 = r.json().as_str().expect("token").to_owned();
    assert_eq!(f.tok(c.get("/who"), &t2).await.json(), json!("miss@comics.org"));
    // PATCH /scare
    let r = c.patch("/scare").basic("miss", "wormwood1").form(&[("opass", "bad"), ("npass", "x1")]).await;
    assert_eq!((r.status(), r.text()), (403, "invalid password provided".to_owned()));
    let r = c.patch("/scare").basic("miss", "wormwood1").form(&[("opass", "wormwood1"), ("npass", "1")]).await;
    assert_eq!(r.status(), 400);
    let r = c.patch("/scare").basic("miss", "wormwood1").form(&[("opass", "wormwood1"), ("npass", "grammar1")]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/scare").basic("miss@comics.org", "wormwood1").await.status(), 401);
    assert_eq!(c.get("/scare").basic("miss@comics.org", "grammar1").await.status(), 200);
    // DELETE /scare: basic fails at once, a token still authenticates
    assert_eq!(c.delete("/scare").basic("miss", "grammar1").await.status(), 204);
    assert_eq!(c.get("/scare").basic("miss", "grammar1").await.status(), 401);
    let r = f.tok(c.get("/scare"), &t).await;
    assert_eq!((r.status(), r.json()), (200, Value::Null));
}

async fn types_routes(f: &Fixture) {
    let c = f.c();
    let r = c.get("/types/scalars").await;
    assert_eq!((r.status(), r.text()), (200, "i=0, f=0.0, b=False, s=".to_owned()));
    assert!(r.header("content-type").is_some_and(|ct| ct.starts_with("text/")));
    let r = c.get("/types/scalars").query(&[("i", " -12 "), ("f", "1e16"), ("b", "TRUE"), ("s", "it's")]).await;
    assert_eq!(r.text(), "i=-12, f=1e+16, b=True, s=it's");
    assert_eq!(c.get("/types/scalars?f=3.14159&i=0x10").await.text(), "i=16, f=3.14159, b=False, s=");
    assert_eq!(c.get("/types/scalars?f=0.00001").await.text(), "i=0, f=1e-05, b=False, s=");
    assert_eq!(c.get("/types/scalars?f=nan").await.text(), "i=0, f=nan, b=False, s=");
    // A tie between two shortest forms goes to the even digit, as in Python's repr.
    assert_eq!(c.get("/types/scalars?f=1125899906842624.25").await.text(), "i=0, f=1125899906842624.2, b=False, s=");
    let r = c.get("/types/scalars").json(&json!({"i": 2, "f": 15000000000.0, "b": true, "s": "x"})).await;
    assert_eq!(r.text(), "i=2, f=15000000000.0, b=True, s=x");
    // JSON floats to the nearest double, and Python's non-finite literals, as json.loads reads them
    for (body, f) in [
        (r#"{"f": 0.8e-27}"#, "8e-28"),
        (r#"{"f": 912.0685437784987}"#, "912.0685437784987"),
        (r#"{"f": -Infinity}"#, "-inf"),
    ] {
        let r = c.get("/types/scalars").body(body, "application/json").await;
        assert_eq!((r.status(), r.text()), (200, format!("i=0, f={f}, b=False, s=")), "{body}");
    }
    let r = c.get("/types/scalars").body(r#"{"f": 100000000000000000000}"#, "application/json").await;
    assert_eq!(r.status(), 400, "an integer is no float, however long");
    for bad in [json!({"f": 2}), json!({"i": 2.0}), json!({"i": true}), json!({"b": "true"}), json!({"s": 1})] {
        assert_eq!(c.get("/types/scalars").json(&bad).await.status(), 400, "{bad}");
    }
    let r = c.get("/types/scalars?i=x&b=yes").await;
    assert_eq!(r.status(), 400);
    let text = r.text();
    assert!(
        text.contains("parameter \"i\" cast error on x") && text.contains("\"b\"") && text.contains('\n'),
        "{text}"
    );
    for (j, expected) in [
        ("1", "int: 1"),
        ("2.0", "float: 2.0"),
        ("\"hi\"", "str: hi"),
        ("true", "bool: True"),
        ("null", "NoneType: None"),
        ("[1, \"a\", false]", "list: [1, 'a', False]"),
        ("{\"b\": 1, \"a\": {\"c\": \"it's\"}}", "dict: {'b': 1, 'a': {'c': \"it's\"}}"),
        // what Python's `json.loads` adds to JSON
        ("NaN", "float: nan"),
        ("[Infinity, -Infinity, 1e400]", "list: [inf, -inf, inf]"),
        ("-0", "int: 0"),
        ("123456789012345678901234567890", "int: 123456789012345678901234567890"),
        // Python's `repr` escapes what `str.isprintable` refuses: controls, formats, private
        // use, unassigned code points, separators but the space.
        (
            "[\"\\u0001\\u0085\\u00a0\\u00ad \\u00e9\\u0378\\u2028\\u3000\\ue000\\ufeff\", \"\\udb40\\udc01\"]",
            "list: ['\\x01\\x85\\xa0\\xad \u{e9}\\u0378\\u2028\\u3000\\ue000\\ufeff', '\\U000e0001']",
        ),
    ] {
        let r = c.get("/types/json").query(&[("j", j)]).await;
        assert_eq!((r.status(), r.text()), (200, expected.to_owned()), "{j}");
    }
    let r = c.get("/types/json").json(&json!({"j": "raw"})).await;
    assert_eq!(r.text(), "str: raw");
    // A JSON body member is read as `json.loads` reads it too.
    for (body, expected) in [
        (r#"{"j": -0}"#, "int: 0"),
        (r#"{"j": [1, -0, 1.0, 1e400]}"#, "list: [1, 0, 1.0, inf]"),
        (r#"{"j": 12345678901234567890123}"#, "int: 12345678901234567890123"),
    ] {
        let r = c.get("/types/json").body(body, "application/json").await;
        assert_eq!((r.status(), r.text()), (200, expected.to_owned()), "{body}");
    }
    let r = c.get("/types/scalars").body(r#"{"i": -0}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "i=0, f=0.0, b=False, s=".to_owned()));
    // A float beyond f64's range is an infinity, as json.loads reads it; an integral number
    // that long is a Python int, refused as `2` is.
    let r = c.get("/types/scalars").body(r#"{"f": -1e400}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "i=0, f=-inf, b=False, s=".to_owned()));
    let r = c.get("/types/scalars").body(format!(r#"{{"f": 1{}}}"#, "0".repeat(400)), "application/json").await;
    assert_eq!(r.status(), 400);
    assert_eq!(c.get("/types/json").await.status(), 400);
    assert_eq!(c.get("/types/json?j=%7Bbad").await.status(), 400);
    let r = c.get("/types/nat").json(&json!({"i": 3, "j": 4})).await;
    assert_eq!((r.status(), r.text()), (200, "7\n".to_owned()));
    assert_eq!(c.get("/types/nat?i=1&j=2").await.json(), json!(3));
    // Exact beyond 64 bits, of any size, as Python's integers.
    let r = c.get("/types/nat").json(&json!({"i": i64::MAX, "j": i64::MAX})).await;
    assert_eq!((r.status(), r.text()), (200, "18446744073709551614\n".to_owned()));
    let r = c.get("/types/nat").body(r#"{"i": 99999999999999999999999, "j": 1}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "100000000000000000000000\n".to_owned()));
    let r = c.get("/types/nat?i=99999999999999999999999&j=1").await;
    assert_eq!((r.status(), r.text()), (200, "100000000000000000000000\n".to_owned()));
    let r = c.get("/types/scalars?i=-99999999999999999999999").await;
    assert_eq!((r.status(), r.text()), (200, "i=-99999999999999999999999, f=0.0, b=False, s=".to_owned()));
    let r = c.get("/types/scalars").body(r#"{"i": 12345678901234567890123}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "i=12345678901234567890123, f=0.0, b=False, s=".to_owned()));
    let (long, longer) = ("9".repeat(60), format!("1{}", "0".repeat(60)));
    let r = c.get("/types/nat").body(format!(r#"{{"i": {long}, "j": 1}}"#), "application/json").await;
    assert_eq!((r.status(), r.text()), (200, format!("{longer}\n")));
    let r = c.get(&format!("/types/nat?i=0x{}&j=1_0", "f".repeat(40))).await;
    assert_eq!((r.status(), r.text()), (200, "1461501637330902918203684832716283019655932542985\n".to_owned()));
    let r = c.get(&format!("/types/nat?i=-{long}&j=1")).await;
    assert_eq!(
        (r.status(), r.text()),
        (400, format!("parameter \"i\" cast error on -{long}: invalid natural: -{long}"))
    );
    let r = c.get(&format!("/types/scalars?i=-{long}")).await;
    assert_eq!((r.status(), r.text()), (200, format!("i=-{long}, f=0.0, b=False, s=")));
    let r = c.get("/types/scalars").body(format!(r#"{{"i": {longer}}}"#), "application/json").await;
    assert_eq!((r.status(), r.text()), (200, format!("i={longer}, f=0.0, b=False, s=")));
    let r = c.get("/types/scalars").body(format!(r#"{{"i": {longer}.0}}"#), "application/json").await;
    assert_eq!(r.status(), 400, "a float is no int");
    // As many decimal digits as Python reads, and no more.
    let most = "9".repeat(4300);
    assert_eq!(c.get(&format!("/types/scalars?i={most}")).await.text(), format!("i={most}, f=0.0, b=False, s="));
    let r = c.get("/types/scalars").body(format!(r#"{{"i": 1{most}}}"#), "application/json").await;
    assert_eq!(r.status(), 400);
    let r = c.get(&format!("/types/scalars?i=1{most}")).await;
    // (the value quoted shortened, as every long value in a message)
    let text = r.text();
    assert!(
        r.status() == 400
            && text.starts_with("parameter \"i\" cast error on 19999")
            && text
                .ends_with("…: Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits"),
        "{text}"
    );
    // A literal in base 16 (or 8, 2) is refused when its value has more decimal digits than
    // that, which the route would print (Python reads it, then fails to print it), and a huge
    // one is refused at once (3 million digits took 23 s to read and print).
    let r = c.get(&format!("/types/scalars?i=0x{}", "f".repeat(3571))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().split(',').next().map(str::len), Some("i=".len() + 4300));
    // (binary: 14,287 ones make 4,301 decimal digits, found once read)
    for literal in
        [format!("0x{}", "f".repeat(3572)), format!("0b{}", "1".repeat(14287)), format!("0x{}", "f".repeat(3_000_000))]
    {
        let r = c.get("/types/nat").form(&[("i", literal.as_str()), ("j", "1")]).await;
        let text = r.text();
        assert!(r.status() == 400 && text.contains("Exceeds the limit (4300 digits)"), "{text:.200}");
    }
    let r = c.get("/types/scalars?i=1__0").await;
    assert_eq!(r.text(), "parameter \"i\" cast error on 1__0: invalid literal for int");
    let r = c.get("/types/nat").json(&json!({"i": -3, "j": -4})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("-3") && r.text().contains("-4"), "{}", r.text());
    for route in ["/types/char", "/types/pers"] {
        let name = &route[7..];
        let r = c.post(route).json(&json!({ name: {"name": "Calvin", "age": 6} })).await;
        assert_eq!((r.status(), r.json()), (201, json!({"name": "Calvin", "age": 6})));
        let r = c.post(route).form(&[(name, "{\"name\": \"Hobbes\", \"age\": \"7\"}")]).await;
        assert_eq!((r.status(), r.json()), (201, json!({"name": "Hobbes", "age": 7})));
        let r = c.post(route).json(&json!({ name: {"name": "Calvin"} })).await;
        assert_eq!(r.status(), 400);
        assert!(r.text().contains("cast error"), "{}", r.text());
        // `age` is read as pydantic's lax mode reads an int.
        for (age, expected) in [(json!(12.0), 12), (json!(true), 1), (json!(" -1_000.00 "), -1000), (json!("012"), 12)]
        {
            let r = c.post(route).json(&json!({ name: {"name": "Susie", "age": age} })).await;
            assert_eq!((r.status(), r.json()), (201, json!({"name": "Susie", "age": expected})), "{age}");
        }
        // Python's ints have no bound: beyond 64 bits, every digit is kept.
        let long = format!("-{}", "9".repeat(45));
        for (body, expected) in [
            (r#"{"name": "S", "age": 100000000000000000000}"#, "100000000000000000000"),
            (r#"{"name": "S", "age": "-9223372036854775809"}"#, "-9223372036854775809"),
            (&format!(r#"{{"name": "S", "age": {long}}}"#), &long),
            (&format!(r#"{{"name": "S", "age": " {long}.00 "}}"#), &long),
            (r#"{"name": "S", "age": 9.2e18}"#, "9200000000000000000"),
        ] {
            let r = c.post(route).body(format!("{{\"{name}\": {body}}}"), "application/json").await;
            assert_eq!((r.status(), r.text()), (201, format!("{{\"name\":\"S\",\"age\":{expected}}}\n")), "{body}");
        }
        let r = c.post(route).form(&[(name, "{\"name\": \"S\", \"age\": 18446744073709551617}")]).await;
        assert_eq!((r.status(), r.text()), (201, "{\"name\":\"S\",\"age\":18446744073709551617}\n".to_owned()));
        // A float beyond 64 bits is refused, as pydantic does (`int_parsing_size`).
        for age in [
            json!(12.5),
            json!("12.5"),
            json!("0x10"),
            json!("1__0"),
            json!(null),
            json!([1]),
            json!(1e40),
            json!(1e20),
        ] {
            let r = c.post(route).json(&json!({ name: {"name": "Susie", "age": age} })).await;
            assert_eq!(r.status(), 400, "{age}");
            assert!(r.text().contains("cast error"), "{}", r.text());
        }
    }
    let r = c.get("/types/ls").json(&json!({"ls": ["a", "b", "c"]})).await;
    assert_eq!(r.json(), json!({"len": 3, "all": "a/b/c"}));
    let r = c.get("/types/ls").query(&[("ls", "[\"x\"]")]).await;
    assert_eq!(r.json(), json!({"len": 1, "all": "x"}));
    let r = c.get("/types/ls").json(&json!({"ls": [1, 2]})).await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"ls\" cast error on [1, 2]: expecting list[str]".to_owned()));
    // The value as Python's `str` writes it, as FlaskSimpleAuth's message does.
    for (ls, shown) in [
        (json!("ab"), "ab"),
        (json!({"a": 1, "b": [true, null, 1.5]}), "{'a': 1, 'b': [True, None, 1.5]}"),
        (json!(null), "None"),
        (json!(["x", 1e20]), "['x', 1e+20]"),
    ] {
        let r = c.get("/types/ls").json(&json!({ "ls": ls })).await;
        assert_eq!(r.text(), format!("parameter \"ls\" cast error on {shown}: expecting list[str]"));
    }
    let r = c.get("/types/ls").body(r#"{"ls": [1e400, 99999999999999999999999]}"#, "application/json").await;
    assert_eq!(r.text(), "parameter \"ls\" cast error on [inf, 99999999999999999999999]: expecting list[str]");
    let r = c.get("/types/ls").query(&[("ls", "[1, 2]")]).await;
    assert_eq!(r.text(), "parameter \"ls\" cast error on [1, 2]: expecting list[str]");
}

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("jwt payload");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64 payload");
    serde_json::from_slice(&raw).expect("json claims")
}

async fn jwt_routes(f: &Fixture) {
    let c = f.c();
    let t = f.token("foo", "bla").await;
    let claims = jwt_claims(&t);
    assert_eq!(
        (claims["sub"].clone(), claims["aud"].clone(), claims["iss"].clone()),
        (json!("foo"), json!("demo"), json!("fabien"))
    );
    assert!(claims["exp"].is_i64());
    assert_eq!(
        c.get("/stuff").header("authorization", &format!("bearer {t}")).await.status(),
        401,
        "Bearer is case-sensitive"
    );
    // a token from another secret is refused
    let other =
        demo::configure(fsa::App::new(), TokenMode::Jwt).config("FSA_TOKEN_SECRET", "other").build().expect("app");
    let forged = other.create_token("foo", TokenOptions::default()).expect("token");
    assert_eq!(c.get("/stuff").bearer(&forged).await.status(), 401);
    // oauth: bearer JWT with scopes only
    f.register("oauthy", "scoped1").await;
    let scoped = |scopes: &[&str]| {
        f.app.create_token("oauthy", TokenOptions::default().scopes(scopes.iter().copied())).expect("scoped token")
    };
    let r = c.get("/oauth").bearer(&scoped(&["read"])).await;
    assert_eq!(json_body(&r)[0], json!("oauthy"));
    assert_eq!(c.get("/oauth").bearer(&scoped(&["write"])).await.status(), 403);
    assert_eq!(c.get("/oauth").basic("oauthy", "scoped1").await.status(), 401);
    challenged(&c.get("/oauth").await, f.mode);
    let ghost = f.app.create_token("ghost", TokenOptions::default().scopes(["read"])).expect("token");
    assert_eq!(c.get("/oauth").bearer(&ghost).await.json(), Value::Null);
    let r = c.patch("/oauth").bearer(&scoped(&["read", "write"])).form(&[("email", "o@auth.org")]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(c.get("/who").basic("o@auth.org", "scoped1").await.json(), json!("o@auth.org"));
    assert_eq!(c.delete("/oauth").bearer(&scoped(&["read"])).await.status(), 403);
    assert_eq!(c.delete("/oauth").bearer(&scoped(&["delete"])).await.status(), 204);
    assert_eq!(c.get("/who").basic("o@auth.org", "scoped1").await.json(), Value::Null);
    assert_eq!(c.get("/oauth").bearer(&scoped(&["read"])).await.json(), Value::Null);
    assert_eq!(c.get("/mfa/test").bearer(&t).await.status(), 404, "no /mfa in jwt mode");
}

async fn fsa_routes(f: &Fixture) {
    let c = f.c();
    let t = f.token("foo", "bla").await;
    let parts: Vec<&str> = t.split(':').collect();
    assert_eq!(parts.len(), 4, "{t}");
    assert_eq!((parts[0], parts[1]), ("demo", "foo"));
    assert!(parts[2].len() == 14 && parts[2].bytes().all(|b| b.is_ascii_digit()), "{t}");
    assert!(parts[3].len() == 32 && parts[3].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(c.get("/stuff").query(&[("AUTH", &t)]).await.status(), 200);
    assert_eq!(c.post("/stuff").form(&[("AUTH", &t), ("sname", "form")]).await.status(), 201);
    assert_eq!(c.post("/stuff").json(&json!({"AUTH": t, "sname": "json"})).await.status(), 201);
    let r = c.get("/stuff").query(&[("AUTH", "demo:foo:20990101000000:00")]).basic("foo", "bla").await;
    assert_eq!(r.status(), 200, "bad token then valid basic");
    assert_eq!(c.get("/stuff").query(&[("AUTH", "demo:foo:20990101000000:00")]).await.status(), 401);
    assert_eq!(c.get("/oauth").query(&[("AUTH", &t)]).await.status(), 404, "no /oauth in fsa mode");
    // MFA by code
    let r = c.get("/mfa/login").basic("foo", "bla").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let mfa = r.json().as_str().expect("mfa token").to_owned();
    assert!(mfa.starts_with("mfa:foo:"), "{mfa}");
    assert_eq!(c.get("/mfa/login").query(&[("AUTH", &t)]).await.status(), 401, "basic only");
    let code = std::fs::read_to_string(f.dir.join("foo_code.txt")).expect("code file");
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert_eq!(c.get("/mfa/test").query(&[("AUTH", &mfa)]).await.status(), 401, "mfa realm token");
    challenged(&c.get("/mfa/test").await, f.mode);
    challenged(&c.post("/mfa/code").form(&[("code", "1")]).await, f.mode);
    assert_eq!(c.post("/mfa/code").query(&[("AUTH", &t)]).form(&[("code", &code)]).await.status(), 401);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(c.post("/mfa/code").form(&[("AUTH", &mfa), ("code", wrong)]).await.status(), 401);
    let r = c.post("/mfa/code").form(&[("AUTH", &mfa), ("code", &code)]).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let demo_token = r.json().as_str().expect("token").to_owned();
    assert!(demo_token.starts_with("demo:foo:"));
    assert_eq!(c.post("/mfa/code").form(&[("AUTH", &mfa), ("code", &code)]).await.status(), 401, "code used");
    let r = c.get("/mfa/test").query(&[("AUTH", &demo_token)]).await;
    assert_eq!((r.status(), r.text()), (200, "MFA succeeded for foo!".to_owned()));
    assert_eq!(c.get("/mfa/test").basic("foo", "bla").await.status(), 401, "token only");
    assert_eq!(c.get("/mfa/login").basic("nobody", "x1").await.status(), 401);
    let r = c.get("/mfa/login").basic("foo@school.org", "bla").await;
    assert_eq!((r.status(), r.text()), (400, "cannot set user code".to_owned()), "the row is found by login");
    // Identities that name no file here: the client's 400, not the file system's 500. A name
    // beyond 255 bytes; a NUL byte, which SQLite stores and PostgreSQL's text refuses (a failed
    // insert, the spec's 5xx).
    let long = "L".repeat(300);
    f.register(&long, "pass1").await;
    let r = c.get("/mfa/login").basic(&long, "pass1").await;
    assert_eq!((r.status(), r.text()), (400, "cannot set user code".to_owned()));
    let nul = "nul\0byte";
    let r = c.post("/scare").form(&[("login", nul), ("email", "n@x.org"), ("pass", "pass1"), ("secret", "ABCD")]).await;
    if f.schema.is_some() {
        assert_eq!(r.status(), 500, "{}", r.text());
    } else {
        assert_eq!(r.status(), 201, "{}", r.text());
        let r = c.get("/mfa/login").basic(nul, "pass1").await;
        assert_eq!((r.status(), r.text()), (400, "cannot set user code".to_owned()));
    }
    // MFA by TOTP
    let mfa = c.get("/mfa/login").basic("bla", "foo").await.json().as_str().expect("token").to_owned();
    let otp = demo::mfa::totp("BLASECRETBLASECRET", demo::mfa::current_step(), 6).expect("otp");
    let bad = demo::mfa::totp("BLASECRETBLASECRET", demo::mfa::current_step() + 10, 6).expect("otp");
    assert_eq!(c.post("/mfa/totp").form(&[("AUTH", &mfa), ("otp", &bad)]).await.status(), 401);
    let r = c.post("/mfa/totp").form(&[("AUTH", &mfa), ("otp", &otp)]).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let demo_token = r.json().as_str().expect("token").to_owned();
    assert_eq!(c.get("/mfa/test").query(&[("AUTH", &demo_token)]).await.text(), "MFA succeeded for bla!");
    assert_eq!(c.post("/mfa/totp").form(&[("AUTH", &mfa), ("otp", &otp)]).await.status(), 401, "replay");
}

async fn all_routes(f: Fixture) {
    open_routes(&f).await;
    stuff_routes(&f).await;
    users_routes(&f).await;
    auth_routes(&f).await;
    scare_routes(&f).await;
    types_routes(&f).await;
    match f.mode {
        TokenMode::Jwt => jwt_routes(&f).await,
        TokenMode::Fsa => fsa_routes(&f).await,
    }
}

#[tokio::test]
async fn sqlite_jwt_all_routes() {
    all_routes(sqlite(TokenMode::Jwt).await).await;
}

#[tokio::test]
async fn sqlite_fsa_all_routes() {
    all_routes(sqlite(TokenMode::Fsa).await).await;
}

#[tokio::test]
async fn postgres_jwt_all_routes() {
    if let Some(f) = postgres(TokenMode::Jwt).await {
        all_routes(f).await;
    }
}

#[tokio::test]
async fn postgres_fsa_all_routes() {
    if let Some(f) = postgres(TokenMode::Fsa).await {
        all_routes(f).await;
    }
}

/// Every start recreates the seed state (the specification's "created at start from
/// scratch"), unless `init` is off (`DEMO_INIT=0`), which keeps the database as it is.
#[tokio::test]
async fn database_is_recreated_at_start_unless_kept() {
    let dir = scratch_dir();
    let mut s = Settings { upload_dir: dir.clone(), ..Settings::default() };
    s.db.url = Some(dir.join("stuff.db").to_string_lossy().into_owned());
    let stuff_count = |app: &fsa::App| {
        let c = app.test_client();
        async move { c.get("/stuff").basic("foo", "bla").await.json().as_array().map(Vec::len) }
    };
    let add = |app: &fsa::App| {
        let c = app.test_client();
        async move { c.post("/stuff").basic("foo", "bla").form(&[("sname", "kept")]).await.status() }
    };
    let app = demo::build(&s).await.expect("app");
    assert_eq!(add(&app).await, 201);
    assert_eq!(stuff_count(&app).await, Some(4));
    drop(app);
    let app = demo::build(&s).await.expect("app");
    assert_eq!(stuff_count(&app).await, Some(3), "recreated at start");
    assert_eq!(add(&app).await, 201);
    drop(app);
    s.init = false;
    let app = demo::build(&s).await.expect("app");
    assert_eq!(stuff_count(&app).await, Some(4), "kept");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn otp_digits_setting() {
    let dir = scratch_dir();
    let mut s = Settings { mode: TokenMode::Fsa, otp_digits: 8, upload_dir: dir.clone(), ..Settings::default() };
    s.db.url = Some(dir.join("stuff.db").to_string_lossy().into_owned());
    let app = demo::build(&s).await.expect("app");
    let c = app.test_client();
    let mfa = c.get("/mfa/login").basic("foo", "bla").await.json().as_str().expect("token").to_owned();
    let code = std::fs::read_to_string(dir.join("foo_code.txt")).expect("code file");
    assert!(code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let six = demo::mfa::totp("FOOSECRETFOOSECRET", demo::mfa::current_step(), 6).expect("otp");
    assert_eq!(c.post("/mfa/totp").form(&[("AUTH", &mfa), ("otp", &six)]).await.status(), 401);
    let eight = demo::mfa::totp("FOOSECRETFOOSECRET", demo::mfa::current_step(), 8).expect("otp");
    assert_eq!(c.post("/mfa/totp").form(&[("AUTH", &mfa), ("otp", &eight)]).await.status(), 200);
    let _ = std::fs::remove_dir_all(dir);
}
