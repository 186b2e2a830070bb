//! Every accepted form of the route attributes compiles.
#![allow(dead_code)]
use fsa::prelude::*;

#[get("/open", authorize = "OPEN")]
fn open() -> &'static str {
    "open"
}

#[post("/auth", authz = "AUTH", authn = ["token", "basic"], realm = "r")]
async fn auth(user: CurrentUser) -> String {
    user.0
}

#[put("/group", authorize = ["admin", 42])]
fn group() {}

#[patch("/stuff/<id>", authorize = ("stuff",))]
fn perm_short(id: i64) -> Json<i64> {
    Json(id)
}

#[delete("/doc/<folder>/<num>", authorize = ("doc", "folder:num", "write"))]
fn perm_multi(folder: String, num: u32) -> fsa::Result<String> {
    Ok(format!("{folder}/{num}"))
}

#[route("/multi", method = ["GET", "POST"], authorize = "OPEN")]
fn multi(#[default(10)] limit: u32, r#type: Option<String>, _pass: Option<String>, #[rename("x-y")] xy: Option<i64>) -> String {
    format!("{limit} {type:?} {_pass:?} {xy:?}", type = r#type)
}

#[get("/files/<path..>", authorize = "CLOSE")]
fn files(path: String) -> (String, u16) {
    (path, 200)
}

fn main() {
    let _ = fsa::routes![open, auth, group, perm_short, perm_multi, multi, files];
}
