//! The "features" fixture: one program, three configurations (`FEATURES_CONFIG=main|jwt|fake`,
//! port `FEATURES_PORT`, by default 18081, 18082 and 18083), exercising authentication,
//! authorization and typed parameters as specified in `features-app.md`.
//! `scripts/features.sh start` runs all three.
//!
//! ```sh
//! FEATURES_CONFIG=main FEATURES_PORT=18081 cargo run --example features
//! curl -u calvin:Hobbes123 http://127.0.0.1:18081/whoami
//! ```

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use fsa::http;
use fsa::prelude::*;
use fsa::{CurrentLogin, CurrentScheme, Kwargs, Response, Scalar, Scopes, Special, UploadedFile};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

// ---------------------------------------------------------------- data (§1)

/// The in-memory "database" shared by hooks and routes.
struct Data {
    passwords: RwLock<HashMap<String, String>>,
    beta: RwLock<BTreeSet<String>>,
}

type Db = Arc<Data>;

const USERS: [(&str, &str); 4] =
    [("calvin", "Hobbes123"), ("hobbes", "Tiger456"), ("susie", "Derkins789"), ("moe", "Bully1000")];
const STUFF: [(i128, &str, Option<&str>, &str); 3] = [
    (1, "calvin", Some("hobbes"), "transmogrifier"),
    (2, "hobbes", None, "tuna sandwich"),
    (3, "susie", Some("calvin"), "mr bun"),
];

/// Seeded users with bcrypt (cost 4) hashes, computed at startup.
fn seed() -> fsa::Result<Data> {
    let bcrypt = fsa::password::PasswordScheme::Bcrypt { cost: 4, prefix: fsa::password::BcryptPrefix::TwoB };
    let passwords =
        USERS.iter().map(|(l, p)| Ok((l.to_string(), bcrypt.hash_blocking(p)?))).collect::<fsa::Result<_>>()?;
    Ok(Data { passwords: RwLock::new(passwords), beta: RwLock::new(BTreeSet::new()) })
}

impl Data {
    fn in_group(&self, login: &str, group: &str) -> bool {
        match group {
            "admin" => login == "calvin",
            "reader" => self.passwords.read().is_ok_and(|p| p.contains_key(login)),
            "writer" => matches!(login, "calvin" | "susie"),
            "beta" => self.beta.read().is_ok_and(|b| b.contains(login)),
            _ => false,
        }
    }
}

fn email(login: &str) -> Option<String> {
    matches!(login, "calvin" | "hobbes" | "susie").then(|| format!("{login}@example.org"))
}

// ---------------------------------------------------------------- hooks

/// The external directory (§1.2).
async fn directory(login: String, password: String) -> fsa::Result<Option<bool>> {
    match (login.as_str(), password.as_str()) {
        ("outage", _) => Err(Error::new(503, "directory unavailable")),
        ("rosalyn", "Babysit42") | ("calvin", "Spaceman9") => Ok(Some(true)),
        _ => Ok(None),
    }
}

/// Custom scheme `xyz`: an API key in `X-Api-Key` (§1.5).
fn api_key(ctx: &Context) -> fsa::Result<Option<String>> {
    match ctx.headers().get("x-api-key").map(|v| v.as_bytes()) {
        None => Ok(None),
        Some(b"key-calvin-0001") => Ok(Some("calvin".into())),
        Some(b"key-susie-0002") => Ok(Some("susie".into())),
        Some(_) => Err(Error::unauthorized("invalid api key")),
    }
}

/// Object permissions of domain `stuff` (§1.6): `None` is "not found".
fn stuff_perm(db: &Data, login: &str, sid: i128, role: Option<&str>) -> Option<bool> {
    let (_, owner, shared, _) = STUFF.iter().find(|s| s.0 == sid)?;
    let admin = db.in_group(login, "admin");
    Some(match role {
        Some("read") => *owner == login || *shared == Some(login) || admin,
        Some("update") => *owner == login,
        _ => *owner == login || admin,
    })
}

/// Object permissions of domain `doc` (§1.7).
fn doc_perm(login: &str, folder: &str, num: i128, role: Option<&str>) -> Option<bool> {
    (num <= 100).then(|| folder == login || (role == Some("read") && folder == "public"))
}

