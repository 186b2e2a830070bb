//! Every kind of handler argument, after the recipes "How-to use pydantic or dataclasses in
//! requests and responses?" and "How-to use generic types with in request and responses?".
//!
//! Arguments are request parameters looked up by name in the path, the query string, an
//! url-encoded or multipart form, or the members of a JSON object body:
//! - scalars (`i64`, `f64`, `bool`, `String`, …) converted from text with Python's rules and
//!   type-checked in JSON; `Option<T>`, `#[default(…)]`, `Vec<T>` (repeated parameter or JSON
//!   array);
//! - any `#[derive(Deserialize)]` struct or enum (the "pydantic or dataclasses" recipe): a JSON
//!   member, or JSON text in an HTTP parameter; also derive `garde::Validate` to validate it;
//!   `JsonBody<T>` takes the whole JSON body instead (an object, an array...), validated too,
//!   and `Fields<T>` gathers parameters in a struct, one per field;
//! - generic types (`HashMap<String, Vec<i64>>`, tuples, `serde_json::Value`);
//! - your own scalars (`scalar_from_str!` for a `FromStr` type), and types you do not own
//!   through a registered cast (`Cast<T>`);
//! - uploaded files (`UploadedFile`), and special arguments the framework provides
//!   (`CurrentUser`, `Header`, `Cookie`, `ClientAddr`, `State`, `Kwargs`).
//!
//! Responses: `Json(value)` (or `fsa::jsonify`) for any `Serialize` value, `JsonStream` for a
//! JSON array streamed from an iterator.
//!
//! ```sh
//! cargo run --example types          # PORT=5000 by default
//! curl 'http://127.0.0.1:5000/generic?data={"a":[1,2],"b":[]}'
//! ```

use std::collections::HashMap;

use fsa::prelude::*;
use fsa::{Cast, Cookie, Fields, JsonStream, Kwargs, UploadedFile};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[get("/scalars", authorize = "OPEN")]
fn scalars(i: i64, f: f64, b: bool, s: String) -> Json<Value> {
    Json(json!({"i": i, "f": f, "b": b, "s": s}))
}

#[get("/optional", authorize = "OPEN")]
fn optional(i: Option<i64>, #[default("hello")] s: String, #[default(Vec::new())] tags: Vec<String>) -> Json<Value> {
    Json(json!({"i": i, "s": s, "tags": tags}))
}

#[get("/path/<n>/<rest..>", authorize = "OPEN")]
fn path(n: u32, rest: String) -> Json<Value> {
    Json(json!({"n": n, "rest": rest}))
}

/// A record: `Deserialize` is all it takes to be an argument, `Serialize` to be returned.
#[derive(Debug, Deserialize, Serialize)]
struct User {
    login: String,
    firstname: String,
    lastname: String,
}

#[post("/users", authorize = "OPEN")]
fn post_users(user: User) -> (Json<User>, u16) {
    (Json(user), 201)
}

/// A validated record: garde checks run after deserialization; failures are a 400 listing
/// every field.
#[derive(Debug, Deserialize, Serialize, garde::Validate)]
struct Person {
    #[garde(length(min = 1, max = 20))]
    name: String,
    #[garde(range(max = 150))]
    age: u8,
}

#[post("/people", authorize = "OPEN")]
fn post_people(person: Person) -> Json<Person> {
    Json(person)
}

/// The whole JSON body as one value, as axum and FastAPI take it: here a list of validated
/// records (each item checked by garde; its members are no parameters).
#[post("/people/batch", authorize = "OPEN")]
fn post_people_batch(people: JsonBody<Vec<Person>>) -> Json<usize> {
    Json(people.len())
}

/// Parameters gathered in a struct, one per field (as axum's `Query<T>` gives them).
#[derive(Debug, Deserialize)]
struct Paging {
    #[serde(default)]
    page: u32,
    size: Option<u32>,
}

#[get("/people/page", authorize = "OPEN")]
fn people_page(paging: Fields<Paging>) -> Json<Value> {
    Json(json!({"page": paging.page, "size": paging.size}))
}

/// Generic types: converted from JSON (a JSON member, or JSON text in a query parameter).
#[get("/generic", authorize = "OPEN")]
fn get_generic(data: HashMap<String, Vec<i64>>) -> Json<HashMap<String, usize>> {
    Json(data.into_iter().map(|(k, v)| (k, v.len())).collect())
}

#[get("/any", authorize = "OPEN")]
fn any(j: Value) -> Json<Value> {
    Json(json!({"is_object": j.is_object(), "j": j}))
}

/// A `#rrggbb` colour: a `FromStr` type becomes a parameter type in one line.
#[derive(Debug)]
struct Color([u8; 3]);

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let h = s.strip_prefix('#').filter(|h| h.len() == 6 && h.is_ascii()).ok_or("expecting #rrggbb")?;
        let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).map_err(|e| e.to_string());
        Ok(Color([byte(0)?, byte(2)?, byte(4)?]))
    }
}
fsa::scalar_from_str!(Color);

#[get("/color", authorize = "OPEN")]
fn color(c: Color) -> Json<[u8; 3]> {
    Json(c.0)
}

/// A type we do not own, through a cast registered with `AppBuilder::cast`.
#[get("/wait", authorize = "OPEN")]
fn wait(delay: Cast<std::time::Duration>) -> Json<u128> {
    Json(delay.as_millis())
}

