//! Typed parameters through HTTP: scalars with Python's conversion rules, optional values and
//! lists, serde structs and enums (with and without garde), generic containers, JSON values,
//! custom scalars (FromStr opt-in, validating newtypes, registered casts) and the common types
//! (UUID, dates, IP addresses, NonZero integers). Each from the query, a form and JSON.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::num::NonZeroU32;

use fsa::Cast;
use fsa::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

#[route("/scalars", authorize = "OPEN", method = ["GET", "POST"])]
fn scalars(i: i64, f: f64, b: bool, s: String) -> Json<Value> {
    Json(json!({"i": i, "f": f, "b": b, "s": s}))
}

#[get("/optional", authorize = "OPEN")]
fn optional(
    i: Option<i64>,
    #[default("hello")] s: String,
    #[default(42)] n: i64,
    #[default(false)] b: bool,
) -> Json<Value> {
    Json(json!({"i": i, "s": s, "n": n, "b": b}))
}

#[route("/list", authorize = "OPEN", method = ["GET", "POST"])]
fn list(l: Vec<i64>) -> Json<Value> {
    Json(json!({"l": l, "sum": l.iter().sum::<i64>()}))
}

#[get("/list-default", authorize = "OPEN")]
fn list_default(#[default(Vec::new())] tags: Vec<String>) -> Json<Value> {
    Json(json!({"tags": tags, "count": tags.len()}))
}

#[post("/floats", authorize = "OPEN")]
fn floats(f: f64, l: Vec<f64>, o: Option<f32>) -> String {
    format!("{f} {l:?} {o:?}")
}

/// Integers beyond 64 bits inside members: exact in `i128`/`u128` items and fields.
#[derive(Debug, Deserialize)]
struct Wide {
    x: i128,
    y: u128,
    f: f64,
    v: Value,
}

#[route("/wide", authorize = "OPEN", method = ["GET", "POST"])]
fn wide(
    #[default(Vec::new())] l: Vec<i128>,
    #[default(Vec::new())] small: Vec<i64>,
    w: Option<Wide>,
    #[default(BTreeMap::new())] m: BTreeMap<String, Vec<u128>>,
) -> String {
    let w = w.map(|w| format!("{} {} {:?} {}", w.x, w.y, w.f, w.v));
    format!("{l:?} {small:?} {w:?} {m:?}")
}

#[get("/float/<f>", authorize = "OPEN")]
fn float_path(f: f64) -> Json<f64> {
    Json(f)
}

/// A record with nothing more than `Deserialize`.
#[derive(Debug, Deserialize, Serialize)]
struct User {
    login: String,
    firstname: String,
    lastname: String,
}

/// A record refusing unknown members.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Point {
    x: i64,
    y: i64,
}

/// A record validated with garde.
#[derive(Debug, Deserialize, Serialize, garde::Validate)]
struct Signup {
    #[garde(length(min = 3, max = 10))]
    login: String,
    #[garde(range(min = 18))]
    age: u32,
    #[garde(contains("@"))]
    email: String,
}

/// An enum, externally tagged as serde does by default.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum Shape {
    Circle { r: f64 },
    Square(f64),
    Empty,
}

#[route("/models/user", authorize = "OPEN", method = ["GET", "POST"])]
fn model_user(user: User) -> (Json<User>, u16) {
    (Json(user), 201)
}

#[get("/models/maybe-user", authorize = "OPEN")]
fn maybe_user(user: Option<User>) -> Json<Option<User>> {
    Json(user)
}

#[post("/models/point", authorize = "OPEN")]
fn model_point(p: Point) -> Json<Value> {
    Json(json!({"x": p.y, "y": p.x}))
}

#[route("/models/signup", authorize = "OPEN", method = ["GET", "POST"])]
fn signup(s: Signup) -> Json<Signup> {
    Json(s)
}

#[route("/models/shape", authorize = "OPEN", method = ["GET", "POST"])]
fn shape(shape: Shape) -> Json<Shape> {
    Json(shape)
}

#[route("/generic", authorize = "OPEN", method = ["GET", "POST"])]
fn generic(data: HashMap<String, Vec<i64>>) -> Json<BTreeMap<String, usize>> {
    Json(data.into_iter().map(|(k, v)| (k, v.len())).collect())
}

#[route("/generic2", authorize = "OPEN", method = ["GET", "POST"])]
fn generic2(m: BTreeMap<String, f64>, t: (String, i64), v: Vec<Point>) -> Json<Value> {
    Json(json!({"m": m, "t": [t.0, t.1], "v": v.iter().map(|p| p.x + p.y).collect::<Vec<_>>()}))
}