/// Fixture-only client address override (§3.10). A value that is not an IP address (a host
/// name, a scoped IPv6 address, a list) leaves the client's address unknown, which no rule
/// takes for loopback, as Werkzeug's `REMOTE_ADDR` set to that text is not `127.*` or `::1`.
fn fixture_addr(parts: &http::request::Parts, peer: Option<IpAddr>) -> Option<IpAddr> {
    match parts.headers.get("x-fixture-remote-addr") {
        Some(v) => v.to_str().ok()?.trim().parse().ok(),
        None => peer,
    }
}

/// fake config: `X-Teapot: yes` answers 418 instead of the route (§2.3).
fn teapot(ctx: &Context) -> Option<Response> {
    if ctx.headers().get("x-teapot").is_none_or(|v| v != "yes") {
        return None;
    }
    (format!("teapot for {}", ctx.user().unwrap_or("None")), 418).respond().ok()
}

// ---------------------------------------------------------------- shared routes

#[get("/config", authorize = "OPEN", auth = "none")]
fn config(name: State<&'static str>) -> Json<Value> {
    Json(json!({"config": *name}))
}

#[get("/whoami", authorize = "AUTH")]
fn whoami(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user}))
}

// ---------------------------------------------------------------- main §4.1 identification

#[get("/auth/basic", authorize = "AUTH", auth = "basic")]
fn auth_basic(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user, "scheme": scheme.0}))
}

#[route("/auth/param", method = ["GET", "POST"], authorize = "AUTH", auth = "param")]
fn auth_param(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user, "scheme": scheme.0}))
}

#[get("/auth/token", authorize = "AUTH", auth = "token")]
fn auth_token(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user, "scheme": scheme.0}))
}

#[get("/auth/custom", authorize = "AUTH", auth = "xyz")]
fn auth_custom(user: CurrentUser, scheme: CurrentScheme) -> Json<Value> {
    Json(json!({"user": user, "scheme": scheme.0}))
}

/// The answer of `/auth/password`.
#[derive(Serialize)]
struct UserN {
    user: CurrentUser,
    n: i128,
}

#[get("/auth/password", authorize = "AUTH", auth = ["basic", "param"])]
fn auth_password(user: CurrentUser, #[default(0)] n: i128) -> Json<UserN> {
    Json(UserN { user, n })
}

// ---------------------------------------------------------------- main §4.2 tokens and MFA

#[get("/token", authorize = "AUTH", auth = ["basic", "param"])]
fn token(user: CurrentUser, app: App) -> fsa::Result<Json<Value>> {
    Ok(Json(json!({"token": app.create_token(&user, TokenOptions::default())?})))
}

#[get("/token/short", authorize = "AUTH", auth = "basic")]
fn token_short(user: CurrentUser, app: App) -> fsa::Result<Json<Value>> {
    Ok(Json(json!({"token": app.create_token(&user, TokenOptions::default().delay(3.0 / 60.0))?})))
}

#[get("/mfa/login1", authorize = "AUTH", auth = "basic")]
fn mfa_login1(user: CurrentUser, app: App) -> fsa::Result<Json<Value>> {
    Ok(Json(json!({"token": app.create_token(&user, TokenOptions::realm("mfa").delay(10.0))?})))
}

#[get("/mfa/login2", authorize = "AUTH", auth = "token", realm = "mfa")]
fn mfa_login2(user: CurrentUser, code: String, app: App) -> fsa::Result<Json<Value>> {
    if code != "424242" {
        return Err(Error::unauthorized("invalid second factor code"));
    }
    Ok(Json(json!({"token": app.create_token(&user, TokenOptions::realm("features"))?})))
}

#[get("/mfa/check", authorize = "AUTH", auth = "token")]
fn mfa_check(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "mfa": "ok"}))
}

// ---------------------------------------------------------------- main §4.3 current user

#[get("/open/current", authorize = "OPEN")]
fn open_current(user: CurrentLogin) -> Json<Value> {
    Json(json!({"user": user}))
}

#[get("/open/get-user", authorize = "OPEN")]
fn open_get_user(user: Option<CurrentUser>) -> Json<Value> {
    Json(json!({"user": user}))
}

#[get("/open/get-user-required", authorize = "OPEN")]
fn open_get_user_required(user: fsa::Result<CurrentUser>) -> fsa::Result<Json<Value>> {
    Ok(Json(json!({"user": user?})))
}

#[get("/auth/current", authorize = "AUTH")]
fn auth_current(current: CurrentLogin, user: CurrentUser) -> Json<Value> {
    Json(json!({"current": current, "get": user}))
}

