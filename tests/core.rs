//! The route DSL core through the HTTP surface: routing, parameters, responses, errors,
//! configuration, basic authentication and secure mode.

use fsa::prelude::*;
use serde_json::json;

#[get("/hello", authorize = "OPEN")]
fn hello() -> &'static str {
    "hello"
}

#[get("/me", authorize = "AUTH")]
async fn me(user: CurrentUser) -> String {
    format!("user {user}")
}

#[get("/closed", authorize = "CLOSE")]
fn closed() -> &'static str {
    "never"
}

#[get("/int/<i>", authorize = "OPEN")]
fn int_path(i: u64) -> Json<u64> {
    Json(i)
}

/// A path without variables beside one with a variable at the same place.
#[get("/int/max", authorize = "OPEN")]
fn int_max() -> &'static str {
    "max"
}

#[get("/float/<f>", authorize = "OPEN")]
fn float_path(f: f64) -> Json<f64> {
    Json(f)
}

#[get("/uuid/<u>", authorize = "OPEN")]
fn uuid_path(u: uuid::Uuid) -> String {
    u.to_string()
}

#[get("/str/<s>", authorize = "OPEN")]
fn str_path(s: String) -> String {
    s
}

#[get("/pathq/<a>", authorize = "OPEN")]
fn path_and_query(a: String, b: i64) -> String {
    format!("{a}|{b}")
}

#[get("/three/<a>/<b>/<c>", authorize = "OPEN")]
fn three_path(a: String, b: i64, c: String) -> String {
    format!("{a}|{b}|{c}")
}

#[get("/files/<path..>", authorize = "OPEN")]
fn rest_path(path: String) -> String {
    path
}

#[route("/scalars", method = ["GET", "POST"], authorize = "OPEN")]
fn scalars(i: i64, f: f64, b: bool, s: String, c: char) -> Json<serde_json::Value> {
    Json(json!({"i": i, "f": f, "b": b, "s": s, "c": c}))
}

#[get("/optional", authorize = "OPEN")]
fn optional(i: Option<i64>, #[default(42)] n: i64, #[default("hello")] s: String) -> Json<serde_json::Value> {
    Json(json!({"i": i, "n": n, "s": s}))
}

#[route("/list", method = ["GET", "POST"], authorize = "OPEN")]
fn list(l: Vec<i64>) -> Json<i64> {
    Json(l.iter().sum())
}

#[get("/names", authorize = "OPEN")]
fn names(r#type: String, _pass: String, #[rename("x-y")] xy: i32) -> String {
    format!("{type}/{_pass}/{xy}", type = r#type)
}

#[get("/tuple", authorize = "OPEN")]
fn tuple_status() -> (&'static str, http::StatusCode) {
    ("made", http::StatusCode::CREATED)
}

#[get("/tuple16", authorize = "OPEN")]
fn tuple_u16() -> (Json<i32>, u16) {
    (Json(7), 202)
}

#[route("/empty", method = ["GET", "POST"], authorize = "OPEN")]
fn empty() {}

#[get("/fails", authorize = "OPEN")]
fn fails() -> fsa::Result<String> {
    Err(Error::new(418, "I am a teapot"))
}

#[get("/head-only", authorize = "OPEN")]
fn head_only() -> &'static str {
    "body"
}

async fn basic_app(extra: &[(&str, toml::Value)]) -> App {
    let hash = App::new().build().unwrap().hash_password_unchecked("hobbes").await.unwrap();
    assert!(hash.starts_with("$2b$04$"));
    let mut b = App::new().config("FSA_AUTH", "basic").config("FSA_REALM", "core").get_user_pass(move |login| {
        let h = (login == "calvin").then(|| hash.clone());
        async move { Ok(h) }
    });
    for (k, v) in extra {
        b = b.config(k, v.clone());
    }
    b.routes(fsa::routes![
        hello,
        path_and_query,
        me,
        closed,
        int_path,
        int_max,
        float_path,
        uuid_path,
        str_path,
        three_path,
        rest_path,
        scalars,
        optional,
        list,
        names,
        tuple_status,
        tuple_u16,
        empty,
        fails,
        head_only
    ])
    .build()
    .unwrap()
}

