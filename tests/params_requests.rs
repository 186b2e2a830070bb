//! Request-level parameter behaviour through HTTP: special arguments (a user object built from
//! the current user and state, headers, cookies, client address, state), multipart uploads,
//! catch-all `Kwargs`, authentication parameters, body limits and bad bodies, JSON responses
//! (streamed or not) and the default content type.

use std::collections::HashMap;

use fsa::prelude::*;
use fsa::{ClientAddr, Cookie, Fields, Kwargs, Special, UploadedFile};
use serde_json::{Value, json};

/// The fixture's user directory, shared state.
struct Directory(HashMap<&'static str, &'static str>);

/// The current user as an object (the seed's `UserObject` recipe).
#[derive(Debug)]
struct UserObject {
    login: String,
    email: Option<String>,
}

impl Special for UserObject {
    async fn extract(ctx: &mut Context, name: &'static str) -> fsa::Result<Self> {
        let user = CurrentUser::extract(ctx, name).await?;
        let dir = State::<Directory>::extract(ctx, name).await?;
        Ok(UserObject { email: dir.0.0.get(user.as_ref() as &str).map(|e| (*e).to_owned()), login: user.0 })
    }
}

#[get("/me", authorize = "AUTH")]
fn me(user: UserObject) -> Json<Value> {
    Json(json!({"login": user.login, "email": user.email}))
}

#[get("/header", authorize = "OPEN")]
fn header(x_custom: Header, x_count: Option<Header<i64>>) -> Json<Value> {
    Json(json!({"x_custom": x_custom.0, "x_count": x_count.map(|c| c.0)}))
}

#[get("/cookie", authorize = "OPEN")]
fn cookie(flavor: Cookie, size: Option<Cookie<u32>>) -> Json<Value> {
    Json(json!({"flavor": flavor.0, "size": size.map(|s| s.0)}))
}

#[get("/client", authorize = "OPEN")]
fn client(addr: ClientAddr, dir: State<Directory>) -> Json<Value> {
    Json(json!({"ip": addr.0.to_string(), "users": dir.0.0.len()}))
}

#[post("/upload", authorize = "OPEN")]
fn upload(doc: UploadedFile, #[default("none")] label: String, extra: Option<UploadedFile>) -> Json<Value> {
    Json(json!({
        "filename": doc.filename,
        "size": doc.content.len(),
        "type": doc.content_type,
        "label": label,
        "extra": extra.map(|e| e.filename),
    }))
}

#[route("/kwargs", authorize = "OPEN", method = ["GET", "POST"])]
fn kwargs(a: i64, others: Kwargs) -> Json<Value> {
    Json(json!({"a": a, "others": others.0}))
}

#[get("/auth-params", authorize = "AUTH")]
fn auth_params(user: CurrentUser, x: i64) -> Json<Value> {
    Json(json!({"user": user, "x": x}))
}

#[get("/auth-kwargs", authorize = "AUTH")]
fn auth_kwargs(others: Kwargs) -> Json<Value> {
    Json(json!({"others": others.0}))
}

#[route("/echo", authorize = "OPEN", method = ["GET", "POST"])]
fn echo(#[default(0)] n: i64) -> Json<i64> {
    fsa::jsonify(n)
}

#[get("/squares", authorize = "OPEN")]
fn squares(#[default(4)] n: i64) -> fsa::JsonStream<Vec<i64>> {
    fsa::JsonStream::new((0..n).map(|i| i * i).collect())
}

#[get("/text", authorize = "OPEN")]
fn text() -> &'static str {
    "<p>hi</p>"
}

/// A whole-body record (`JsonBody`).
#[derive(serde::Deserialize)]
struct Item {
    id: i64,
    name: String,
    tags: Vec<String>,
}

#[put("/items/<id>", authorize = "OPEN")]
fn put_item(id: i64, item: JsonBody<Item>, #[default(false)] dry: bool) -> Json<Value> {
    Json(json!({"path_id": id, "body_id": item.id, "name": item.name, "tags": item.tags, "dry": dry}))
}

/// A whole-body record with garde rules, checked as the body is read.
#[derive(serde::Deserialize, garde::Validate)]
struct Order {
    #[garde(length(min = 1))]
    item: String,
    #[garde(range(min = 1, max = 10))]
    count: u8,
}

#[post("/orders", authorize = "OPEN")]
fn post_order(order: JsonBody<Order>) -> String {
    format!("{} x {}", order.count, order.item)
}

/// Several, each checked by its rules; optional.
#[post("/order-lists", authorize = "OPEN")]
fn post_orders(orders: Option<JsonBody<Vec<Order>>>) -> String {
    orders.map_or(0, |o| o.len()).to_string()
}

/// The rules' 400 handed over to the handler, as any special's error.
#[post("/order-results", authorize = "OPEN")]
fn order_result(order: fsa::Result<JsonBody<Order>>) -> String {
    match order {
        Ok(order) => format!("{} x {}", order.count, order.item),
        Err(e) => format!("refused: {}", e.message()),
    }
}

/// Another `JsonBody`, not fsa's: two ordinary parameters, not the whole body twice.
mod mine {
    #[derive(serde::Deserialize)]
    pub struct JsonBody {
        pub a: i64,
    }
}

#[post("/two-members", authorize = "OPEN")]
fn two_members(x: mine::JsonBody, y: mine::JsonBody) -> String {
    (x.a + y.a).to_string()
}