/// The special `me` argument: a user object built from the login.
#[derive(Serialize)]
struct Me {
    login: String,
    email: Option<String>,
    groups: Vec<&'static str>,
}

impl Special for Me {
    async fn extract(ctx: &mut Context, name: &'static str) -> fsa::Result<Self> {
        let login = CurrentUser::extract(ctx, name).await?.0;
        // Through the membership hooks and their cache (section 3.9): a change made through
        // the API shows here when `/authz/<group>` sees it too.
        let mut groups = Vec::new();
        for group in ["admin", "beta", "reader", "writer"] {
            if ctx.app().user_in_group(&login, &group.into()).await? {
                groups.push(group);
            }
        }
        Ok(Me { email: email(&login), login, groups })
    }
}

#[get("/me", authorize = "AUTH")]
fn me(me: Me) -> Json<Me> {
    Json(me)
}

// ---------------------------------------------------------------- main §4.4 passwords

#[post("/register", authorize = "OPEN")]
async fn register(user: String, pass: String, app: App, db: State<Db>) -> fsa::Result<(Json<Value>, u16)> {
    let exists = |db: &Data| db.passwords.read().is_ok_and(|p| p.contains_key(&user));
    if exists(&db) {
        return Err(Error::new(409, format!("user {user} already exists")));
    }
    let hash = app.hash_password(&pass).await?;
    if exists(&db) {
        return Err(Error::new(409, format!("user {user} already exists")));
    }
    db.passwords.write()?.insert(user.clone(), hash);
    app.auth_uncache(&user).await;
    Ok((Json(json!({"user": user})), 201))
}

#[post("/hash", authorize = "OPEN")]
async fn hash(password: String, app: App) -> fsa::Result<Json<Value>> {
    let hash = app.hash_password_unchecked(&password).await?;
    Ok(Json(json!({"check": app.check_password(&password, &hash).await, "hash": hash})))
}

/// A refused password is `valid: false`; an error the directory raises (1.2, `outage`'s 503)
/// is the answer, as it is to the login schemes.
#[post("/password/check", authorize = "AUTH")]
async fn password_check(user: CurrentUser, candidate: String, app: App) -> Result<Json<Value>> {
    let valid = match app.check_user_password(&user, &candidate).await {
        Ok(()) => true,
        Err(e) if e.status() == http::StatusCode::UNAUTHORIZED => false,
        Err(e) => return Err(e),
    };
    Ok(Json(json!({"user": user, "valid": valid})))
}

// ---------------------------------------------------------------- main §4.5 authorizations

#[get("/authz/open", authorize = "OPEN")]
fn authz_open() -> Json<Value> {
    Json(json!({"authz": "open"}))
}

#[get("/authz/auth", authorize = "AUTH")]
fn authz_auth(user: CurrentUser) -> Json<Value> {
    Json(json!({"authz": "auth", "user": user}))
}

#[get("/authz/close", authorize = "CLOSE")]
fn authz_close() {}

/// fsa requires an explicit authorization on every route: "none declared" is spelled CLOSE.
#[get("/authz/default", authorize = "CLOSE")]
fn authz_default() {}

#[get("/authz/admin", authorize = "admin")]
fn authz_admin(user: CurrentUser) -> Json<Value> {
    Json(json!({"authz": "admin", "user": user}))
}

#[get("/authz/admin-close", authorize = ["admin", "CLOSE"])]
fn authz_admin_close() {}

#[get("/authz/writer", authorize = "writer")]
fn authz_writer(user: CurrentUser) -> Json<Value> {
    Json(json!({"authz": "writer", "user": user}))
}

#[get("/authz/reader-writer", authorize = ["reader", "writer"])]
fn authz_reader_writer(user: CurrentUser) -> Json<Value> {
    Json(json!({"authz": "reader+writer", "user": user}))
}

/// The answer of `/authz/admin-param`.
#[derive(Serialize)]
struct JustX {
    x: i128,
}

#[get("/authz/admin-param", authorize = "admin")]
fn authz_admin_param(x: i128) -> Json<JustX> {
    Json(JustX { x })
}

#[get("/authz/beta", authorize = "beta")]
fn authz_beta(user: CurrentUser) -> Json<Value> {
    Json(json!({"authz": "beta", "user": user}))
}