#[tokio::test]
async fn routing_404_405_head_options() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/nope").await;
    assert_eq!(r.status(), 404);
    let r = c.post("/hello").await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    let r = c.request(http::Method::HEAD, "/head-only").await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().is_empty());
    // HEAD answers GET's headers, Content-Length included, without the body.
    let get = c.get("/hello").await;
    let head = c.request(http::Method::HEAD, "/hello").await;
    assert!(head.bytes().is_empty());
    let length = get.bytes().len().to_string();
    assert_eq!(
        (head.header("content-length"), head.header("content-type")),
        (Some(length.as_str()), get.header("content-type"))
    );
    let r = c.request(http::Method::OPTIONS, "/hello").await;
    assert_eq!(r.status(), 200);
    assert!(r.header("allow").unwrap().contains("GET"));
}

#[get("/mix/<name>", authorize = "OPEN")]
fn mix_get(name: String) -> String {
    name
}

#[put("/mix/<id>", authorize = "OPEN")]
fn mix_put(id: u64) -> Json<u64> {
    Json(id)
}

#[delete("/ints/<id>", authorize = "OPEN")]
fn ints_delete(id: u64) -> Json<u64> {
    Json(id)
}

/// A route whose fixed part holds a `%`: Werkzeug matches it on the decoded path.
#[get("/pct%41", authorize = "OPEN")]
fn pct_literal() -> &'static str {
    "pct"
}

#[tokio::test]
async fn methods_are_those_of_the_routes_taking_the_segments() {
    let app = App::new().routes(fsa::routes![mix_get, mix_put, ints_delete, hello, pct_literal]).build().unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/mix/abc").await.text(), "abc");
    assert_eq!(c.put("/mix/7").await.text(), "7\n");
    // Path variables are decoded as Werkzeug decodes the path: escapes of plain characters,
    // UTF-8, bytes that are not UTF-8 (U+FFFD), `%25` once only; `%2F` is no segment.
    assert_eq!(c.get("/mix/ab%63").await.text(), "abc");
    assert_eq!(c.put("/mix/%37").await.text(), "7\n");
    assert_eq!(c.get("/mix/caf%C3%A9").await.text(), "café");
    assert_eq!(c.get("/mix/caf%e9").await.text(), "caf\u{fffd}");
    assert_eq!(c.get("/mix/100%2525").await.text(), "100%25");
    assert_eq!(c.get("/mix/a%2Fb").await.status(), 404);
    // Routing reads the decoded path too: escapes in a path's fixed part match it.
    assert_eq!(c.get("/m%69x/ab%63").await.text(), "abc");
    assert_eq!(c.get("/hell%6F").await.text(), "hello");
    assert_eq!(c.get("/hell%6F%2F").await.status(), 404);
    // A `%` in a route's fixed part is a `%` of the decoded path (`%41` in a request is `A`).
    assert_eq!(c.get("/pct%2541").await.text(), "pct");
    assert_eq!(c.get("/pct%41").await.status(), 404);
    // As Flask's router: `PUT /mix/abc` matches `GET /mix/<name>` only, a 405 that lists it.
    for method in [http::Method::PUT, http::Method::PATCH] {
        let r = c.request(method.clone(), "/mix/abc").await;
        assert_eq!((r.status(), r.header("allow")), (405, Some("GET, HEAD, OPTIONS")), "{method}");
    }
    let r = c.request(http::Method::PATCH, "/mix/7").await;
    assert_eq!((r.status(), r.header("allow")), (405, Some("GET, HEAD, OPTIONS, PUT")));
    let r = c.request(http::Method::OPTIONS, "/mix/abc").await;
    assert_eq!((r.status(), r.header("allow")), (200, Some("GET, HEAD, OPTIONS")));
    // No route takes the segment: a 404 whatever the method, OPTIONS included.
    for method in [http::Method::DELETE, http::Method::GET, http::Method::OPTIONS] {
        assert_eq!(c.request(method.clone(), "/ints/abc").await.status(), 404, "{method}");
    }
    let r = c.get("/ints/3").await;
    assert_eq!((r.status(), r.header("allow")), (405, Some("DELETE, OPTIONS")));
}