/// The handler may still call garde itself: `?` answers a 400 listing the complaints too.
#[post("/order-checks", authorize = "OPEN")]
fn check_order(order: JsonBody<Vec<Value>>) -> fsa::Result<String> {
    let orders: Vec<Order> = order.iter().filter_map(|o| serde_json::from_value(o.clone()).ok()).collect();
    garde::Validate::validate(&orders)?;
    Ok(orders.len().to_string())
}

#[post("/maybe-item", authorize = "OPEN")]
fn maybe_item(item: Option<JsonBody<Item>>) -> Json<Value> {
    Json(json!(item.map(|i| i.into_inner().name)))
}

#[post("/my-items", authorize = "AUTH")]
fn my_items(user: CurrentUser, item: JsonBody<Item>, others: Kwargs) -> Json<Value> {
    Json(json!({"user": user.0, "name": item.name, "others": others.0}))
}

/// A whole body of another kind than an object.
#[post("/items", authorize = "OPEN")]
fn post_items(items: JsonBody<Vec<Item>>) -> Json<Value> {
    Json(json!(items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>()))
}

/// The same `JsonBody` under another name, which the macro cannot see through.
type Body<T> = JsonBody<T>;

#[post("/twice", authorize = "OPEN")]
fn twice(first: JsonBody<Item>, second: Body<Item>) -> String {
    format!("{} {}", first.name, second.name)
}

/// A struct of parameters (`Fields`): paging and filters, as axum's `Query<T>` gives them.
#[derive(serde::Deserialize, garde::Validate)]
struct Search {
    #[garde(skip)]
    q: String,
    #[serde(default = "first_page")]
    #[garde(range(min = 1))]
    page: u32,
    #[garde(skip)]
    size: Option<u8>,
    #[serde(default)]
    #[garde(skip)]
    tags: Vec<String>,
    #[serde(default)]
    #[garde(skip)]
    order: Order_,
    #[serde(rename = "type", default)]
    #[garde(skip)]
    kind: Option<String>,
}

fn first_page() -> u32 {
    1
}

#[derive(serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
enum Order_ {
    #[default]
    Asc,
    Desc,
}

#[route("/search/<shelf>", authorize = "OPEN", method = ["GET", "POST"])]
fn search(shelf: i64, search: Fields<Search>, #[default(false)] exact: bool) -> Json<Value> {
    let s = search.into_inner();
    Json(json!({"shelf": shelf, "q": s.q, "page": s.page, "size": s.size, "tags": s.tags,
        "order": s.order, "type": s.kind, "exact": exact}))
}

/// Beside `Kwargs`, which collects the parameters that are no field.
#[get("/search-more", authorize = "OPEN")]
fn search_more(search: Fields<Search>, others: Kwargs) -> Json<Value> {
    Json(json!({"q": search.q, "others": others.0}))
}

/// Optional: `None` without any of its fields; a bad value is still an error.
#[derive(serde::Deserialize)]
struct Numbers {
    n: Option<u128>,
    m: Option<i128>,
    list: Option<Vec<i64>>,
    f: Option<f64>,
}

#[route("/numbers", authorize = "OPEN", method = ["GET", "POST"])]
fn numbers(numbers: Option<Fields<Numbers>>) -> Json<Value> {
    Json(match numbers {
        None => json!(null),
        Some(n) => json!({"n": n.n.map(|v| v.to_string()), "m": n.m.map(|v| v.to_string()), "list": n.list,
            "f": n.f.map(|v| v.to_string())}),
    })
}

/// A struct whose fields are not all known (`flatten`): any parameter is taken.
#[derive(serde::Deserialize)]
struct Open {
    q: String,
    #[serde(flatten)]
    others: HashMap<String, String>,
}

#[get("/open-search", authorize = "OPEN")]
fn open_search(search: Fields<Open>) -> Json<Value> {
    Json(json!({"q": search.q, "others": search.others}))
}

/// Typed fields beside a flattened map.
#[derive(serde::Deserialize)]
struct Paged {
    page: u32,
    size: u32,
    #[serde(flatten)]
    filters: HashMap<String, String>,
}

#[get("/paged", authorize = "OPEN")]
fn paged(p: Fields<Paged>) -> Json<Value> {
    Json(json!({"page": p.page, "size": p.size, "filters": p.filters}))
}

fn builder() -> fsa::AppBuilder {
    App::new()
        .config("FSA_AUTH", vec!["fake", "none"])
        .config("FSA_MAX_BODY_SIZE", 1024)
        .config("FSA_MAX_JSON_DEPTH", 8)
        .state(Directory(HashMap::from([("calvin", "calvin@example.org"), ("hobbes", "hobbes@example.org")])))
        .routes(fsa::routes![
            me,
            header,
            cookie,
            client,
            upload,
            kwargs,
            auth_params,
            auth_kwargs,
            echo,
            squares,
            text,
            put_item,
            post_order,
            maybe_item,
            my_items,
            post_items,
            post_orders,
            check_order,
            order_result,
            two_members,
            search,
            search_more,
            open_search,
            paged,
            numbers
        ])
}

fn app() -> App {
    builder().build().unwrap()
}

#[tokio::test]
async fn user_object_from_current_user_and_state() {
    let c = app().test_client();
    let r = c.get("/me?LOGIN=calvin").await;
    assert_eq!(r.json(), json!({"login": "calvin", "email": "calvin@example.org"}));
    assert_eq!(c.get("/me?LOGIN=moe").await.json(), json!({"login": "moe", "email": null}));
    assert_eq!(c.get("/me").await.status(), 401);
    // a request parameter named like a special argument
    let r = c.get("/me?LOGIN=calvin&user=x").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"user\""), "{}", r.text());
}