#[post("/beta/<login>", authorize = "admin")]
fn beta_add(login: String, db: State<Db>) -> fsa::Result<Json<Value>> {
    let mut beta = db.beta.write()?;
    beta.insert(login);
    Ok(Json(json!({"beta": *beta})))
}

#[post("/cache/clear", authorize = "admin")]
async fn cache_clear(app: App) -> Json<Value> {
    app.clear_caches().await;
    Json(json!({"cleared": true}))
}

// ---------------------------------------------------------------- main §4.6 object permissions

/// The answers of the `stuff` routes: the object, and what was done to it.
#[derive(Serialize)]
struct StuffOut {
    sid: i128,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<bool>,
}

impl StuffOut {
    /// The object as it is stored.
    fn named(sid: i128) -> Self {
        let name = STUFF.iter().find(|s| s.0 == sid).map_or("", |s| s.3);
        StuffOut { sid, name: Some(name.to_owned()), updated: None, deleted: None }
    }
}

#[get("/stuff/<sid>", authorize = ("stuff", "sid", "read"))]
fn stuff_get(sid: i128) -> Json<StuffOut> {
    Json(StuffOut::named(sid))
}

#[patch("/stuff/<sid>", authorize = ("stuff", "sid", "update"))]
fn stuff_patch(sid: i128, name: String) -> Json<StuffOut> {
    Json(StuffOut { sid, name: Some(name), updated: Some(true), deleted: None })
}

#[delete("/stuff/<sid>", authorize = ("stuff",))]
fn stuff_delete(sid: i128) -> Json<StuffOut> {
    Json(StuffOut { sid, name: None, updated: None, deleted: Some(true) })
}

#[get("/stuff-by-query", authorize = ("stuff", "sid", "read"))]
fn stuff_by_query(sid: i128) -> Json<StuffOut> {
    Json(StuffOut::named(sid))
}

/// The answers of the `docs` routes.
#[derive(Serialize)]
struct DocOut {
    folder: String,
    num: i128,
    #[serde(skip_serializing_if = "Option::is_none")]
    written: Option<bool>,
}

#[get("/docs/<folder>/<num>", authorize = ("doc", "folder:num", "read"))]
fn docs_get(folder: String, num: i128) -> Json<DocOut> {
    Json(DocOut { folder, num, written: None })
}

#[put("/docs/<folder>/<num>", authorize = ("doc", "folder:num"))]
fn docs_put(folder: String, num: i128) -> Json<DocOut> {
    Json(DocOut { folder, num, written: Some(true) })
}

// ---------------------------------------------------------------- main §4.7 typed parameters

// The spec's `int` is Python's, which has no bound: the fixture's integers are `i128`, the
// widest the library reads exactly (38 digits), so that `99999999999999999999` is a value
// here as there. Answers holding one are written by serde straight from the integer (a
// `serde_json::Value` holds no integer beyond 64 bits).

/// The answer of `/types/scalars`.
#[derive(Serialize)]
struct Scalars {
    i: i128,
    f: f64,
    b: bool,
    s: String,
}

#[route("/types/scalars", method = ["GET", "POST"], authorize = "OPEN")]
fn types_scalars(i: i128, f: DecimalFloat, b: bool, s: String) -> Json<Scalars> {
    Json(Scalars { i, f: f.0, b, s })
}

/// A float as the fixture's spec (§3.6) words it: "usual decimal/exponent syntax; other text
/// → 400", and a JSON float in the answer. The library's `f64` takes Python's `float()`
/// syntax, `nan` and `inf` included (the demo's spec asks for them); here those words, and a
/// value beyond any JSON number (`1e400`), are a 400.
#[derive(Clone, Copy, Debug, PartialEq)]
struct DecimalFloat(f64);

impl DecimalFloat {
    fn finite(f: f64) -> Result<Self, String> {
        if f.is_finite() { Ok(DecimalFloat(f)) } else { Err("float out of range".to_owned()) }
    }
}

impl Scalar for DecimalFloat {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("float")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        let word = text.trim().trim_start_matches(['+', '-']).to_ascii_lowercase();
        if matches!(word.as_str(), "nan" | "inf" | "infinity") {
            return Err("expecting decimal or exponent notation".to_owned());
        }
        DecimalFloat::finite(f64::from_text(text)?)
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        DecimalFloat::finite(f64::from_json(value)?)
    }
    fn path_segment_ok(segment: &str) -> bool {
        <f64 as Scalar>::path_segment_ok(segment)
    }
    fn from_path(segment: &str) -> Result<Self, String> {
        DecimalFloat::finite(f64::from_path(segment)?)
    }
}