#[tokio::test]
async fn slashes_as_werkzeug_has_them() {
    let app = App::new().routes(fsa::routes![mix_get, mix_put, ints_delete, hello]).build().unwrap();
    let c = app.test_client();
    // Slashes that start the path count as one.
    assert_eq!(c.get("//hello").await.text(), "hello");
    assert_eq!(c.get("///hello").await.text(), "hello");
    assert_eq!(c.post("//hello").await.status(), 405);
    // A path that a route takes once its runs of slashes are merged is redirected there with
    // a 308 (any method, the query kept); escapes are decoded first (`%2F` is a slash).
    let redirect = |r: &fsa::TestResponse| (r.status(), r.header("location").map(str::to_owned));
    // Absolute when the request names its host, as Werkzeug writes it.
    let r = c.get("/mix//abc").header("host", "example.org:8080").await;
    assert_eq!(redirect(&r), (308, Some("http://example.org:8080/mix/abc".to_owned())));
    let to = |path: &str| (308, Some(path.to_owned()));
    assert_eq!(redirect(&c.get("/mix//abc").await), to("/mix/abc"));
    assert_eq!(redirect(&c.get("//mix//abc").await), to("/mix/abc"));
    assert_eq!(redirect(&c.get("/mix//abc?x=1&y=%20").await), to("/mix/abc?x=1&y=%20"));
    assert_eq!(redirect(&c.get("/mix/%2Fabc").await), to("/mix/abc"));
    assert_eq!(redirect(&c.get("/mix//a%20b").await), to("/mix/a%20b"));
    assert_eq!(redirect(&c.put("/mix//7").await), to("/mix/7"));
    assert_eq!(redirect(&c.request(http::Method::DELETE, "/ints///3").await), to("/ints/3"));
    assert_eq!(redirect(&c.request(http::Method::OPTIONS, "/mix//abc").await), to("/mix/abc"));
    assert_eq!(redirect(&c.request(http::Method::HEAD, "/mix//abc").await), to("/mix/abc"));
    // The merged path's route refuses the method: a 405; no route takes it: a 404.
    assert_eq!(c.request(http::Method::PATCH, "/mix//7").await.status(), 405);
    assert_eq!(c.get("/ints//3").await.status(), 405);
    for path in ["/mix/abc//", "/mix/a//b", "/hello//"] {
        assert_eq!(c.get(path).await.status(), 404, "{path}");
    }
    assert_eq!(c.request(http::Method::DELETE, "/ints//abc").await.status(), 404);
}

#[tokio::test]
async fn paths_without_variables_route_like_the_others() {
    let c = basic_app(&[]).await.test_client();
    // Found by the look-up of paths without variables: ahead of a variable sibling.
    assert_eq!(c.get("/int/max").await.text(), "max");
    assert_eq!(c.get("/int/12").await.text(), "12\n");
    let r = c.post("/int/max").await;
    assert_eq!((r.status(), r.header("allow")), (405, Some("GET, HEAD, OPTIONS")));
    let r = c.request(http::Method::HEAD, "/int/max").await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().is_empty());
    for missing in ["/int/max/", "/int/MAX", "/hello/", "/hell", "/Hello"] {
        assert_eq!(c.get(missing).await.status(), 404, "{missing}");
    }
    assert_eq!(c.get("/hello?x=1").await.status(), 400, "the query string is not part of the path");
}