#[tokio::test]
async fn headers_and_cookies() {
    let c = app().test_client();
    let r = c.get("/header").header("X-Custom", "hello").await;
    assert_eq!(r.json(), json!({"x_custom": "hello", "x_count": null}));
    let r = c.get("/header").header("x-custom", "a").header("X-Count", "3").await;
    assert_eq!(r.json(), json!({"x_custom": "a", "x_count": 3}));
    let r = c.get("/header").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("X-Custom") || r.text().contains("x-custom"), "{}", r.text());
    assert_eq!(c.get("/header").header("X-Custom", "a").header("X-Count", "many").await.status(), 400);
    // A header's bytes are UTF-8 text, else Latin-1 (as Python's `requests` sends a `str`).
    let r = c.get("/header").header("X-Custom", "José").await;
    assert_eq!(r.json(), json!({"x_custom": "José", "x_count": null}));
    let r = c.get("/header").header_bytes("X-Custom", b"Jos\xe9").await;
    assert_eq!(r.json(), json!({"x_custom": "José", "x_count": null}));
    // A cookie pair that is not UTF-8 hides none of the others; its value is Latin-1.
    let r = c.get("/cookie").header_bytes("cookie", b"x=caf\xe9; flavor=mint").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    assert!(r.text().contains("mint"), "{}", r.text());
    let r = c.get("/cookie").header_bytes("cookie", b"flavor=caf\xe9").await;
    assert!(r.text().contains("café"), "{}", r.text());
    // A header or cookie that does not convert is quoted as a parameter is: 200 characters.
    let long = "x".repeat(5_000);
    let r = c.get("/header").header("X-Custom", "a").header("X-Count", &long).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with(&format!("header \"x_count\" cast error on {}…: ", &long[..200])), "{}", r.text());
    let r = c.get("/cookie").header("cookie", &format!("flavor=a; size={long}")).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with(&format!("cookie \"size\" cast error on {}…: ", &long[..200])), "{}", r.text());
    let r = c.get("/header?x_custom=forged").header("X-Custom", "a").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"x_custom\""), "{}", r.text());

    let r = c.get("/cookie").header("cookie", "flavor=choc; size=3").await;
    assert_eq!(r.json(), json!({"flavor": "choc", "size": 3}));
    assert_eq!(c.get("/cookie").cookie("flavor", "vanilla").await.json()["size"], Value::Null);
    assert_eq!(c.get("/cookie").await.status(), 400);
    assert_eq!(c.get("/cookie").header("cookie", "flavor=a; size=big").await.status(), 400);
    assert_eq!(c.get("/cookie?flavor=x").cookie("flavor", "a").await.status(), 400);
}

/// The test client refuses a header that no client could send, rather than leave it out.
#[tokio::test]
#[should_panic(expected = "invalid test request: header X-Custom")]
async fn the_test_client_refuses_a_header_http_does_not_allow() {
    let _ = app().test_client().get("/header").header("X-Custom", "a\r\nX-Count: 3").await;
}

#[tokio::test]
#[should_panic(expected = "invalid test request: peer address \"10.0.0\"")]
async fn the_test_client_refuses_a_peer_that_is_no_address() {
    let _ = app().test_client().get("/client").peer("10.0.0").await;
}

#[tokio::test]
async fn client_address_and_state() {
    let c = app().test_client();
    assert_eq!(c.get("/client").peer("10.1.2.3").tls().await.json(), json!({"ip": "10.1.2.3", "users": 2}));
    assert_eq!(c.get("/client").await.json()["ip"], "127.0.0.1");
    assert_eq!(c.get("/client?addr=1.1.1.1").await.status(), 400);
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "XyZzYboundary42";
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/plain\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

#[tokio::test]
async fn uploads() {
    let c = app().test_client();
    let (body, ct) = multipart(&[("doc", Some("notes.txt"), b"hello world"), ("label", None, b"mine")]);
    let r = c.post("/upload").body(body, &ct).await;
    assert_eq!(
        (r.status(), r.json()),
        (200, json!({"filename": "notes.txt", "size": 11, "type": "text/plain", "label": "mine", "extra": null}))
    );
    let (body, ct) = multipart(&[("doc", Some("a.bin"), b""), ("extra", Some("b.txt"), b"x")]);
    let r = c.post("/upload").body(body, &ct).await;
    assert_eq!((r.json()["label"].clone(), r.json()["extra"].clone()), (json!("none"), json!("b.txt")));
    // file names as Werkzeug reads them: `%22` is a quote (how browsers and Python's requests
    // escape one), and RFC 5987's `filename*` is percent-decoded UTF-8
    let (body, ct) = multipart(&[("doc", Some("my %22doc%22.txt"), b"x")]);
    assert_eq!(c.post("/upload").body(body, &ct).await.json()["filename"], r#"my "doc".txt"#);
    let body =
        "--b\r\nContent-Disposition: form-data; name=\"doc\"; filename*=UTF-8''na%C3%AFve.txt\r\n\r\nx\r\n--b--\r\n";
    let r = c.post("/upload").body(body, "multipart/form-data; boundary=b").await;
    assert_eq!((r.status(), r.json()["filename"].clone()), (200, json!("naïve.txt")));
    // the part's content type as written, even one that is no media type
    let body = "--b\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a\"\r\nContent-Type: weird\r\n\r\nx\r\n--b--\r\n";
    let r = c.post("/upload").body(body, "multipart/form-data; boundary=b").await;
    assert_eq!((r.status(), r.json()["type"].clone()), (200, json!("weird")));
    // no file part
    let (body, ct) = multipart(&[("label", None, b"mine")]);
    let r = c.post("/upload").body(body, &ct).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("parameter \"doc\" is missing"), "{}", r.text());
    // a text field where a file is expected
    let (body, ct) = multipart(&[("doc", None, b"not a file")]);
    let r = c.post("/upload").body(body, &ct).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("\"doc\""), "{}", r.text());
    // too large
    let big = vec![b'x'; 2000];
    let (body, ct) = multipart(&[("doc", Some("big.txt"), &big)]);
    assert_eq!(c.post("/upload").body(body, &ct).await.status(), 413);
    // broken multipart
    assert_eq!(c.post("/upload").body("garbage", "multipart/form-data; boundary=zz").await.status(), 400);
    assert_eq!(c.post("/upload").body("garbage", "multipart/form-data").await.status(), 400);
}