/// The answer of `/types/optional`.
#[derive(Serialize)]
struct Optional {
    i: Option<i128>,
    s: String,
    n: i128,
    b: bool,
}

#[get("/types/optional", authorize = "OPEN")]
fn types_optional(
    i: Option<i128>,
    #[default("hello")] s: String,
    #[default(42)] n: i128,
    #[default(false)] b: bool,
) -> Json<Optional> {
    Json(Optional { i, s, n, b })
}

/// The list and its sum.
#[derive(Serialize)]
struct ListSum {
    l: Vec<i128>,
    sum: i128,
}

#[route("/types/list", method = ["GET", "POST"], authorize = "OPEN")]
fn types_list(l: Vec<i128>) -> fsa::Result<Json<ListSum>> {
    // Python's sum is exact; a sum beyond 128 bits is refused rather than wrapped.
    let sum = l.iter().try_fold(0i128, |acc, &i| acc.checked_add(i));
    let sum = sum.ok_or_else(|| Error::bad_request("the sum of \"l\" is beyond 128 bits"))?;
    Ok(Json(ListSum { l, sum }))
}

#[get("/types/list-default", authorize = "OPEN")]
fn types_list_default(#[default(Vec::new())] tags: Vec<String>) -> Json<Value> {
    Json(json!({"count": tags.len(), "tags": tags}))
}

#[route("/types/generic", method = ["GET", "POST"], authorize = "OPEN")]
fn types_generic(data: BTreeMap<String, Vec<i128>>) -> Json<BTreeMap<String, usize>> {
    Json(data.into_iter().map(|(k, v)| (k, v.len())).collect())
}

/// Any JSON value, sent back as it came (integers beyond 64 bits included, as Python's
/// `json.loads` keeps them), with its Python type name.
#[derive(Serialize)]
struct AnyJson {
    data: Box<RawValue>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[route("/types/json", method = ["GET", "POST"], authorize = "OPEN")]
fn types_json(data: Box<RawValue>) -> Json<AnyJson> {
    let text = data.get();
    let kind = match text.as_bytes().first() {
        Some(b'{') => "dict",
        Some(b'[') => "list",
        Some(b'"') => "str",
        Some(b't' | b'f') => "bool",
        Some(b'n') => "NoneType",
        _ if text.contains(['.', 'e', 'E']) => "float",
        _ => "int",
    };
    Json(AnyJson { data, kind })
}

/// The answer of `/types/int/<i>`.
#[derive(Serialize)]
struct Int {
    i: i128,
}

#[get("/types/int/<i>", authorize = "OPEN")]
fn types_int(i: i128) -> Json<Int> {
    Json(Int { i })
}

#[get("/types/float/<f>", authorize = "OPEN")]
fn types_float(f: DecimalFloat) -> Json<Value> {
    Json(json!({"f": f.0}))
}

#[get("/types/str/<s>", authorize = "OPEN")]
fn types_str(s: String) -> Json<Value> {
    Json(json!({"s": s}))
}

#[get("/types/path/<path:p>", authorize = "OPEN")]
fn types_path(p: String) -> Json<Value> {
    Json(json!({"p": p}))
}

#[get("/types/uuid/<u>", authorize = "OPEN")]
fn types_uuid(u: uuid::Uuid) -> Json<Value> {
    // As Python's `UUID.version`: the version nibble of an RFC 4122 UUID, null for the others.
    let version = (u.get_variant() == uuid::Variant::RFC4122).then(|| u.get_version_num());
    Json(json!({"u": u.hyphenated().to_string(), "version": version}))
}

#[get("/types/date", authorize = "OPEN")]
fn types_date(d: time::Date) -> Json<Value> {
    Json(json!({"d": d.to_string(), "weekday": d.weekday().number_from_monday()}))
}

/// A color cast from `#rrggbb`.
#[derive(Serialize)]
struct Color {
    r: u8,
    g: u8,
    b: u8,
}

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hex = s.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|c| c.is_ascii_hexdigit()));
        let byte = |i: usize| hex.and_then(|h| u8::from_str_radix(&h[i..i + 2], 16).ok());
        match (byte(0), byte(2), byte(4)) {
            (Some(r), Some(g), Some(b)) => Ok(Color { r, g, b }),
            _ => Err(format!("not a #rrggbb color: {s}")),
        }
    }
}
fsa::scalar_from_str!(Color);