#[tokio::test]
async fn path_converters_follow_flask() {
    let c = basic_app(&[]).await.test_client();
    assert_eq!(c.get("/int/12").await.text(), "12\n");
    // Digits, leading zeros included, as Flask's `int` converter (the query string follows
    // Python's `int(text, 0)`, which refuses `007`).
    assert_eq!(c.get("/int/007").await.text(), "7\n");
    assert_eq!(c.get("/int/0000").await.text(), "0\n");
    assert_eq!(c.get(&format!("/int/{}7", "0".repeat(50))).await.text(), "7\n");
    assert_eq!(c.get("/int/018446744073709551615").await.text(), "18446744073709551615\n");
    // Digits beyond the type name no object: a 404 (Flask's unbounded `int` hands them to the
    // route, which finds nothing), once authentication has passed.
    let r = c.get("/int/18446744073709551616").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.text(), "parameter \"i\" names nothing: 18446744073709551616: out of range for u64");
    let arabic = format!("/int/{}", "%D9%A3".repeat(21));
    assert_eq!(c.get(&arabic).await.status(), 404);
    // It comes after the other parameters' 400s, as upstream checks every parameter first.
    let r = c.get("/int/18446744073709551616?zz=1").await;
    assert_eq!((r.status(), r.text()), (400, "unexpected http parameter \"zz\"".to_owned()));
    for bad in ["/int/-1", "/int/x", "/int/1.5", "/float/1", "/float/x.5", "/uuid/abc"] {
        assert_eq!(c.get(bad).await.status(), 404, "{bad}");
    }
    assert_eq!(c.get("/float/1.5").await.text(), "1.5\n");
    // Werkzeug's `\d` takes decimal digits of every script, which `int()` and `float()` read
    // (Arabic-Indic 3 and 5, full-width 1 2); a superscript 2 and a Roman numeral are no digits.
    assert_eq!(c.get("/int/%D9%A3").await.text(), "3\n");
    assert_eq!(c.get("/int/%EF%BC%91%EF%BC%92").await.text(), "12\n");
    assert_eq!(c.get("/float/%D9%A3.%D9%A5").await.text(), "3.5\n");
    for bad in ["/int/%C2%B2", "/int/%E2%85%A0", "/float/%D9%A3."] {
        assert_eq!(c.get(bad).await.status(), 404, "{bad}");
    }
    let u = "0b0e3b0c-7a54-4f0b-9a52-4a3b1f1c2d3e";
    assert_eq!(c.get(&format!("/uuid/{u}")).await.text(), u);
    assert_eq!(c.get("/str/h%C3%A9llo").await.text(), "héllo");
    assert_eq!(c.get("/str/a/b").await.status(), 404);
    assert_eq!(c.get("/files/a/b/c.txt").await.text(), "a/b/c.txt");
    // More parameters than are kept inline, segments longer than kept inline, decoded ones.
    let long = "a-segment-longer-than-twenty-four-bytes";
    assert_eq!(c.get(&format!("/three/x/7/{long}")).await.text(), format!("x|7|{long}"));
    assert_eq!(c.get(&format!("/three/{long}%21/70/h%C3%A9")).await.text(), format!("{long}!|70|hé"));
}

#[tokio::test]
async fn scalar_conversions_from_text() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/scalars?i=0x11&f=1e3&b=TRUE&s=x&c=%C3%A9").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.json(), json!({"i": 17, "f": 1000.0, "b": true, "s": "x", "c": "é"}));
    assert_eq!(c.get("/scalars?i=0o21&f=2&b=false&s=&c=x").await.json()["i"], 17);
    let r = c.get("/scalars?i=%EF%BC%91%EF%BC%92&f=%D9%A3.5&b=true&s=&c=x").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!((r.json()["i"].clone(), r.json()["f"].clone()), (json!(12), json!(3.5)), "digits of any script");
    assert_eq!(c.get("/scalars?i=%C2%B2&f=1&b=true&s=&c=x").await.status(), 400, "a superscript is no digit");
    assert_eq!(c.get("/scalars?i=0b10001&f=2&b=false&s=&c=x").await.json()["i"], 17);
    // Repeated scalar parameters: the first value is used.
    assert_eq!(c.get("/scalars?i=1&i=2&f=2&b=false&s=&c=x").await.json()["i"], 1);
    for (q, name) in [("i=x", "i"), ("b=1", "b"), ("b=yes", "b"), ("f=abc", "f"), ("c=ab", "c"), ("i=017", "i")] {
        let base = "i=1&f=1&b=true&s=s&c=c";
        let uri = format!("/scalars?{q}&{base}");
        let r = c.get(&uri).await;
        assert_eq!(r.status(), 400, "{uri}");
        assert!(r.text().contains(&format!("\"{name}\"")), "{uri}: {}", r.text());
    }
}