#[tokio::test]
async fn kwargs_collects_the_rest() {
    let c = app().test_client();
    let r = c.get("/kwargs?a=1&b=x&c=2&LOGIN=calvin").await;
    assert_eq!((r.status(), r.json()), (200, json!({"a": 1, "others": {"b": "x", "c": "2"}})));
    assert_eq!(c.get("/kwargs?b=x").await.status(), 400, "a is still mandatory");
    let r = c.get("/auth-kwargs?LOGIN=calvin&z=1").await;
    assert_eq!(r.json(), json!({"others": {"z": "1"}}), "authentication parameters are not collected");
}

#[tokio::test]
async fn kwargs_of_many_names_and_of_a_json_body() {
    let c = builder()
        .config("FSA_MAX_BODY_SIZE", 1_000_000)
        .config("FSA_MAX_PARAMS", 30_000)
        .build()
        .unwrap()
        .test_client();
    // 20,000 names, each collected once with its first value, in one pass over the request:
    // a look-up per name takes their square (this test took 10 s that way, 0.1 s now).
    let names: Vec<(String, String)> = (0..20_000).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
    let mut pairs: Vec<(&str, &str)> = vec![("a", "1")];
    pairs.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    pairs.push(("k7", "again"));
    let r = c.post("/kwargs").form(&pairs).await;
    assert_eq!(r.status(), 200);
    let others = r.json()["others"].clone();
    assert_eq!(others.as_object().map(|o| o.len()), Some(20_000));
    assert_eq!((&others["k7"], &others["k19999"]), (&json!("v7"), &json!("v19999")));
    // JSON members come before the query string, a repeated key gives its last value, and a
    // member that is no string gives its JSON text (integers beyond 64 bits as written).
    let body = r#"{"a": 1, "b": "first", "b": "last", "c": [1, {"x": null}], "n": 12345678901234567890123}"#;
    let r = c.post("/kwargs?b=query&d=q").body(body, "application/json").await;
    let others = json!({"b": "last", "c": "[1,{\"x\":null}]", "n": "12345678901234567890123", "d": "q"});
    assert_eq!((r.status(), r.json()), (200, json!({"a": 1, "others": others})));
}