#[get("/types/color", authorize = "OPEN")]
fn types_color(c: Color) -> Json<Color> {
    Json(c)
}

/// The answer of `/types/mangled`.
#[derive(Serialize)]
struct Mangled {
    pass: String,
    def: i128,
}

#[get("/types/mangled", authorize = "OPEN")]
fn types_mangled(_pass: String, #[default(0)] _def: i128) -> Json<Mangled> {
    Json(Mangled { pass: _pass, def: _def })
}

/// The answer of `/types/kwargs`.
#[derive(Serialize)]
struct WithKwargs {
    a: i128,
    others: BTreeMap<String, String>,
}

#[get("/types/kwargs", authorize = "OPEN")]
fn types_kwargs(a: i128, others: Kwargs) -> Json<WithKwargs> {
    Json(WithKwargs { a, others: others.0.into_iter().collect() })
}

#[get("/types/header", authorize = "OPEN")]
fn types_header(x_custom: Header) -> Json<Value> {
    Json(json!({"x_custom": x_custom.0}))
}

#[get("/types/cookie", authorize = "OPEN")]
fn types_cookie(flavor: fsa::Cookie) -> Json<Value> {
    Json(json!({"flavor": flavor.0}))
}

#[post("/types/upload", authorize = "OPEN")]
fn types_upload(doc: UploadedFile, #[default("none")] label: String) -> Json<Value> {
    Json(json!({"filename": doc.filename, "size": doc.content.len(), "label": label}))
}

/// The answer of `/types/auth-params` and `/token-only`.
#[derive(Serialize)]
struct UserX {
    user: CurrentUser,
    x: i128,
}

#[get("/types/auth-params", authorize = "AUTH")]
fn types_auth_params(user: CurrentUser, x: i128) -> Json<UserX> {
    Json(UserX { user, x })
}

/// A person record.
#[derive(Serialize, Deserialize)]
struct User {
    login: String,
    firstname: String,
    lastname: String,
}

/// A point; unknown members are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Point {
    x: i128,
    y: i128,
}

#[post("/models/user", authorize = "OPEN")]
fn models_user(user: User) -> (Json<User>, u16) {
    (Json(user), 201)
}

#[get("/models/user-param", authorize = "OPEN")]
fn models_user_param(user: User) -> Json<User> {
    Json(user)
}

#[get("/models/user/<uid>", authorize = "OPEN")]
fn models_user_get(uid: i128) -> fsa::Result<Json<Value>> {
    match uid {
        1 => Ok(Json(json!({"login": "calvin", "firstname": "Calvin", "lastname": "Watterson"}))),
        2 => Ok(Json(json!({"login": "susie", "firstname": "Susie", "lastname": "Derkins"}))),
        _ => Err(Error::not_found(format!("no such person: {uid}"))),
    }
}

/// The answer of `/models/point`: the point with its coordinates swapped.
#[derive(Serialize)]
struct Swapped {
    x: i128,
    y: i128,
}

#[post("/models/point", authorize = "OPEN")]
fn models_point(p: Point) -> Json<Swapped> {
    Json(Swapped { x: p.y, y: p.x })
}

#[get("/models/squares", authorize = "OPEN")]
fn models_squares(#[default(4)] n: i64) -> fsa::JsonStream<impl Iterator<Item = i128> + Send> {
    // Squares in 128 bits: every `i64` has one there, as every int has one in Python.
    fsa::JsonStream::new((0..n).map(|i| i128::from(i) * i128::from(i)))
}

// ---------------------------------------------------------------- main §4.8 responses and errors

#[get("/open/ping", authorize = "OPEN")]
fn open_ping() -> &'static str {
    "pong"
}

#[get("/open/none", authorize = "OPEN")]
fn open_none() {}

#[get("/errors/teapot", authorize = "OPEN")]
fn errors_teapot() -> fsa::Result<()> {
    Err(Error::new(418, "I am a teapot"))
}

#[get("/errors/crash", authorize = "OPEN")]
fn errors_crash() -> fsa::Result<()> {
    panic!("boom")
}

// ---------------------------------------------------------------- jwt §5