#[route("/json", authorize = "OPEN", method = ["GET", "POST"])]
fn any_json(data: Value) -> Json<Value> {
    let t = match &data {
        Value::Object(_) => "dict",
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null => "null",
    };
    Json(json!({"data": data, "type": t}))
}

/// Any JSON value exactly as sent: `Box<RawValue>` keeps the digits a `Value` would lose.
#[derive(Serialize)]
struct RawOut {
    data: Box<RawValue>,
    items: Vec<Box<RawValue>>,
}

#[route("/raw", authorize = "OPEN", method = ["GET", "POST"])]
fn raw_json(data: Box<RawValue>, #[default(Vec::new())] items: Vec<Box<RawValue>>) -> Json<RawOut> {
    Json(RawOut { data, items })
}

/// A colour `#rrggbb`, a `FromStr` type opted in with one line.
#[derive(Debug)]
struct Color(u8, u8, u8);

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let hex = s.strip_prefix('#').filter(|h| h.len() == 6).ok_or_else(|| format!("not a #rrggbb colour: {s}"))?;
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string());
        Ok(Color(byte(0)?, byte(2)?, byte(4)?))
    }
}
fsa::scalar_from_str!(Color);

/// A natural number validating in its constructor.
#[derive(Debug, Clone, Copy)]
struct Nat(i64);

impl Nat {
    fn new(v: i64) -> Result<Self, String> {
        if v < 0 { Err(format!("{v} is not a natural number")) } else { Ok(Nat(v)) }
    }
}

impl std::str::FromStr for Nat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Nat::new(s.trim().parse::<i64>().map_err(|e| e.to_string())?)
    }
}

impl fsa::Scalar for Nat {
    fn type_name() -> std::borrow::Cow<'static, str> {
        "nat".into()
    }
    fn from_text(text: &str) -> Result<Self, String> {
        text.parse()
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        Nat::new(value.as_i64().ok_or("expecting nat")?)
    }
}

/// A newtype validated by serde's `try_from`.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct Slug(String);

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            Ok(Slug(s))
        } else {
            Err(format!("invalid slug {s:?}"))
        }
    }
}

#[get("/color", authorize = "OPEN")]
fn color(c: Color) -> Json<Value> {
    Json(json!({"r": c.0, "g": c.1, "b": c.2}))
}

#[route("/nat", authorize = "OPEN", method = ["GET", "POST"])]
fn nat(i: Nat, j: Nat) -> Json<i64> {
    Json(i.0 + j.0)
}

#[get("/slug", authorize = "OPEN")]
fn slug(s: Slug) -> String {
    s.0
}

#[get("/duration/<d>", authorize = "OPEN")]
fn duration(d: Cast<std::time::Duration>, extra: Option<Cast<std::time::Duration>>) -> Json<u64> {
    Json(d.as_secs() + extra.map_or(0, |e| e.as_secs()))
}

#[get("/common", authorize = "OPEN")]
fn common(u: uuid::Uuid, d: time::Date, ip: IpAddr, n: NonZeroU32) -> Json<Value> {
    Json(
        json!({"u": u.to_string(), "version": u.get_version_num(), "d": d.to_string(), "weekday": d.weekday().number_from_monday(), "ip": ip.to_string(), "v4": ip.is_ipv4(), "n": n.get()}),
    )
}

#[get("/uuid/<u>", authorize = "OPEN")]
fn uuid_path(u: uuid::Uuid) -> String {
    u.to_string()
}

#[get("/datetime", authorize = "OPEN")]
fn datetime(dt: time::PrimitiveDateTime, at: Option<time::OffsetDateTime>) -> Json<Value> {
    Json(json!({"dt": dt.to_string(), "hour": dt.hour(), "offset": at.map(|a| a.offset().whole_hours())}))
}

fn app() -> App {
    App::new()
        .cast::<std::time::Duration, _>(|s| {
            let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let n: u64 = n.parse().map_err(|_| format!("bad duration {s:?}"))?;
            match unit {
                "" | "s" => Ok(std::time::Duration::from_secs(n)),
                "m" => Ok(std::time::Duration::from_secs(60 * n)),
                _ => Err(format!("unknown unit {unit:?}")),
            }
        })
        .routes(fsa::routes![
            scalars,
            optional,
            list,
            list_default,
            float_path,
            floats,
            wide,
            model_user,
            maybe_user,
            model_point,
            signup,
            shape,
            generic,
            generic2,
            any_json,
            raw_json,
            color,
            nat,
            slug,
            duration,
            common,
            uuid_path,
            datetime
        ])
        .build()
        .unwrap()
}