#[post("/upload", authorize = "OPEN")]
fn upload(doc: UploadedFile, #[default("none")] label: String) -> Json<Value> {
    Json(json!({"filename": doc.filename, "size": doc.content.len(), "label": label}))
}

#[get("/specials", authorize = "OPEN")]
fn specials(user_agent: Option<Header>, flavor: Option<Cookie>, rest: Kwargs) -> Json<Value> {
    Json(json!({"agent": user_agent.map(|h| h.0), "flavor": flavor.map(|c| c.0), "rest": rest.0}))
}

#[get("/squares", authorize = "OPEN")]
fn squares(#[default(4u32)] n: u32) -> impl Responder {
    JsonStream::new((0..n).map(|i| i * i))
}

/// The app, shared with the tests.
fn app() -> Result<App, fsa::ConfigError> {
    App::from_env()
        .cast::<std::time::Duration, _>(|s| s.parse::<u64>().map(std::time::Duration::from_millis))
        .routes(fsa::routes![
            scalars,
            optional,
            path,
            post_users,
            post_people,
            post_people_batch,
            people_page,
            get_generic,
            any,
            color,
            wait,
            upload,
            specials,
            squares
        ])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let app = app()?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("types example on http://{addr}/");
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_kind_of_argument() {
        let app = app().unwrap();
        let c = app.test_client();
        let r = c.get("/scalars?i=0x10&f=2.5&b=True&s=hi").await;
        assert_eq!(r.json(), json!({"i": 16, "f": 2.5, "b": true, "s": "hi"}));
        assert_eq!(c.get("/scalars?i=x&f=2.5&b=maybe").await.text().lines().count(), 3);
        assert_eq!(c.get("/optional").await.json(), json!({"i": null, "s": "hello", "tags": []}));
        assert_eq!(
            c.get("/optional?i=1&tags=a&tags=b").await.json(),
            json!({"i": 1, "s": "hello", "tags": ["a", "b"]})
        );
        assert_eq!(c.get("/path/3/a/b").await.json(), json!({"n": 3, "rest": "a/b"}));
        assert_eq!(c.get("/path/x/a").await.status(), 404);

        // the pydantic-or-dataclasses recipe
        let calvin = json!({"login": "calvin", "firstname": "Calvin", "lastname": "Watterson"});
        let r = c.post("/users").json(&json!({"user": calvin})).await;
        assert_eq!((r.status(), r.json()), (201, calvin.clone()));
        let r = c.post("/users").form(&[("user", &calvin.to_string())]).await;
        assert_eq!(r.status(), 201);
        assert_eq!(c.post("/users").json(&json!({"user": {"login": "calvin"}})).await.status(), 400);
        let r = c.post("/people").json(&json!({"person": {"name": "", "age": 200}})).await;
        assert_eq!(r.status(), 400);
        assert!(r.text().contains("name") && r.text().contains("age"), "{}", r.text());
        assert_eq!(c.post("/people").json(&json!({"person": {"name": "Hobbes", "age": 6}})).await.status(), 200);
        let two = json!([{"name": "Hobbes", "age": 6}, {"name": "Calvin", "age": 6}]);
        assert_eq!(c.post("/people/batch").json(&two).await.json(), json!(2));
        let r = c.post("/people/batch").json(&json!([{"name": "Hobbes", "age": 6}, {"name": "", "age": 6}])).await;
        assert_eq!((r.status(), r.text()), (400, "invalid JSON body: [1].name: length is lower than 1".to_owned()));
        assert_eq!(c.get("/people/page?page=0x2&size=5").await.json(), json!({"page": 2, "size": 5}));
        assert_eq!(c.get("/people/page").await.json(), json!({"page": 0, "size": null}));
        assert_eq!(c.get("/people/page?sise=5").await.status(), 400);

        // the generic types recipe
        let r = c.get("/generic").query(&[("data", r#"{"a": [1, 2], "b": []}"#)]).await;
        assert_eq!(r.json(), json!({"a": 2, "b": 0}));
        assert_eq!(c.get("/generic").query(&[("data", r#"{"a": ["x"]}"#)]).await.status(), 400);
        assert_eq!(c.get("/any").query(&[("j", "[1, {}]")]).await.json(), json!({"is_object": false, "j": [1, {}]}));

        // custom scalars and casts
        assert_eq!(c.get("/color").query(&[("c", "#0080ff")]).await.json(), json!([0, 128, 255]));
        assert!(c.get("/color?c=blue").await.text().contains("expecting #rrggbb"));
        assert_eq!(c.get("/wait?delay=1500").await.json(), json!(1500));
        assert_eq!(c.get("/wait?delay=soon").await.status(), 400);

        // files
        let body = "--b0\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nabc\r\n\
                    --b0\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\nmine\r\n--b0--\r\n";
        let r = c.post("/upload").body(body, "multipart/form-data; boundary=b0").await;
        assert_eq!(r.json(), json!({"filename": "a.txt", "size": 3, "label": "mine"}));

        // specials and the catch-all
        let r = c.get("/specials?x=1").header("User-Agent", "curl").cookie("flavor", "choc").await;
        assert_eq!(r.json(), json!({"agent": "curl", "flavor": "choc", "rest": {"x": "1"}}));

        // streamed JSON array
        assert_eq!(c.get("/squares?n=5").await.text(), "[0,1,4,9,16]\n");
    }
}