#[get("/login", authorize = "AUTH", auth = ["basic", "param"])]
fn jwt_login(user: CurrentUser, app: App) -> fsa::Result<Json<Value>> {
    let scopes: &[&str] = match user.0.as_str() {
        "calvin" => &["read", "write"],
        "hobbes" => &["read"],
        _ => &[],
    };
    let opts = TokenOptions::default();
    let opts = if scopes.is_empty() { opts } else { opts.scopes(scopes.iter().copied()) };
    Ok(Json(json!({"token": app.create_token(&user, opts)?})))
}

#[get("/oauth/read", authorize = "read", auth = "oauth")]
fn oauth_read(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "scope": "read"}))
}

#[post("/oauth/write", authorize = "write", auth = "oauth")]
fn oauth_write(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "scope": "write"}))
}

#[get("/oauth/read-write", authorize = ["read", "write"], auth = "oauth")]
fn oauth_read_write(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "scope": "read+write"}))
}

#[get("/oauth/scopes", authorize = "AUTH", auth = "oauth")]
fn oauth_scopes(user: CurrentUser, scopes: Scopes) -> Json<Value> {
    let has = |s| scopes.has(s);
    Json(json!({"user": user, "scopes": {"read": has("read"), "write": has("write"), "admin": has("admin")}}))
}

#[get("/jwt/writer", authorize = "writer")]
fn jwt_writer(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user, "group": "writer"}))
}

// ---------------------------------------------------------------- fake §6

#[get("/token", authorize = "AUTH")]
fn fake_token(user: CurrentUser, app: App) -> fsa::Result<Json<Value>> {
    Ok(Json(json!({"token": app.create_token(&user, TokenOptions::default())?})))
}

#[get("/token-only", authorize = "AUTH", auth = "token")]
fn token_only(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user}))
}

#[post("/token-only", authorize = "AUTH", auth = "token")]
fn token_only_post(user: CurrentUser, #[default(0)] x: i128) -> Json<UserX> {
    Json(UserX { user, x })
}

#[get("/either", authorize = "AUTH", auth = ["fake", "token"])]
fn either(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user}))
}

#[get("/open-explicit", authorize = "OPEN", auth = "none")]
fn open_explicit() -> Json<Value> {
    Json(json!({"open": true}))
}

#[get("/open-implicit", authorize = "OPEN")]
fn open_implicit() -> Json<Value> {
    Json(json!({"open": true}))
}

#[get("/params", authorize = "AUTH")]
fn fake_params(user: CurrentUser, a: i128, #[default("b")] b: String) -> Json<FakeParams> {
    Json(FakeParams { user, a, b })
}

/// The answer of the fake configuration's `/params`.
#[derive(Serialize)]
struct FakeParams {
    user: CurrentUser,
    a: i128,
    b: String,
}

#[get("/writer", authorize = "writer")]
fn fake_writer(user: CurrentUser) -> Json<Value> {
    Json(json!({"user": user}))
}

// ---------------------------------------------------------------- configurations (§2)