#[tokio::test]
async fn scalars_from_query_form_and_json() {
    let c = app().test_client();
    let want = json!({"i": 17, "f": 1000.0, "b": true, "s": "x y"});
    let r = c.get("/scalars?i=0x11&f=1e3&b=TRUE&s=x+y").await;
    assert_eq!((r.status(), r.json()), (200, want.clone()));
    let r = c.post("/scalars").form(&[("i", "17"), ("f", "1000"), ("b", "true"), ("s", "x y")]).await;
    assert_eq!((r.status(), r.json()), (200, want.clone()));
    let r = c.post("/scalars").json(&json!({"i": 17, "f": 1000.0, "b": true, "s": "x y"})).await;
    assert_eq!((r.status(), r.json()), (200, want));
    // repeated scalars: the first
    assert_eq!(c.get("/scalars?i=1&i=2&f=0.5&b=false&s=").await.json()["i"], 1);
    // escapes that are not UTF-8 stay written, as Werkzeug keeps them (query and form)
    assert_eq!(c.get("/scalars?i=1&f=0.5&b=false&s=caf%E9+%C3%A9").await.json()["s"], "caf%E9 \u{e9}");
    let r = c.post("/scalars").body("i=1&f=0.5&b=false&s=%FF", "application/x-www-form-urlencoded").await;
    assert_eq!(r.json()["s"], "%FF");
    // python int syntax
    assert_eq!(c.get("/scalars?i=1_000&f=inf&b=false&s=").await.json()["i"], 1000);
}

#[tokio::test]
async fn scalar_errors_all_at_once() {
    let c = app().test_client();
    let r = c.get("/scalars?i=017&f=abc&b=yes&zz=1").await;
    assert_eq!(r.status(), 400);
    let t = r.text();
    assert!(t.contains("parameter \"i\" cast error on 017:"), "{t}");
    assert!(t.contains("parameter \"f\" cast error on abc:"), "{t}");
    assert!(t.contains("parameter \"b\" cast error on yes:"), "{t}");
    assert!(t.contains("parameter \"s\" is missing"), "{t}");
    assert!(t.contains("unexpected http parameter \"zz\""), "{t}");
    assert_eq!(t.lines().count(), 5, "one line per problem: {t}");
    // JSON values are type-checked, not converted
    for (body, name) in [
        (json!({"i": "17", "f": 1.5, "b": true, "s": "x"}), "i"),
        (json!({"i": true, "f": 1.5, "b": true, "s": "x"}), "i"),
        (json!({"i": 2.0, "f": 1.5, "b": true, "s": "x"}), "i"),
        (json!({"i": 1, "f": "2", "b": true, "s": "x"}), "f"),
        (json!({"i": 1, "f": 1.5, "b": "true", "s": "x"}), "b"),
        (json!({"i": 1, "f": 1.5, "b": true, "s": 3}), "s"),
    ] {
        let r = c.post("/scalars").json(&body).await;
        assert_eq!(r.status(), 400, "{body}");
        assert!(r.text().contains(&format!("\"{name}\"")), "{body}: {}", r.text());
    }
    let r = c.post("/scalars").json(&json!({"i": 1, "f": 1.5, "b": true, "s": "x", "other": 1})).await;
    assert!(r.text().contains("unexpected json parameter \"other\""), "{}", r.text());
}

