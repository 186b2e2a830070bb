//! The benchmark application: the nine-route workload of the side-by-side harness
//! (`bench/fsa.conf`, `docs/PERFORMANCE.md`), written with fsa's ordinary DSL.
//!
//! | route | authentication | authorization |
//! |---|---|---|
//! | `GET /hello` | none | `OPEN` |
//! | `GET /basic` | HTTP Basic, successful checks cached (`FSA_CACHE_PASSWORDS`, default) | `AUTH` |
//! | `GET /basic-nocache` | HTTP Basic, one bcrypt check per request (custom scheme `nocache`) | `AUTH` |
//! | `GET /token` | fsa token (`FSA_TOKEN_TYPE=fsa`, the app's token configuration) | `AUTH` |
//! | `GET /jwt` | JWT HS256 (custom scheme `jwt`: a second token configuration) | `AUTH` |
//! | `GET /params/<id>?a=&b=&c=` | none | `OPEN` |
//! | `POST /json` | none | `OPEN`, JSON members validated into a garde model |
//! | `GET /stuff/<id>` | fsa token | object permission `("stuff", id, "read")` |
//! | `GET /admin` | fsa token | group `admin` |
//! | `GET /login/token`, `GET /login/jwt` | HTTP Basic | `AUTH` |
//!
//! One app holds one `FSA_TOKEN_TYPE`; the JWT routes use a second [`Tokens`] built from the
//! same configuration with `FSA_TOKEN_TYPE=jwt`, through a custom [`AuthScheme`], which is how
//! a user would serve two token kinds from one app.
//!
//! ```sh
//! PORT=18300 cargo run --release --example bench
//! curl -u calvin:hobbes http://127.0.0.1:18300/login/token
//! ```
//!
//! The server runs on one `#[tokio::main]` runtime: under `taskset -c 0` it starts one worker.
//! No access log (`FSA_LOGGING_LEVEL` unset).

use std::sync::Arc;

use base64::Engine;
use fsa::prelude::*;
use fsa::token::Tokens;
use fsa::{AuthScheme, Config};
use serde::{Deserialize, Serialize};

/// The users: calvin/hobbes, stored as a bcrypt hash (cost 4, the default).
struct Users {
    calvin: String,
}

impl Users {
    fn get(&self, login: &str) -> Option<String> {
        (login == "calvin").then(|| self.calvin.clone())
    }
}

/// JWT tokens for the `/jwt` routes, beside the app's fsa tokens.
#[derive(Clone)]
struct JwtTokens(Arc<Tokens>);

/// `Authorization: Bearer <JWT>` checked with the second token configuration, its validations
/// cached in the app's cache.
struct JwtScheme(JwtTokens, String);

impl AuthScheme for JwtScheme {
    async fn authenticate(&self, ctx: &Context) -> fsa::Result<Option<String>> {
        let Some(value) = ctx.headers().get(fsa::http::header::AUTHORIZATION) else { return Ok(None) };
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer "));
        let Some(token) = token else { return Err(Error::unauthorized("missing bearer token")) };
        // Through the app's token cache, like the app's own tokens (`FSA_CACHE_TOKENS`).
        ctx.app().check_token_with(&self.0.0, token.trim(), &self.1).await.map(|info| Some(info.login))
    }
}

/// HTTP Basic without the password-check cache: one bcrypt verification per request.
struct UncachedBasic(Arc<Users>);

impl AuthScheme for UncachedBasic {
    async fn authenticate(&self, ctx: &Context) -> fsa::Result<Option<String>> {
        let bad = || Error::unauthorized("invalid basic authentication");
        let Some(value) = ctx.headers().get(fsa::http::header::AUTHORIZATION) else { return Ok(None) };
        let encoded = value.to_str().ok().and_then(|v| v.strip_prefix("Basic ")).ok_or_else(bad)?;
        let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        let (login, password) = text.split_once(':').ok_or_else(bad)?;
        let hash = self.0.get(login).ok_or_else(bad)?;
        if ctx.app().check_password(password, &hash).await { Ok(Some(login.to_owned())) } else { Err(bad()) }
    }
}

#[derive(Serialize)]
struct UserOut {
    user: String,
}

#[derive(Serialize)]
struct Msg {
    msg: &'static str,
}