/// `FSA_MAX_PARAMS` bounds the parameters of a body, of any kind, with a 413 (10,000 by
/// default); the query string is bounded by the server's header limits instead.
#[tokio::test]
async fn too_many_body_parameters() {
    let c = builder().config("FSA_MAX_PARAMS", 3).build().unwrap().test_client();
    let too_many = |r: &fsa::TestResponse| {
        r.status() == 413 && r.text().contains("too many parameters in request body: more than 3")
    };
    let r = c.post("/kwargs").form(&[("a", "1"), ("b", "2"), ("c", "3")]).await;
    assert_eq!((r.status(), r.json()), (200, json!({"a": 1, "others": {"b": "2", "c": "3"}})));
    let r = c.post("/kwargs").form(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]).await;
    assert!(too_many(&r), "{} {}", r.status(), r.text());
    assert_eq!(c.post("/kwargs").body(r#"{"a": 1, "b": 2, "c": NaN}"#, "application/json").await.status(), 200);
    for body in
        [r#"{"a": 1, "b": 2, "c": 3, "d": 4}"#, r#"{"a": 1, "b": 2, "c": NaN, "d": 4}"#, r#"{"a":1,"a":1,"a":1,"a":1"#]
    {
        let r = c.post("/kwargs").body(body, "application/json").await;
        assert!(too_many(&r), "{body}: {} {}", r.status(), r.text());
    }
    let part = |name: &str| format!("--b\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n1\r\n");
    let three = format!("{}{}{}", part("a"), part("b"), part("c"));
    let r = c.post("/kwargs").body(format!("{three}--b--\r\n"), "multipart/form-data; boundary=b").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let r = c.post("/kwargs").body(format!("{three}{}--b--\r\n", part("d")), "multipart/form-data; boundary=b").await;
    assert!(too_many(&r), "{} {}", r.status(), r.text());
    let r = c.get("/kwargs?a=1&b=2&c=3&d=4&e=5").await;
    assert_eq!(r.status(), 200, "{}", r.text());
    // The default: 10,000.
    let c = builder().config("FSA_MAX_BODY_SIZE", 1_000_000).build().unwrap().test_client();
    let members = |n: usize| format!("{{\"a\": 1{}}}", (1..n).map(|i| format!(", \"k{i}\": 0")).collect::<String>());
    assert_eq!(c.post("/kwargs").body(members(10_000), "application/json").await.status(), 200);
    let r = c.post("/kwargs").body(members(10_001), "application/json").await;
    assert_eq!(r.status(), 413, "{}", r.text());
}

#[tokio::test]
async fn authentication_parameters_are_never_unexpected() {
    let c = app().test_client();
    let r = c.get("/auth-params?LOGIN=calvin&x=2").await;
    assert_eq!((r.status(), r.json()), (200, json!({"user": "calvin", "x": 2})));
    let r = c.post("/auth-params").json(&json!({"LOGIN": "calvin", "x": 2})).await;
    assert_eq!(r.status(), 405);
    // on an open route too
    assert_eq!(c.get("/echo?n=1&LOGIN=calvin").await.json(), json!(1));
    let r = c.get("/echo?n=1&LOGINS=calvin").await;
    assert!(r.text().contains("unexpected http parameter \"LOGINS\""), "{}", r.text());
}

#[tokio::test]
async fn limits_and_bad_bodies() {
    let c = app().test_client();
    // size limit
    let big = format!("{{\"n\": 1, \"pad\": \"{}\"}}", "x".repeat(2000));
    assert_eq!(c.post("/echo").body(big, "application/json").await.status(), 413);
    assert_eq!(
        c.post("/echo")
            .body(format!("n=1&pad={}", "x".repeat(2000)), "application/x-www-form-urlencoded")
            .await
            .status(),
        413
    );
    // depth limit
    let deep = format!("{{\"n\": 1, \"d\": {}1{}}}", "[".repeat(20), "]".repeat(20));
    let r = c.post("/echo").body(deep, "application/json").await;
    assert_eq!(r.status(), 400);
    // far deeper than serde_json's own recursion limit: still a 400
    let deeper = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let roomy = builder().config("FSA_MAX_BODY_SIZE", 100_000).build().unwrap();
    assert_eq!(roomy.test_client().post("/echo").body(deeper, "application/json").await.status(), 400);
    // invalid JSON, non-object JSON, body not matching its content type
    for body in ["{", "[1, 2]", "12", "\"n\"", "n=1", "null"] {
        let r = c.post("/echo").body(body, "application/json").await;
        assert_eq!(r.status(), 400, "{body}");
        assert!(!r.text().is_empty());
    }
    // wrong charset
    assert_eq!(c.post("/echo").body("{\"n\": 1}", "application/json; charset=latin-1").await.status(), 415);
    assert_eq!(c.post("/echo").body("{\"n\": 2}", "application/json; charset=UTF-8").await.json(), json!(2));
    // the parameter's name in any case (Werkzeug lowercases it); with a space around its `=`,
    // no parameter at all for Werkzeug, so no charset
    assert_eq!(c.post("/echo").body("{\"n\": 1}", "application/json; CHARSET=LATIN1").await.status(), 415);
    assert_eq!(c.post("/echo").body("{\"n\": 1}", "application/json;a=b; Charset=latin1").await.status(), 415);
    assert_eq!(c.post("/echo").body("{\"n\": 4}", "application/json; charset = latin1").await.json(), json!(4));
    // invalid UTF-8
    assert_eq!(c.post("/echo").body(&b"{\"n\": \"\xff\"}"[..], "application/json").await.status(), 400);
    assert_eq!(c.post("/echo").body(&b"n=\xff"[..], "application/x-www-form-urlencoded").await.status(), 400);
    // JSON body and query string together
    assert_eq!(c.post("/echo?n=3").body("{}", "application/json").await.json(), json!(3));
    assert_eq!(c.post("/echo").body("{\"n\": 3}", "application/vnd.api+json").await.json(), json!(3));
}

#[tokio::test]
async fn a_body_given_to_handle_is_read_to_its_last_frame() {
    // Three frames; the body says it has ended after its first, against `http_body`'s
    // contract: only hyper's own body is trusted to have ended when it says so.
    let body = Frames(["{\"n\"", ": 4", "2}"].map(bytes::Bytes::from).into(), 1);
    let req =
        http::Request::post("/echo").header("content-type", "application/json").body(fsa::ReqBody::new(body)).unwrap();
    let r = app().handle(req, Some("127.0.0.1:9".parse().unwrap()), false).await;
    let status = r.status();
    let bytes = http_body_util::BodyExt::collect(r.into_body()).await.unwrap().to_bytes();
    assert_eq!(status, 200, "{bytes:?}");
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), json!(42));
}

#[tokio::test]
async fn json_responses_streamed_or_not() {
    let c = app().test_client();
    let r = c.get("/squares").await;
    assert_eq!((r.status(), r.text()), (200, "[0,1,4,9]\n".to_owned()));
    assert_eq!(r.header("content-length"), None, "streamed");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(c.get("/squares?n=0").await.json(), json!([]));
    let r = c.get("/squares?n=200").await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(200));
    assert_eq!(r.json()[199], json!(199 * 199));
    // not streamed: one body with its length
    let app = builder().config("FSA_JSON_STREAMING", false).build().unwrap();
    let r = app.test_client().get("/squares?n=3").await;
    assert_eq!((r.status(), r.text()), (200, "[0,1,4]\n".to_owned()));
    assert_eq!(r.header("content-length"), Some("8"), "built as one body");
}