/// JSON members reach parameters as the body says, whatever their spelling: escaped strings
/// and keys, repeated keys (the last wins, as in a JSON map), `-0` (an integer at any depth,
/// as JSON's grammar and Python's `json.loads` have it; `-0.0` is a float).
#[tokio::test]
async fn json_members_spelled_every_way() {
    let c = app().test_client();
    let post = |body: &'static str| c.post("/scalars").body(body, "application/json");
    let r = post(r#"{"i": 1, "f": 2.0, "b": false, "s": "a\"b\u00e9\n"}"#).await;
    assert_eq!(r.json(), json!({"i": 1, "f": 2.0, "b": false, "s": "a\"b\u{e9}\n"}));
    let r = post(r#"{"\u0069": 5, "f": 1.5, "b": true, "s": ""}"#).await;
    assert_eq!(r.json(), json!({"i": 5, "f": 1.5, "b": true, "s": ""}));
    let r = post(r#"{"i": 1, "f": 1.5, "b": true, "s": "x", "i": -7, "s": "last"}"#).await;
    assert_eq!(r.json(), json!({"i": -7, "f": 1.5, "b": true, "s": "last"}));
    let r = post(r#"{"i": -0, "f": 1.5, "b": true, "s": "x"}"#).await;
    assert_eq!(r.json(), json!({"i": 0, "f": 1.5, "b": true, "s": "x"}));
    let r = c.post("/list").body(r#"{"l": [-0, 2]}"#, "application/json").await;
    assert_eq!(r.json(), json!({"l": [0, 2], "sum": 2}));
    let r = post(r#"{"i": -0.0, "f": 1.5, "b": true, "s": "x"}"#).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"i\" cast error on -0.0"), "{}", r.text());
    let r = post(r#"{"i": 123456789012345678901, "f": 1.5, "b": true, "s": "x"}"#).await;
    assert_eq!(r.status(), 400, "{}", r.text());
    // An unexpected member is reported once, however often it comes, in body order.
    let r = post(r#"{"zz": 1, "i": 1, "f": 1.5, "b": true, "s": "x", "zz": 2, "yy": 3}"#).await;
    assert_eq!(r.status(), 400);
    let lines: Vec<String> = r.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("unexpected json parameter \"zz\""), "{lines:?}");
    assert!(lines[1].contains("unexpected json parameter \"yy\""), "{lines:?}");
    // As upstream lists them: the arguments' errors first, then the unexpected names.
    let r = c.get("/list?zz=1&l=x").await;
    let lines: Vec<String> = r.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("parameter \"l\" cast error"), "{lines:?}");
    assert_eq!(lines[1], "unexpected http parameter \"zz\"");
}

/// What a `serde_json::Value` cannot hold, a number beyond `f64` or a lone UTF-16 surrogate,
/// passes the body's parse as with Python's `json.loads`: a float parameter reads such a
/// number as an infinity, alone or in a list, as Python does; any other type answers a 400
/// that says why, never a silent `null`.
#[tokio::test]
async fn json_members_a_value_cannot_hold() {
    let c = app().test_client();
    let r = c.post("/floats").body(r#"{"f": 1e400, "l": [1, -1e400], "o": 2e999}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "inf [1.0, -inf] Some(inf)".to_owned()));
    // As with FlaskSimpleAuth: a float member must be written as a float, a `list[float]`
    // item may be any number.
    let r = c.post("/floats").body(r#"{"f": 2, "l": [1]}"#, "application/json").await;
    assert_eq!(r.status(), 400, "{}", r.text());
    assert!(r.text().contains("parameter \"f\""), "{}", r.text());
    let r = c.post("/floats").body(r#"{"f": 2.0, "l": [1, 2.5], "o": 3}"#, "application/json").await;
    assert_eq!((r.status(), r.text().contains("\"o\"")), (400, true), "{}", r.text());
    let r = c.post("/floats").body(r#"{"f": 2.0, "l": [1, 2.5]}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "2 [1.0, 2.5] None".to_owned()));
    // An integer beyond 64 bits is still a Python int, which serde_json would read as a float.
    let r = c.post("/floats").body(r#"{"f": 100000000000000000000, "l": [1]}"#, "application/json").await;
    assert_eq!(r.status(), 400, "{}", r.text());
    let r = c.post("/floats").body(r#"{"f": 1e20, "l": [100000000000000000000]}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "100000000000000000000 [1e20] None".to_owned()));
    // Floats are read to the nearest double, as Python reads them.
    let r = c.post("/floats").body(r#"{"f": 0.8e-27, "l": [7.038531e-26]}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "0.0000000000000000000000000008 [7.038531e-26] None".to_owned()));
    // NaN, Infinity and -Infinity, which Python's json.loads reads (and `requests` writes for
    // non-finite floats), are floats; for any other type they are of the wrong type.
    let r =
        c.post("/floats").body(r#"{"f":NaN, "l": [1, Infinity,-Infinity], "o": -Infinity}"#, "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "NaN [1.0, inf, -inf] Some(-inf)".to_owned()));
    for bad in
        [r#"{"f": -NaN, "l": []}"#, r#"{"f": NaN1, "l": []}"#, r#"{"f": nan, "l": []}"#, r#"{"f": "NaN", "l": []}"#]
    {
        assert_eq!(c.post("/floats").body(bad, "application/json").await.status(), 400, "{bad}");
    }
    let r = c.post("/scalars").body(r#"{"i": NaN, "f": 1.5, "b": true, "s": "NaN"}"#, "application/json").await;
    assert_eq!(r.status(), 400, "{}", r.text());
    assert!(r.text().contains("parameter \"i\" cast error on NaN: expecting int"), "{}", r.text());
    let r = c.post("/list").body(r#"{"l": [1, NaN]}"#, "application/json").await;
    assert!(r.text().contains("expecting int"), "{}", r.text());
    // A UTF-8 byte order mark before the body is skipped, as by Python's json.loads.
    let r = c.post("/floats").body("\u{FEFF}{\"f\": 0.5, \"l\": []}", "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "0.5 [] None".to_owned()));
    let refused = |r: &fsa::TestResponse, name: &str, reason: &str| {
        assert_eq!(r.status(), 400, "{}", r.text());
        let expected = format!("parameter \"{name}\" cast error on");
        assert!(r.text().contains(&expected) && r.text().contains(reason), "{}", r.text());
    };
    let r = c.post("/list").body(r#"{"l": [1, 1e400]}"#, "application/json").await;
    refused(&r, "l", "unsupported JSON value: number out of range");
    let r = c.post("/json").body(r#"{"data": {"x": [1e400]}}"#, "application/json").await;
    refused(&r, "data", "unsupported JSON value: number out of range");
    // An integer beyond 64 bits is the float `serde_json` makes of it, as before.
    let r = c.post("/json").body(r#"{"data": 100000000000000000000}"#, "application/json").await;
    assert_eq!((r.status(), r.json()), (200, json!({"data": 1e20, "type": "number"})));
    let r = c.post("/scalars").body(r#"{"i": 1, "f": 1.5, "b": true, "s": "a\ud800"}"#, "application/json").await;
    refused(&r, "s", "unsupported JSON value: lone UTF-16 surrogate in a string");
    let r = c
        .post("/models/user")
        .body(r#"{"user": {"login": "\udc00", "firstname": "a", "lastname": "b"}}"#, "application/json")
        .await;
    refused(&r, "user", "unsupported JSON value: lone UTF-16 surrogate in a string");
}

/// An integer beyond 64 bits inside an array or an object is still a Python int: `i128` and
/// `u128` items and record fields read it exactly (`serde_json` alone makes a float of it),
/// from a JSON body as from JSON text in the query; a float field takes it as a float.
#[tokio::test]
async fn wide_integers_inside_members() {
    let c = app().test_client();
    let post = |body: &'static str| c.post("/wide").body(body, "application/json");
    let r = post(r#"{"l": [1, -170141183460469231731687303715884105728, 100000000000000000000]}"#).await;
    assert_eq!(
        (r.status(), r.text()),
        (200, "[1, -170141183460469231731687303715884105728, 100000000000000000000] [] None {}".to_owned())
    );
    let r = post(r#"{"w": {"x": -100000000000000000000, "y": 340282366920938463463374607431768211455, "f": 100000000000000000000, "v": [100000000000000000000, -0]}}"#).await;
    assert_eq!(
        (r.status(), r.text()),
        (
            200,
            r#"[] [] Some("-100000000000000000000 340282366920938463463374607431768211455 1e20 [1e+20,0]") {}"#
                .to_owned()
        )
    );
    let r = post(r#"{"m": {"a": [100000000000000000000, 2], "b": []}}"#).await;
    assert_eq!((r.status(), r.text()), (200, r#"[] [] None {"a": [100000000000000000000, 2], "b": []}"#.to_owned()));
    // The same from JSON text in the query string.
    let r = c.get("/wide?w=%7B%22x%22%3A100000000000000000000%2C%22y%22%3A-0%2C%22f%22%3A1%2C%22v%22%3Anull%7D").await;
    assert_eq!((r.status(), r.text()), (200, r#"[] [] Some("100000000000000000000 0 1.0 null") {}"#.to_owned()));
    // Beyond a 64-bit item's range, out of an `i128`'s, or a record given as an array: 400.
    let refused = |r: &fsa::TestResponse, name: &str| {
        assert_eq!(r.status(), 400, "{}", r.text());
        assert!(r.text().contains(&format!("parameter \"{name}\" cast error on")), "{}", r.text());
    };
    refused(&post(r#"{"small": [1, 100000000000000000000]}"#).await, "small");
    refused(&post(r#"{"l": [1000000000000000000000000000000000000000]}"#).await, "l");
    refused(&post(r#"{"w": [100000000000000000000, 1, 1.0, null]}"#).await, "w");
    refused(&post(r#"{"w": {"x": 1, "y": -100000000000000000000, "f": 1, "v": 1}}"#).await, "w");
    let r = post(r#"{"w": {"x": 100000000000000000000, "y": 1, "f": 1, "v": 1, "z": "x"}}"#).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    // A repeated key keeps its last value, as through a `Value` and for Python.
    let r = post(r#"{"w": {"x": 1, "x": 2, "y": 100000000000000000000, "f": 1.5, "v": null}}"#).await;
    assert_eq!((r.status(), r.text()), (200, r#"[] [] Some("2 100000000000000000000 1.5 null") {}"#.to_owned()));
    let r = post(r#"{"m": {"a": [1.5], "a": [100000000000000000000]}}"#).await;
    assert_eq!((r.status(), r.text()), (200, r#"[] [] None {"a": [100000000000000000000]}"#.to_owned()));
    // An exponent `-0` is no negative zero: `1e-0` is the float 1.0.
    let r = post(r#"{"w": {"x": 1, "y": 2, "f": 1e-0, "v": [2E-0, -0]}, "l": [-0]}"#).await;
    assert_eq!((r.status(), r.text()), (200, r#"[0] [] Some("1 2 1.0 [2.0,0]") {}"#.to_owned()));
    // A float where an `i128` is expected says so, as through a `Value`.
    let r = post(r#"{"w": {"x": 1.5, "y": 100000000000000000000, "f": 1, "v": 1}}"#).await;
    refused(&r, "w");
    assert!(r.text().contains("invalid type: floating point `1.5`, expected i128"), "{}", r.text());
    // The message names the field without a position in the text.
    let r = post(r#"{"w": {"x": 100000000000000000000, "y": 1, "f": "1", "v": 1}}"#).await;
    refused(&r, "w");
    assert!(r.text().contains("invalid type: string \"1\", expected f64"), "{}", r.text());
    assert!(!r.text().contains(" at line "), "{}", r.text());
}

#[tokio::test]
async fn optional_and_defaults() {
    let c = app().test_client();
    assert_eq!(c.get("/optional").await.json(), json!({"i": null, "s": "hello", "n": 42, "b": false}));
    assert_eq!(c.get("/optional?i=null").await.json()["i"], Value::Null);
    assert_eq!(c.get("/optional?i=5&s=x&n=1&b=true").await.json(), json!({"i": 5, "s": "x", "n": 1, "b": true}));
    assert_eq!(c.get("/optional?i=x").await.status(), 400);
    assert_eq!(c.get("/optional?n=x").await.status(), 400);
}

#[tokio::test]
async fn lists() {
    let c = app().test_client();
    assert_eq!(c.get("/list?l=1&l=2&l=0x3").await.json(), json!({"l": [1, 2, 3], "sum": 6}));
    assert_eq!(c.get("/list?l=4").await.json(), json!({"l": [4], "sum": 4}));
    assert_eq!(c.post("/list").form(&[("l", "1"), ("l", "2")]).await.json()["sum"], 3);
    assert_eq!(c.post("/list").json(&json!({"l": [1, 2]})).await.json()["sum"], 3);
    // JSON values are not converted: a string item is no integer (FlaskSimpleAuth 36 would
    // convert it as HTTP text).
    let r = c.post("/list").json(&json!({"l": ["1", 2]})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"l\" cast error"), "{}", r.text());
    let r = c.post("/list").json(&json!({"l": 1})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("expecting list[int]"), "{}", r.text());
    // A bad item of a repeated parameter: the message quotes every value and names the item.
    let r = c.get("/list?l=1&l=x").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains(r#"parameter "l" cast error on ["1","x"]: item 1: "#), "{}", r.text());
    let r = c.get("/list?l=y").await;
    assert!(r.text().starts_with(r#"parameter "l" cast error on y: "#), "{}", r.text());
    assert!(c.get("/list").await.text().contains("parameter \"l\" is missing"));
    assert_eq!(c.get("/list-default").await.json(), json!({"tags": [], "count": 0}));
    assert_eq!(c.get("/list-default?tags=a&tags=b").await.json(), json!({"tags": ["a", "b"], "count": 2}));
}

#[tokio::test]
async fn float_path_segments() {
    let c = app().test_client();
    assert_eq!(c.get("/float/1.5").await.json(), json!(1.5));
    for bad in ["/float/1", "/float/-1.5", "/float/1e3", "/float/.5"] {
        assert_eq!(c.get(bad).await.status(), 404, "{bad}");
    }
    // a path parameter also given in the request
    let r = c.get("/float/1.5?f=2.5").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"f\""), "{}", r.text());
}

#[tokio::test]
async fn serde_models() {
    let c = app().test_client();
    let calvin = json!({"login": "calvin", "firstname": "Calvin", "lastname": "Watterson"});
    let r = c.post("/models/user").json(&json!({"user": calvin})).await;
    assert_eq!((r.status(), r.json()), (201, calvin.clone()));
    // JSON text in an HTTP parameter, from the query or a form
    let r = c.get("/models/user").query(&[("user", &calvin.to_string())]).await;
    assert_eq!((r.status(), r.json()), (201, calvin.clone()));
    let r = c.post("/models/user").form(&[("user", &calvin.to_string())]).await;
    assert_eq!((r.status(), r.json()), (201, calvin.clone()));
    // missing field, wrong field type, non-object, invalid JSON text, missing
    for body in [
        json!({"user": {"login": "calvin", "firstname": "Calvin"}}),
        json!({"user": {"login": 1, "firstname": "Calvin", "lastname": "W"}}),
        json!({"user": "calvin"}),
        json!({"user": [1, 2]}),
        json!({}),
    ] {
        let r = c.post("/models/user").json(&body).await;
        assert_eq!(r.status(), 400, "{body}");
        assert!(r.text().contains("\"user\""), "{body}: {}", r.text());
    }
    let r = c.get("/models/user?user={nope").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("parameter \"user\" cast error on {nope: "), "{}", r.text());
    // Option<User>
    assert_eq!(c.get("/models/maybe-user").await.json(), Value::Null);
    let r = c.get("/models/maybe-user").query(&[("user", &calvin.to_string())]).await;
    assert_eq!(r.json(), calvin);
    assert_eq!(c.get("/models/maybe-user?user=3").await.status(), 400);
    // An optional record refuses an array as the record does.
    let r = c.get("/models/maybe-user").query(&[("user", r#"["calvin", "c", "h"]"#)]).await;
    assert_eq!(r.status(), 400, "{}", r.text());
    assert_eq!(c.get("/models/maybe-user?user=null").await.json(), Value::Null);
    // deny_unknown_fields
    let r = c.post("/models/point").json(&json!({"p": {"x": 1, "y": 2}})).await;
    assert_eq!(r.json(), json!({"x": 2, "y": 1}));
    let r = c.post("/models/point").json(&json!({"p": {"x": 1, "y": 2, "z": 3}})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"p\"") && r.text().contains("z"), "{}", r.text());
}

#[tokio::test]
async fn garde_validation() {
    let c = app().test_client();
    let ok = json!({"login": "calvin", "age": 33, "email": "calvin@example.org"});
    let r = c.post("/models/signup").json(&json!({"s": ok})).await;
    assert_eq!((r.status(), r.json()), (200, ok.clone()));
    assert_eq!(c.get("/models/signup").query(&[("s", &ok.to_string())]).await.status(), 200);
    let r = c.post("/models/signup").json(&json!({"s": {"login": "x", "age": 3, "email": "nope"}})).await;
    assert_eq!(r.status(), 400);
    let t = r.text();
    assert!(t.starts_with("parameter \"s\" cast error on {"), "{t}");
    for field in ["login", "age", "email"] {
        assert!(t.contains(field), "each field's error is listed: {t}");
    }
    // a type error comes before validation
    let r = c.post("/models/signup").json(&json!({"s": {"login": "calvin", "age": "x", "email": "a@b.c"}})).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn enums() {
    let c = app().test_client();
    let r = c.post("/models/shape").json(&json!({"shape": {"circle": {"r": 1.5}}})).await;
    assert_eq!(r.json(), json!({"circle": {"r": 1.5}}));
    assert_eq!(c.get("/models/shape?shape=%7B%22square%22%3A2.0%7D").await.json(), json!({"square": 2.0}));
    // a unit variant from plain text (not JSON)
    assert_eq!(c.get("/models/shape?shape=empty").await.json(), json!("empty"));
    assert_eq!(c.get("/models/shape?shape=triangle").await.status(), 400);
}

#[tokio::test]
async fn generic_containers() {
    let c = app().test_client();
    let r = c.get("/generic").query(&[("data", r#"{"a": [1, 2], "b": []}"#)]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"a": 2, "b": 0})));
    let r = c.post("/generic").json(&json!({"data": {"a": [1, 2, 3]}})).await;
    assert_eq!(r.json(), json!({"a": 3}));
    for bad in [r#"{"a": ["x"]}"#, r#"{"a": 1}"#, "[1]", "{"] {
        let r = c.get("/generic").query(&[("data", bad)]).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.text().contains("\"data\""), "{bad}");
    }
    let r = c
        .post("/generic2")
        .json(&json!({"m": {"pi": 2.25}, "t": ["a", 1], "v": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}))
        .await;
    assert_eq!(r.json(), json!({"m": {"pi": 2.25}, "t": ["a", 1], "v": [3, 7]}));
    let r = c.get("/generic2").query(&[("m", r#"{"e": 2.5}"#), ("t", r#"["b", 2]"#), ("v", "[]")]).await;
    assert_eq!(r.json(), json!({"m": {"e": 2.5}, "t": ["b", 2], "v": []}));
    let r = c.post("/generic2").json(&json!({"m": {}, "t": ["a"], "v": [{"x": 1}]})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"t\"") && r.text().contains("\"v\""), "{}", r.text());
}

#[tokio::test]
async fn json_values() {
    let c = app().test_client();
    assert_eq!(
        c.get("/json").query(&[("data", r#"{"a": 1}"#)]).await.json(),
        json!({"data": {"a": 1}, "type": "dict"})
    );
    assert_eq!(c.get("/json?data=[1,2]").await.json()["type"], "list");
    assert_eq!(c.get("/json?data=12").await.json(), json!({"data": 12, "type": "number"}));
    assert_eq!(c.get("/json?data=null").await.json(), json!({"data": null, "type": "null"}));
    // from JSON as is: a string stays a string
    assert_eq!(c.post("/json").json(&json!({"data": "[1]"})).await.json(), json!({"data": "[1]", "type": "str"}));
    assert_eq!(c.post("/json").json(&json!({"data": null})).await.json()["type"], "null");
    // missing is missing, even though null is a JSON value
    let r = c.get("/json").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"data\" is missing"), "{}", r.text());
}

#[tokio::test]
async fn custom_scalars() {
    let c = app().test_client();
    assert_eq!(c.get("/color").query(&[("c", "#ff8000")]).await.json(), json!({"r": 255, "g": 128, "b": 0}));
    let r = c.get("/color?c=red").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("not a #rrggbb colour: red"), "{}", r.text());
    // a newtype validating in its constructor: its message, for each offending value
    assert_eq!(c.get("/nat?i=1&j=2").await.json(), json!(3));
    assert_eq!(c.post("/nat").json(&json!({"i": 1, "j": 5})).await.json(), json!(6));
    let r = c.get("/nat?i=-1&j=-2").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("-1 is not a natural number") && r.text().contains("-2 is not a natural number"));
    assert_eq!(c.post("/nat").json(&json!({"i": -1, "j": 5})).await.status(), 400);
    // serde try_from newtype
    assert_eq!(c.get("/slug?s=hello-world").await.text(), "hello-world");
    let r = c.get("/slug?s=Hello").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("invalid slug"), "{}", r.text());
}

#[tokio::test]
async fn registered_casts() {
    let c = app().test_client();
    assert_eq!(c.get("/duration/2m").await.json(), json!(120));
    assert_eq!(c.get("/duration/2?extra=3").await.json(), json!(5));
    let r = c.get("/duration/2?extra=3h").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"extra\" cast error on 3h: unknown unit \"h\""), "{}", r.text());
    // no registered cast: a server error, not a crash
    let app = App::new().routes(fsa::routes![duration]).build().unwrap();
    assert_eq!(app.test_client().get("/duration/2").await.status(), 500);
}

#[tokio::test]
async fn common_types() {
    let c = app().test_client();
    let u = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    let r = c.get(&format!("/common?u={u}&d=2024-02-29&ip=10.0.0.1&n=3")).await;
    assert_eq!(
        (r.status(), r.json()),
        (200, json!({"u": u, "version": 1, "d": "2024-02-29", "weekday": 4, "ip": "10.0.0.1", "v4": true, "n": 3}))
    );
    assert_eq!(c.get(&format!("/common?u={u}&d=2024-02-29&ip=::1&n=3")).await.json()["v4"], false);
    let r = c.get("/common?u=nope&d=2023-02-29&ip=300.0.0.1&n=0").await;
    assert_eq!(r.status(), 400);
    for name in ["u", "d", "ip", "n"] {
        assert!(r.text().contains(&format!("parameter \"{name}\" cast error")), "{name}: {}", r.text());
    }
    assert_eq!(c.get(&format!("/uuid/{u}")).await.text(), u);
    assert_eq!(c.get("/uuid/6ba7b810").await.status(), 404);
    let r = c.get("/datetime?dt=2024-01-02T03:04:05&at=2024-01-02T03:04:05%2B02:00").await;
    assert_eq!(r.json()["hour"], 3);
    assert_eq!(r.json()["offset"], 2);
    assert_eq!(c.get("/datetime?dt=2024-01-02+03:04").await.json()["offset"], Value::Null);
    assert_eq!(c.get("/datetime?dt=yesterday").await.status(), 400);
}

#[tokio::test]
async fn raw_json_values_keep_their_text() {
    let c = app().test_client();
    // A JSON body member as written: integers beyond 64 bits, `1.50` and `-0` unchanged, where
    // a `Value` would make 1.2345678901234568e22 of the first.
    let body = r#"{"data": {"a": 12345678901234567890123, "b": [1.50, -0]}, "items": [99999999999999999999, "x", {}]}"#;
    let r = c.post("/raw").body(body, "application/json").await;
    assert_eq!(
        (r.status(), r.text().trim_end()),
        (200, r#"{"data":{"a": 12345678901234567890123, "b": [1.50, -0]},"items":[99999999999999999999,"x",{}]}"#)
    );
    // HTTP text is checked as JSON and kept too.
    let r = c.get("/raw?data=%20%5B1,%2012345678901234567890123%5D%20&items=true&items=%22s%22").await;
    assert_eq!((r.status(), r.text().trim_end()), (200, r#"{"data":[1, 12345678901234567890123],"items":[true,"s"]}"#));
    let r = c.get("/raw?data=%7B").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"data\" cast error on {: invalid JSON"), "{}", r.text());
    let r = c.get("/raw").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"data\" is missing"), "{}", r.text());
}