#[tokio::test]
async fn json_values_are_type_checked_and_all_errors_reported() {
    let c = basic_app(&[]).await.test_client();
    let ok = c.post("/scalars").json(&json!({"i": 3, "f": 2.0, "b": false, "s": "x", "c": "y"})).await;
    assert_eq!(ok.status(), 200, "{}", ok.text());
    assert_eq!(ok.json()["f"], 2.0);
    // A float wants a number written as a float: `2` is a Python int, and is refused.
    let r = c.post("/scalars").body(r#"{"i": 3, "f": 2, "b": false, "s": "x", "c": "y"}"#, "application/json").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"f\""), "{}", r.text());
    let ok = c.post("/scalars").body(r#"{"i": 3, "f": 2e0, "b": false, "s": "x", "c": "y"}"#, "application/json").await;
    assert_eq!((ok.status(), ok.json()["f"].clone()), (200, json!(2.0)));
    let r = c.post("/scalars").json(&json!({"i": "12", "f": "2.0", "b": 1, "s": 3})).await;
    assert_eq!(r.status(), 400);
    let text = r.text();
    for name in ["\"i\"", "\"f\"", "\"b\"", "\"s\"", "\"c\""] {
        assert!(text.contains(name), "{name} in {text}");
    }
    assert!(text.contains("parameter \"c\" is missing"), "{text}");
    assert_eq!(text.lines().count(), 5, "{text}");
    let r = c.post("/scalars").json(&json!({"i": true, "f": 1.0, "b": true, "s": "", "c": "x"})).await;
    assert_eq!(r.status(), 400);
    let r = c.post("/scalars").form(&[("i", "5"), ("f", "1"), ("b", "true"), ("s", "form"), ("c", "z")]).await;
    assert_eq!(r.json()["s"], "form");
}

#[tokio::test]
async fn optional_default_and_lists() {
    let c = basic_app(&[]).await.test_client();
    assert_eq!(c.get("/optional").await.json(), json!({"i": null, "n": 42, "s": "hello"}));
    assert_eq!(c.get("/optional?i=null&n=1&s=x").await.json(), json!({"i": null, "n": 1, "s": "x"}));
    assert_eq!(c.get("/optional?i=5").await.json()["i"], 5);
    assert_eq!(c.get("/list?l=1&l=2&l=3").await.text(), "6\n");
    assert_eq!(c.get("/list?l=4").await.text(), "4\n");
    assert_eq!(c.post("/list").json(&json!({"l": [1, 2, 3]})).await.text(), "6\n");
    // JSON items are not converted: a string is no integer.
    assert_eq!(c.post("/list").json(&json!({"l": [1, 2, "3"]})).await.status(), 400);
    assert_eq!(c.post("/list").json(&json!({"l": 1})).await.status(), 400);
    assert_eq!(c.get("/list?l=1&l=x").await.status(), 400);
    let r = c.get("/list").await;
    assert!(r.text().contains("parameter \"l\" is missing"));
}

#[tokio::test]
async fn parameter_names() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/names?type=t&pass=p&x-y=3").await;
    assert_eq!((r.status(), r.text()), (200, "t/p/3".to_owned()));
    let r = c.get("/names?type=t&_pass=p&x-y=3").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("unexpected http parameter \"_pass\""), "{}", r.text());
}

#[tokio::test]
async fn unexpected_parameters() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/hello?x=1").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"x\""));
    let r = c.post("/list").json(&json!({"l": [1], "zz": 2})).await;
    assert!(r.text().contains("unexpected json parameter \"zz\""), "{}", r.text());
    // A JSON request's parameters are all `json` ones, its query string's too, as upstream
    // names them by the request's body.
    let r = c.post("/list?qq=1").json(&json!({"l": [1]})).await;
    assert_eq!(r.text(), "unexpected json parameter \"qq\"");
    // Names that come only in a form body, or only as an uploaded file, are checked too.
    let r = c.post("/list").form(&[("l", "1"), ("yy", "2")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("unexpected http parameter \"yy\""), "{}", r.text());
    let upload = "--b\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nhi\r\n--b--\r\n";
    let r = c.post("/empty").body(upload, "multipart/form-data; boundary=b").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("unexpected http parameter \"doc\""), "{}", r.text());
    let r = c.post("/empty").form(&[("yy", "2")]).await;
    assert!(r.text().contains("unexpected http parameter \"yy\""), "{}", r.text());
    let r = c.post("/empty").json(&json!({"zz": 2})).await;
    assert!(r.text().contains("unexpected json parameter \"zz\""), "{}", r.text());
    // Without any parameter, nothing is unexpected.
    assert_eq!(c.post("/empty").json(&json!({})).await.status(), 200);
    assert_eq!(c.get("/hello").await.status(), 200);
    let r = c.get("/str/a?s=b").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"s\""));
    // A huge number of bad parameters, or a huge bad value, does not make a huge answer:
    // 100 messages at most, then a count; a value quoted up to 200 characters.
    let query: Vec<String> = (0..150).map(|k| format!("p{k}=1")).collect();
    let r = c.get(&format!("/hello?{}", query.join("&"))).await;
    assert_eq!(r.status(), 400);
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 101, "{}", r.text());
    assert!(lines[99].contains("\"p99\"") && lines[100] == "and 50 more parameter errors", "{}", r.text());
    // The arguments' errors come first; the unexpected names beyond those listed are counted.
    let r = c.get(&format!("/scalars?i=x&f=1&b=true&s=s&c=c&{}", query.join("&"))).await;
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 101, "{text}");
    assert!(lines[0].starts_with("parameter \"i\" cast error on x"), "{text}");
    assert!(lines[1].contains("\"p0\"") && lines[99].contains("\"p98\""), "{text}");
    assert_eq!(lines[100], "and 51 more parameter errors");
    let long = "9".repeat(10_000);
    let r = c.get(&format!("/scalars?i=x{long}&f=1&b=true&s=s&c=c")).await;
    assert_eq!(r.status(), 400);
    let expected = format!("parameter \"i\" cast error on x{}…: ", &long[..199]);
    assert!(r.text().starts_with(&expected) && r.text().len() < 300, "{}", r.text().len());
    let lax = basic_app(&[("FSA_REJECT_UNEXPECTED_PARAM", false.into())]).await.test_client();
    assert_eq!(lax.get("/hello?x=1").await.status(), 200);
    // A path segment given in the request too is refused whatever that setting.
    let r = lax.get("/str/a?s=b").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"s\" is both in path and request"), "{}", r.text());
    assert_eq!(lax.get("/str/a?t=b").await.status(), 200);
    // As upstream lists them: a path argument given in the request too with the arguments,
    // then the arguments' errors, then the unexpected names, whatever their order in the query.
    let r = c.get("/pathq/x?q=1&b=z&a=y&r=2").await;
    let lines: Vec<String> = r.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0], "parameter \"a\" is both in path and request");
    assert!(lines[1].starts_with("parameter \"b\" cast error on z"), "{lines:?}");
    assert_eq!(lines[2..], ["unexpected http parameter \"q\"", "unexpected http parameter \"r\""]);
    assert_eq!(c.get("/pathq/x?b=3").await.text(), "x|3");
}