#[tokio::test]
async fn default_content_type() {
    let r = app().test_client().get("/text").await;
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let app = builder().config("FSA_DEFAULT_CONTENT_TYPE", "text/html; charset=utf-8").build().unwrap();
    let c = app.test_client();
    assert_eq!(c.get("/text").await.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(c.get("/squares").await.header("content-type"), Some("application/json"), "JSON stays JSON");
}

/// A request body delivered in several frames, as a client streaming it would; it says it
/// has ended once the number of frames given by its second field are taken (`usize::MAX`:
/// at its real end only).
struct Frames(std::collections::VecDeque<bytes::Bytes>, usize);

impl http_body::Body for Frames {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        self.1 = self.1.saturating_sub(1);
        std::task::Poll::Ready(self.0.pop_front().map(|b| Ok(http_body::Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty() || self.1 == 0
    }
}

/// Frames that come one at a time, as from a network: not ready between two of them.
struct Trickle(Frames, bool);

impl http_body::Body for Trickle {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        self.1 = !self.1;
        if self.1 {
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        std::pin::Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }
}

#[tokio::test]
async fn a_multipart_body_in_small_frames_is_read_once() {
    // 16 MiB in 1 KiB frames, one at a time, that never hold the boundary: multer, fed frame
    // by frame, searched its whole buffer again at each (this test ran out of its patience,
    // 30 s); the body is now collected first and parsed once (0.2 s).
    let app = builder().config("FSA_MAX_BODY_SIZE", 16 << 20).build().unwrap();
    let frames = std::iter::repeat_n(bytes::Bytes::from(vec![b'a'; 1024]), 16 * 1024).collect();
    let req = http::Request::post("/upload")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(fsa::ReqBody::new(Trickle(Frames(frames, usize::MAX), false)))
        .unwrap();
    let patience = std::time::Duration::from_secs(30);
    let r = tokio::time::timeout(patience, app.handle(req, Some("127.0.0.1:9".parse().unwrap()), false)).await;
    let r = r.expect("the body was read within the test's patience");
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn bodies_in_several_frames() {
    use tower::ServiceExt;
    let send = |chunks: Vec<String>| async move {
        let body = Frames(chunks.into_iter().map(bytes::Bytes::from).collect(), usize::MAX);
        let req = http::Request::post("/echo")
            .header("content-type", "application/json")
            .extension(fsa::PeerAddr("127.0.0.1:9".parse().unwrap()))
            .body(body)
            .unwrap();
        let resp = app().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    assert_eq!(send(vec!["{\"n\"".into(), ": 4".into(), "2}".into()]).await, (200, "42\n".to_owned()));
    assert_eq!(send(vec!["{\"n\": 7}".into()]).await, (200, "7\n".to_owned()));
    // The size limit holds across frames, each one small.
    let pad = "x".repeat(600);
    let (status, _) = send(vec![format!("{{\"n\": 1, \"p\": \"{pad}"), format!("{pad}\"}}")]).await;
    assert_eq!(status, 413);
}

/// The error of an app of these routes, which `build` must refuse.
fn refused(routes: Vec<fsa::RouteDef>) -> String {
    match App::new().routes(routes).build() {
        Ok(_) => panic!("the app should be refused"),
        Err(fsa::ConfigError(msg)) => msg,
    }
}

/// `Fields<T>` of a type that is no struct with named fields is refused by `build`.
#[get("/not-a-struct", authorize = "OPEN")]
fn not_a_struct(names: Fields<Vec<String>>) -> String {
    names.join(",")
}

#[test]
fn fields_of_no_struct_are_refused_at_build() {
    let msg = refused(fsa::routes![not_a_struct]);
    assert!(msg.contains("argument `names` takes Fields<T> of a type that is no struct with named fields"), "{msg}");
}

/// A path parameter bound to a type the framework fills is a compile error as written
/// (tests/ui); under a type alias, the application's build refuses the route.
type Who = CurrentUser;

#[get("/users/<user>", authorize = "AUTH")]
fn user_in_path(user: Who) -> String {
    user.to_string()
}

#[test]
fn special_path_parameters_are_refused_at_build() {
    let msg = refused(fsa::routes![user_in_path]);
    assert!(
        msg.contains("path parameter <user> is bound to an argument the framework fills, never read from the path"),
        "{msg}"
    );
}

#[get("/me", authorize = "OPEN")]
fn open_me(me: Who) -> String {
    me.to_string()
}

#[get("/maybe-me", authorize = "OPEN")]
fn open_maybe_me(me: Option<Who>) -> String {
    me.map_or_else(|| "nobody".to_owned(), |me| me.to_string())
}

/// `CurrentUser` on an OPEN route is a compile error as written (tests/ui); under a type alias,
/// the application's build refuses the route, as FlaskSimpleAuth refuses it at start-up, and
/// still takes an optional one.
#[test]
fn current_user_on_an_open_route_is_refused_at_build() {
    let msg = refused(fsa::routes![open_me, open_maybe_me]);
    assert!(
        msg.contains("GET /me (open_me at")
            && msg.contains("argument `me` needs an authenticated user, which an OPEN route does not have")
            && !msg.contains("/maybe-me"),
        "{msg}"
    );
    assert!(App::new().routes(fsa::routes![open_maybe_me]).build().is_ok());
}

/// Two arguments taking the whole body are a compile error as written (tests/ui); under a
/// type alias, the application's build refuses the route.
#[test]
fn two_whole_bodies_are_refused_at_build() {
    let msg = refused(fsa::routes![twice]);
    assert!(
        msg.contains("POST /twice (twice at")
            && msg.contains("arguments `first` and `second` both take the whole JSON body"),
        "{msg}"
    );
}

/// `JsonBody<T>` reads the whole JSON object body into one record: its members are neither
/// parameters nor unexpected ones (a body member named like a path variable is no conflict),
/// the route's other arguments still come from the path and the query string, and a body
/// that is missing or does not deserialize is a 400.
#[tokio::test]
async fn whole_json_body() {
    let c = app().test_client();
    let item = json!({"id": 7, "name": "pen", "tags": ["blue"]});
    let r = c.put("/items/3?dry=true").json(&item).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.json(), json!({"path_id": 3, "body_id": 7, "name": "pen", "tags": ["blue"], "dry": true}));
    // The body's members are no parameters: not read by the route's other arguments...
    let with_dry = json!({"id": 7, "name": "pen", "tags": [], "dry": "lots"});
    let r = c.put("/items/3").json(&with_dry).await;
    assert_eq!((r.status(), r.json()["dry"].clone()), (200, json!(false)), "{}", r.text());
    // ... while an unknown query parameter is still refused (unknown body members are
    // serde's business).
    let r = c.put("/items/3?colour=red").json(&item).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("unexpected http parameter \"colour\""), "{}", r.text());
    let extra = json!({"id": 7, "name": "pen", "tags": [], "colour": "red"});
    assert_eq!(c.put("/items/3").json(&extra).await.status(), 200);
    // Missing or mistyped fields: serde's reason.
    let r = c.put("/items/3").json(&json!({"id": 7, "tags": []})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("invalid JSON body: missing field `name`"), "{}", r.text());
    let r = c.put("/items/3").json(&json!({"id": "7", "name": "pen", "tags": []})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("invalid JSON body: invalid type: string \"7\""), "{}", r.text());
    // No JSON body: a 400, or `None` when optional; a bad one stays an error.
    let r = c.put("/items/3").form(&[("id", "7"), ("name", "pen")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("expecting a JSON body"), "{}", r.text());
    let r = c.post("/maybe-item").await;
    assert_eq!((r.status(), r.text()), (200, "null\n".to_owned()));
    assert_eq!(c.post("/maybe-item").json(&item).await.json(), json!("pen"));
    assert_eq!(c.post("/maybe-item").json(&json!({"id": 1})).await.status(), 400);
    let r = c.post("/maybe-item").body(" null ", "application/json").await;
    assert_eq!((r.status(), r.text()), (200, "null\n".to_owned()));
    let r = c.put("/items/3").body("null", "application/json").await;
    assert!(r.text().contains("invalid JSON body: invalid type: null"), "{}", r.text());
    // Nor collected by `Kwargs`, nor read by an authentication scheme (here fake
    // authentication's `LOGIN`), which then needs the query string.
    let mine = json!({"id": 7, "name": "pen", "tags": [], "LOGIN": "calvin", "colour": "red"});
    assert_eq!(c.post("/my-items").json(&mine).await.status(), 401);
    let r = c.post("/my-items?LOGIN=calvin&shelf=2").json(&mine).await;
    assert_eq!(r.json(), json!({"user": "calvin", "name": "pen", "others": {"shelf": "2"}}), "{}", r.text());
    // A whole body may be any JSON (an array here), with the depth limit of any body; a route
    // reading the body's members wants an object.
    let items = json!([{"id": 1, "name": "pen", "tags": []}, {"id": 2, "name": "ink", "tags": []}]);
    let r = c.post("/items").json(&items).await;
    assert_eq!((r.status(), r.json()), (200, json!(["pen", "ink"])), "{}", r.text());
    let r = c.post("/items").json(&item).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("invalid JSON body: invalid type: map, expected a sequence"), "{}", r.text());
    let r = c.post("/items").body("[1, 2", "application/json").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("invalid JSON body: EOF while parsing a list"), "{}", r.text());
    let deep = format!("{}{}", "[".repeat(9), "]".repeat(9));
    let r = c.post("/items").body(deep, "application/json").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("JSON body nested too deeply"), "{}", r.text());
    let r = c.post("/echo").json(&items).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().contains("JSON body must be an object"), "{}", r.text());
    // garde's rules, checked as the body is read: a 400 listing every complaint, the items of
    // a list each; none without a body; handed over in an `fsa::Result`; a 400 listing the
    // complaints from `validate()?` in a handler too.
    assert_eq!(c.post("/orders").json(&json!({"item": "pen", "count": 2})).await.text(), "2 x pen");
    let r = c.post("/orders").json(&json!({"item": "", "count": 11})).await;
    assert_eq!(
        (r.status(), r.text()),
        (400, "invalid JSON body: count: greater than 10; item: length is lower than 1".to_owned())
    );
    let two = json!([{"item": "pen", "count": 2}, {"item": "ink", "count": 1}]);
    assert_eq!(c.post("/order-lists").json(&two).await.text(), "2");
    assert_eq!(c.post("/order-lists").await.text(), "0");
    let r = c.post("/order-lists").json(&json!([{"item": "pen", "count": 2}, {"item": "ink", "count": 0}])).await;
    assert_eq!((r.status(), r.text()), (400, "invalid JSON body: [1].count: lower than 1".to_owned()));
    let r = c.post("/order-results").json(&json!({"item": "", "count": 2})).await;
    assert_eq!(r.text(), "refused: invalid JSON body: item: length is lower than 1");
    assert_eq!(c.post("/order-results").json(&json!({"item": "pen", "count": 2})).await.text(), "2 x pen");
    let r = c.post("/two-members").json(&json!({"x": {"a": 1}, "y": {"a": 2}})).await;
    assert_eq!((r.status(), r.text()), (200, "3".to_owned()));
    assert_eq!(c.post("/order-checks").json(&two).await.text(), "2");
    let r = c.post("/order-checks").json(&json!([{"item": "", "count": 2}])).await;
    assert_eq!((r.status(), r.text()), (400, "[0].item: length is lower than 1".to_owned()));
}