/// Builds the app of configuration `main`, `jwt` or `fake`.
pub async fn app(name: &str) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let db: Db = Arc::new(tokio::task::spawn_blocking(seed).await??);
    let name: &'static str = match name {
        "main" => "main",
        "jwt" => "jwt",
        "fake" => "fake",
        other => return Err(format!("unknown configuration {other}, expecting main, jwt or fake").into()),
    };
    let (pass, group, stuff) = (db.clone(), db.clone(), db.clone());
    let base = App::new()
        .config("FSA_TOKEN_TYPE", "fsa")
        .config("FSA_TOKEN_DELAY", 60.0)
        .config("FSA_PASSWORD_SCHEME", "bcrypt")
        .config("FSA_PASSWORD_LENGTH", 8)
        .config("FSA_PASSWORD_RE", vec!["[A-Z]", "[a-z]", "[0-9]"])
        .config("FSA_ERROR_RESPONSE", "json:error")
        .password_quality(|p| Ok(!p.to_lowercase().contains("password")))
        .get_user_pass(move |l| {
            let hash = pass.passwords.read().ok().and_then(|p| p.get(&l).cloned());
            async move { Ok(hash) }
        })
        .password_check(directory)
        .group_check("admin", |l| async move { Ok(l == "calvin") })
        .user_in_group(move |l, g| {
            let yes = group.in_group(&l, &g.to_string());
            async move { Ok(yes) }
        })
        .object_perms("stuff", move |l: String, sid: i128, role| {
            let answer = stuff_perm(&stuff, &l, sid, role);
            async move { Ok(answer) }
        })
        .object_perms("doc", move |l: String, (folder, num): (String, i128), role| {
            let answer = doc_perm(&l, &folder, num, role);
            async move { Ok(answer) }
        })
        .authentication("xyz", api_key)
        .client_addr(fixture_addr)
        .state(db)
        .state(name)
        .routes(fsa::routes![config, whoami]);
    let app = match name {
        "main" => base
            .config("FSA_AUTH", vec!["token", "basic", "param", "xyz", "none"])
            .config("FSA_REALM", "features")
            .config("FSA_TOKEN_SECRET", "main-config-token-secret-0123456789")
            .config("FSA_PARAM_USER", "login")
            .config("FSA_PARAM_PASS", "pwd")
            .routes(fsa::routes![auth_basic, auth_param, auth_token, auth_custom, auth_password])
            .routes(fsa::routes![token, token_short, mfa_login1, mfa_login2, mfa_check])
            .routes(fsa::routes![open_current, open_get_user, open_get_user_required, auth_current, me])
            .routes(fsa::routes![register, hash, password_check])
            .routes(fsa::routes![authz_open, authz_auth, authz_close, authz_default, authz_admin, authz_admin_close])
            .routes(fsa::routes![authz_writer, authz_reader_writer, authz_admin_param, authz_beta, beta_add])
            .routes(fsa::routes![cache_clear, stuff_get, stuff_patch, stuff_delete, stuff_by_query, docs_get])
            .routes(fsa::routes![docs_put, types_scalars, types_optional, types_list, types_list_default])
            .routes(fsa::routes![types_generic, types_json, types_int, types_float, types_str, types_path])
            .routes(fsa::routes![types_uuid, types_date, types_color, types_mangled, types_kwargs, types_header])
            .routes(fsa::routes![types_cookie, types_upload, types_auth_params, models_user, models_user_param])
            .routes(fsa::routes![models_user_get, models_point, models_squares, open_ping, open_none])
            .routes(fsa::routes![errors_teapot, errors_crash]),
        "jwt" => base
            .config("FSA_AUTH", vec!["token", "oauth", "none", "password"])
            .config("FSA_REALM", "features-jwt")
            .config("FSA_TOKEN_TYPE", "jwt")
            .config("FSA_TOKEN_ALGO", "HS256")
            .config("FSA_TOKEN_ISSUER", "features-issuer")
            .config("FSA_TOKEN_SECRET", "jwt-config-token-secret-0123456789")
            .config("FSA_TOKEN_CARRIER", "cookie")
            .config("FSA_TOKEN_NAME", "auth")
            .config("FSA_TOKEN_RENEWAL", 0.5)
            .config("FSA_AUTHZ_SCOPES", vec!["read", "write", "admin"])
            .routes(fsa::routes![jwt_login, oauth_read, oauth_write, oauth_read_write, oauth_scopes, jwt_writer]),
        _ => base
            .config("FSA_AUTH", vec!["fake", "token", "none"])
            .config("FSA_AUTH_DEFAULT", "fake")
            .config("FSA_REALM", "features-fake")
            .config("FSA_TOKEN_ISSUER", "fake-issuer")
            .config("FSA_TOKEN_SECRET", "fake-config-token-secret-0123456789")
            .config("FSA_TOKEN_CARRIER", "param")
            .config("FSA_TOKEN_NAME", "AUTH")
            .config("FSA_SECURE", false)
            .config("FSA_ERROR_RESPONSE", "plain")
            .config("FSA_MODE", "dev")
            .add_header("X-Features-Config", "fake")
            .add_header_with("x-features-status", |r| Some(r.status().as_u16().to_string()))
            .before_exec(teapot)
            .config("FSA_CORS", true)
            .config("FSA_CORS_OPTS", r#"{ origins = ["http://client.example"] }"#)
            .routes(fsa::routes![fake_token, token_only, token_only_post, either, open_explicit, open_implicit])
            .routes(fsa::routes![fake_params, fake_writer]),
    };
    Ok(app.build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let name = std::env::var("FEATURES_CONFIG").unwrap_or_else(|_| "main".into());
    let default = 18081 + ["main", "jwt", "fake"].iter().position(|c| *c == name).unwrap_or(0) as u16;
    let port: u16 = std::env::var("FEATURES_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(default);
    let app = app(&name).await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("features fixture ({name}) on http://{addr}/");
    app.serve(addr).await?;
    Ok(())
}