#[tokio::test]
async fn responses() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/tuple").await;
    assert_eq!((r.status(), r.text()), (201, "made".to_owned()));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let r = c.get("/tuple16").await;
    assert_eq!((r.status(), r.text()), (202, "7\n".to_owned()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = c.get("/empty").await;
    assert_eq!((r.status(), r.bytes().len()), (200, 0));
    let r = c.get("/fails").await;
    assert_eq!((r.status(), r.text()), (418, "I am a teapot".to_owned()));
}

#[tokio::test]
async fn error_formats() {
    let json_app = basic_app(&[("FSA_ERROR_RESPONSE", "json".into())]).await.test_client();
    let r = json_app.get("/fails").await;
    assert_eq!(r.json(), json!("I am a teapot"));
    // The bytes of FlaskSimpleAuth's bodies, Python's `json.dumps`: a space after `:` and no
    // final newline, every non-ASCII character escaped.
    assert_eq!(r.text(), r#""I am a teapot""#);
    let keyed = basic_app(&[("FSA_ERROR_RESPONSE", "json:error".into())]).await.test_client();
    let r = keyed.get("/fails").await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({"error": "I am a teapot"}));
    assert_eq!(r.text(), r#"{"error": "I am a teapot"}"#);
    let r = keyed.get("/int/%C3%A9").await;
    assert_eq!(r.status(), 404);
    let r = keyed.get("/scalars?i=%C3%A9&f=1&b=true&s=&c=x").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with(r#"{"error": "parameter \"i\""#), "{}", r.text());
    assert!(r.text().contains(r#"\u00e9"#), "{}", r.text());
    let r = keyed.get("/nope").await;
    assert_eq!((r.status(), r.json()["error"].is_string()), (404, true));
    let r = keyed.post("/hello").await;
    assert_eq!((r.status(), r.json()["error"].is_string()), (405, true));
}

#[tokio::test]
async fn open_auth_close_with_basic() {
    let app = basic_app(&[]).await;
    let c = app.test_client();
    assert_eq!(c.get("/hello").basic("calvin", "wrong").await.status(), 200);
    let r = c.get("/me").basic("calvin", "hobbes").await;
    assert_eq!((r.status(), r.text()), (200, "user calvin".to_owned()));
    for r in [c.get("/me").await, c.get("/me").basic("calvin", "nope").await, c.get("/me").basic("hobbes", "x").await] {
        assert_eq!(r.status(), 401);
        // FSA_AUTH = "basic" means token, basic, none: both challenges are offered.
        assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"core\", Bearer realm=\"core\""));
    }
    assert!(c.get("/me").basic("calvin", "nope").await.text().contains("calvin"));
    assert_eq!(c.get("/closed").basic("calvin", "hobbes").await.status(), 403);
    assert_eq!(c.get("/closed").await.status(), 403);
    let h = app.hash_password("secret").await.unwrap();
    assert!(app.check_password("secret", &h).await);
    assert!(!app.check_password("other", &h).await);
}

#[tokio::test]
async fn secure_mode_refuses_plain_http_from_remote_peers() {
    let c = basic_app(&[]).await.test_client();
    let r = c.get("/hello").peer("10.1.2.3:5555").await;
    assert_eq!(r.status(), 500);
    assert!(r.text().contains("insecure"));
    assert_eq!(c.get("/hello").peer("10.1.2.3:5555").tls().await.status(), 200);
    assert_eq!(c.get("/hello").peer("[::1]:5555").await.status(), 200);
    let lax = basic_app(&[("FSA_SECURE", false.into())]).await.test_client();
    assert_eq!(lax.get("/hello").peer("10.1.2.3:5555").await.status(), 200);
}

#[test]
fn configuration_mistakes_are_build_errors() {
    let e = App::new().config("FSA_AUHT", "basic").routes(fsa::routes![hello]).build().unwrap_err();
    assert!(e.0.contains("FSA_AUHT"), "{e}");
    let e = App::new().config("FSA_TOKEN_CARRIER", "pigeon").build().unwrap_err();
    assert!(e.0.contains("FSA_TOKEN_CARRIER"), "{e}");
    let mut cfg = fsa::Config::default();
    cfg.merge_toml("FSA_AUTH = \"basic\"\nFSA_REALM = \"from-toml\"").unwrap();
    let app = fsa::AppBuilder::with_config(cfg).routes(fsa::routes![me]).build().unwrap();
    assert_eq!(app.config().realm, "from-toml");
}

mod state {
    use fsa::prelude::*;

    pub struct Greeting(pub &'static str);

    #[get("/greet", authorize = "OPEN")]
    pub fn greet(greeting: State<Greeting>) -> String {
        greeting.0.0.to_owned()
    }

    #[get("/greet-maybe", authorize = "OPEN")]
    pub fn greet_maybe(greeting: Option<State<Greeting>>) -> String {
        greeting.map_or("none", |g| g.0.0).to_owned()
    }
}

/// A `State<T>` argument whose state was never registered is a build error, naming the route,
/// the argument and the type; an optional one is not.
#[tokio::test]
async fn unregistered_state_is_a_build_error() {
    let e = App::new().routes(fsa::routes![state::greet]).build().unwrap_err();
    assert!(e.0.contains("greet") && e.0.contains("`greeting`") && e.0.contains("Greeting"), "{e}");
    let app = App::new().routes(fsa::routes![state::greet_maybe]).build().unwrap();
    assert_eq!(app.test_client().get("/greet-maybe").await.text(), "none");
    let app = App::new().state(state::Greeting("hi")).routes(fsa::routes![state::greet, state::greet_maybe]).build();
    let c = app.unwrap().test_client();
    assert_eq!((c.get("/greet").await.text(), c.get("/greet-maybe").await.text()), ("hi".into(), "hi".into()));
}

mod conflict {
    use fsa::prelude::*;

    #[get("/same/<a>", authorize = "OPEN")]
    pub fn one(a: i64) -> String {
        a.to_string()
    }

    #[get("/same/<a>", authorize = "OPEN")]
    pub fn two(a: i64) -> String {
        a.to_string()
    }
}

#[test]
fn conflicting_routes_are_refused_naming_both() {
    let e = App::new().routes(fsa::routes![conflict::one, conflict::two]).build().unwrap_err();
    assert!(e.0.contains("one") && e.0.contains("two"), "{e}");
}

#[tokio::test]
async fn the_app_is_a_tower_service() {
    use tower::ServiceExt;
    let app = basic_app(&[]).await;
    let req = http::Request::get("/int/5")
        .extension(fsa::PeerAddr("127.0.0.1:9".parse().unwrap()))
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    assert_eq!(&body[..], b"5\n");
}

#[tokio::test]
async fn serves_over_a_real_socket() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = basic_app(&[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve_listener(listener, async {
        let _ = stop_rx.await;
    }));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = "Y2FsdmluOmhvYmJlcw=="; // calvin:hobbes
    s.write_all(
        format!("GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.ends_with("user calvin"), "{out}");
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