#[get("/hello", authorize = "OPEN")]
fn hello() -> Json<Msg> {
    Json(Msg { msg: "hello" })
}

#[get("/basic", authorize = "AUTH", auth = "basic")]
fn basic(user: CurrentUser) -> Json<UserOut> {
    Json(UserOut { user: user.0 })
}

#[get("/basic-nocache", authorize = "AUTH", auth = "nocache")]
fn basic_nocache(user: CurrentUser) -> Json<UserOut> {
    Json(UserOut { user: user.0 })
}

#[get("/token", authorize = "AUTH", auth = "token")]
fn token(user: CurrentUser) -> Json<UserOut> {
    Json(UserOut { user: user.0 })
}

#[get("/jwt", authorize = "AUTH", auth = "jwt")]
fn jwt(user: CurrentUser) -> Json<UserOut> {
    Json(UserOut { user: user.0 })
}

#[derive(Serialize)]
struct ParamsOut {
    id: i64,
    a: i64,
    b: String,
    c: bool,
}

#[get("/params/<id>", authorize = "OPEN")]
fn params(id: i64, a: i64, b: String, c: bool) -> Json<ParamsOut> {
    Json(ParamsOut { id, a, b, c })
}

/// The validated record of `/json`.
#[derive(Deserialize, Serialize, garde::Validate)]
struct Person {
    #[garde(length(min = 1, max = 64))]
    login: String,
    #[garde(length(min = 1, max = 64))]
    firstname: String,
    #[garde(length(min = 1, max = 64))]
    lastname: String,
    #[garde(range(min = 0, max = 150))]
    age: i64,
}

/// The JSON members are typed parameters, then validated as one record (FSA's idiom).
#[post("/json", authorize = "OPEN")]
fn json(login: String, firstname: String, lastname: String, age: i64) -> fsa::Result<Json<Person>> {
    use garde::Validate;
    let p = Person { login, firstname, lastname, age };
    p.validate().map_err(|e| Error::bad_request(e.to_string()))?;
    Ok(Json(p))
}

#[derive(Serialize)]
struct StuffOut {
    id: i64,
    user: String,
}

#[get("/stuff/<id>", authorize = ("stuff", "id", "read"), auth = "token")]
fn stuff(id: i64, user: CurrentUser) -> Json<StuffOut> {
    Json(StuffOut { id, user: user.0 })
}

#[derive(Serialize)]
struct AdminOut {
    user: String,
    admin: bool,
}

#[get("/admin", authorize = "admin", auth = "token")]
fn admin(user: CurrentUser) -> Json<AdminOut> {
    Json(AdminOut { user: user.0, admin: true })
}

#[derive(Serialize)]
struct TokenOut {
    token: String,
}

#[get("/login/token", authorize = "AUTH", auth = "basic")]
fn login_token(user: CurrentUser, app: App) -> fsa::Result<Json<TokenOut>> {
    Ok(Json(TokenOut { token: app.create_token(&user, TokenOptions::default())? }))
}

#[get("/login/jwt", authorize = "AUTH", auth = "basic")]
fn login_jwt(user: CurrentUser, jwt: State<JwtTokens>, app: App) -> fsa::Result<Json<TokenOut>> {
    let realm = &app.config().realm;
    Ok(Json(TokenOut { token: jwt.0.0.create(&user, realm, &TokenOptions::default())? }))
}

/// The configuration: tokens for 24 h, realm `bench`, plain HTTP on loopback.
fn config() -> Result<Config, fsa::ConfigError> {
    let mut config = Config::from_env()?;
    let secret = std::env::var("BENCH_SECRET").unwrap_or_else(|_| "bench-secret-0123456789abcdef0123456789".into());
    config.set("FSA_AUTH", vec!["token", "basic", "none"])?;
    config.set("FSA_REALM", "bench")?;
    config.set("FSA_SECURE", false)?;
    config.set("FSA_TOKEN_SECRET", secret)?;
    config.set("FSA_TOKEN_DELAY", 24.0 * 60.0)?;
    Ok(config)
}