/// `Fields<T>` gathers request parameters in a struct, each field converted with the rules of
/// an argument of its type, from the query string, a form or JSON members; the field names are
/// the route's parameters for the unexpected check; garde's rules are checked.
#[tokio::test]
async fn struct_of_parameters() {
    let c = app().test_client();
    let r = c.get("/search/3?q=pen&page=0x2&size=10&tags=a&tags=b&order=desc&type=ink&exact=True").await;
    assert_eq!(
        (r.status(), r.json()),
        (
            200,
            json!({"shelf": 3, "q": "pen", "page": 2, "size": 10, "tags": ["a", "b"], "order": "desc",
                "type": "ink", "exact": true})
        )
    );
    // Defaults, an absent option, and the text null for an option.
    let r = c.get("/search/3?q=pen&size=null").await;
    assert_eq!(
        r.json(),
        json!({"shelf": 3, "q": "pen", "page": 1, "size": null, "tags": [], "order": "asc", "type": null,
            "exact": false})
    );
    // A form, and JSON members (type-checked as JSON).
    let r = c.post("/search/3").form(&[("q", "pen"), ("page", "4")]).await;
    assert_eq!((r.status(), r.json()["page"].clone()), (200, json!(4)));
    let r = c.get("/search/3").json(&json!({"q": "pen", "page": 4, "tags": ["x"]})).await;
    assert_eq!((r.json()["page"].clone(), r.json()["tags"].clone()), (json!(4), json!(["x"])));
    let r = c.get("/search/3").json(&json!({"q": "pen", "page": "4"})).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("parameter \"page\" cast error on "), "{}", r.text());
    // Missing, unconvertible, out of range, unknown variant, unexpected, garde's rules.
    let r = c.get("/search/3").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"q\" is missing".to_owned()));
    let r = c.get("/search/3?q=pen&page=x").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"page\" cast error on x: invalid literal for int".to_owned()));
    let r = c.get("/search/3?q=pen&size=300").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"size\" cast error on 300: out of range for u8".to_owned()));
    // Every bad field is named, one per line, then a missing one, then the other arguments'.
    let r = c.get("/search/3?page=x&size=300&exact=maybe").await;
    assert_eq!(
        (r.status(), r.text()),
        (
            400,
            "parameter \"page\" cast error on x: invalid literal for int\n\
             parameter \"size\" cast error on 300: out of range for u8\n\
             parameter \"q\" is missing\n\
             parameter \"exact\" cast error on maybe: expecting true or false"
                .to_owned()
        )
    );
    let r = c.get("/search/3?q=pen&page=x&size=300").await;
    assert_eq!(
        r.text(),
        "parameter \"page\" cast error on x: invalid literal for int\n\
         parameter \"size\" cast error on 300: out of range for u8"
    );
    let r = c.get("/search/3?q=pen&order=up").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().starts_with("parameter \"order\" cast error on up: unknown variant `up`"), "{}", r.text());
    let r = c.get("/search/3?q=pen&colour=red").await;
    assert_eq!((r.status(), r.text()), (400, "unexpected http parameter \"colour\"".to_owned()));
    let r = c.get("/search/3?q=pen&kind=x").await;
    assert_eq!(r.status(), 400, "the field is named type: {}", r.text());
    let r = c.get("/search/3?q=pen&page=0").await;
    assert_eq!((r.status(), r.text()), (400, "invalid parameters: page: lower than 1".to_owned()));
    let r = c.get("/search-more?q=pen&page=2&colour=red").await;
    assert_eq!(r.json(), json!({"q": "pen", "others": {"colour": "red"}}));
    // Optional: None without its fields, a bad value still a 400; integers beyond 64 bits
    // read exactly from JSON; a list as repeated values or as JSON text.
    assert_eq!(c.get("/numbers").await.json(), json!(null));
    let r = c.get("/numbers?n=x").await;
    assert_eq!((r.status(), r.text()), (400, "parameter \"n\" cast error on x: invalid literal for int".to_owned()));
    let big = r#"{"n": 18446744073709551617, "m": -18446744073709551617}"#;
    let r = c.post("/numbers").body(big, "application/json").await;
    assert_eq!(r.json(), json!({"n": "18446744073709551617", "m": "-18446744073709551617", "list": null, "f": null}));
    let r = c.post("/numbers").body(r#"{"f": 1e400}"#, "application/json").await;
    assert_eq!(r.json()["f"], json!("inf"), "as an f64 argument reads it: {}", r.text());
    assert_eq!(c.get("/numbers?list=1&list=0x2").await.json()["list"], json!([1, 2]));
    assert_eq!(c.get("/numbers").query(&[("list", "[1, 2]")]).await.json()["list"], json!([1, 2]));
    // A struct without a fixed list of fields takes any parameter.
    let r = c.get("/open-search?q=pen&colour=red&colour=blue").await;
    assert_eq!(r.json(), json!({"q": "pen", "others": {"colour": "red"}}));
}

/// Beside a flattened map, typed fields are converted and each bad one is named, then a
/// missing one, as for a struct with a fixed list of fields.
#[tokio::test]
async fn fields_beside_a_flattened_map() {
    let c = app().test_client();
    let r = c.get("/paged?page=2&size=10&color=red").await;
    assert_eq!(r.json(), json!({"page": 2, "size": 10, "filters": {"color": "red"}}));
    let r = c.get("/paged?page=x&size=y&color=red").await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text(),
        "parameter \"page\" cast error on x: invalid literal for int\nparameter \"size\" cast error on y: invalid literal for int"
    );
    let r = c.get("/paged?size=y").await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.text(), "parameter \"size\" cast error on y: invalid literal for int\nparameter \"page\" is missing");
}