/// The app, shared with the example's tests.
async fn app() -> Result<App, fsa::ConfigError> {
    let config = config()?;
    let hash = App::new().build()?.hash_password_unchecked("hobbes").await?;
    let users = Arc::new(Users { calvin: hash });
    let mut jwt_config = config.clone();
    jwt_config.set("FSA_TOKEN_TYPE", "jwt")?;
    let jwt = JwtTokens(Arc::new(Tokens::new(&jwt_config)?));
    let realm = config.realm.clone();
    let u = users.clone();
    App::new()
        .configure(|c| *c = config)
        .get_user_pass(move |login| {
            let stored = u.get(&login);
            async move { Ok(stored) }
        })
        .authentication("nocache", UncachedBasic(users))
        .authentication("jwt", JwtScheme(jwt.clone(), realm))
        .group_check("admin", |login| async move { Ok(login == "calvin") })
        .object_perms("stuff", |_login: String, id: i64, _role| async move { Ok(Some(id < 1000)) })
        .state(jwt)
        .routes(fsa::routes![
            hello,
            basic,
            basic_nocache,
            token,
            jwt,
            params,
            json,
            stuff,
            admin,
            login_token,
            login_jwt
        ])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(18300);
    let app = app().await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    eprintln!(
        "fsa bench on http://{addr}/ (available_parallelism={})",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn workload_contract() {
        let app = app().await.unwrap();
        let c = app.test_client();
        let body = |r: fsa::TestResponse| (r.status(), r.text());
        let (s, t) = body(c.get("/hello").await);
        assert!(s == 200 && t.contains("hello"), "{s} {t}");
        for path in ["/basic", "/basic-nocache"] {
            let (s, t) = body(c.get(path).basic("calvin", "hobbes").await);
            assert!(s == 200 && t.contains("calvin"), "{path}: {s} {t}");
            assert_eq!(c.get(path).basic("calvin", "nope").await.status(), 401, "{path}");
            assert_eq!(c.get(path).await.status(), 401, "{path}");
        }
        let tok: serde_json::Value =
            serde_json::from_str(&c.get("/login/token").basic("calvin", "hobbes").await.text()).unwrap();
        let tok = tok["token"].as_str().unwrap().to_owned();
        let jwt: serde_json::Value =
            serde_json::from_str(&c.get("/login/jwt").basic("calvin", "hobbes").await.text()).unwrap();
        let jwt = jwt["token"].as_str().unwrap().to_owned();
        assert_eq!(jwt.matches('.').count(), 2, "a JWT: {jwt}");
        let (s, t) = body(c.get("/token").bearer(&tok).await);
        assert!(s == 200 && t.contains("calvin"), "{s} {t}");
        assert_eq!(c.get("/token").bearer("bench:calvin:20990101000000:00").await.status(), 401);
        assert_eq!(c.get("/token").bearer(&jwt).await.status(), 401, "a JWT is not an fsa token");
        assert_eq!(c.get("/token").await.status(), 401);
        let (s, t) = body(c.get("/jwt").bearer(&jwt).await);
        assert!(s == 200 && t.contains("calvin"), "{s} {t}");
        assert_eq!(c.get("/jwt").bearer(&tok).await.status(), 401, "an fsa token is not a JWT");
        assert_eq!(c.get("/jwt").bearer("x.y.z").await.status(), 401);
        assert_eq!(c.get("/jwt").await.status(), 401);
        let (s, t) = body(c.get("/params/12?a=1&b=foo&c=true").await);
        assert!(s == 200 && t.contains("foo") && t.contains("12"), "{s} {t}");
        assert_eq!(c.get("/params/12?a=x&b=foo&c=true").await.status(), 400);
        let person = serde_json::json!({"login": "x", "firstname": "y", "lastname": "z", "age": 42});
        let (s, t) = body(c.post("/json").json(&person).await);
        assert!(s == 200 && t.contains("\"age\":42"), "{s} {t}");
        let old = serde_json::json!({"login": "x", "firstname": "y", "lastname": "z", "age": 420});
        assert_eq!(c.post("/json").json(&old).await.status(), 400);
        let (s, t) = body(c.get("/stuff/12").bearer(&tok).await);
        assert!(s == 200 && t.contains("12"), "{s} {t}");
        assert_eq!(c.get("/stuff/1200").bearer(&tok).await.status(), 403);
        assert_eq!(c.get("/stuff/12").await.status(), 401);
        let (s, t) = body(c.get("/admin").bearer(&tok).await);
        assert!(s == 200 && t.contains("calvin"), "{s} {t}");
        assert_eq!(c.get("/admin").await.status(), 401);
    }
}
