//! Object authorizations, after the recipe "How-to use object authorizations?".
//!
//! A per-domain hook tells whether a user may access one object in a role. It receives the
//! login, the object identifier (the handler argument named in the tuple, already converted;
//! several names `"a:b"` give a tuple) and the role, and answers `Some(true)` (go on),
//! `Some(false)` (403) or `None` (no such object: 404, or `FSA_NOT_FOUND_ERROR`).
//! Defaults: `("messages",)` uses the first argument and no role.
//!
//! ```sh
//! cargo run --example objects          # PORT=5000 by default
//! curl -u calvin:hobbes http://127.0.0.1:5000/messages/1
//! ```

use std::sync::Arc;

use fsa::prelude::*;
use serde::Serialize;

/// A message between two users.
#[derive(Clone, Debug, Serialize)]
struct Message {
    id: i64,
    sender: &'static str,
    recipient: &'static str,
    text: &'static str,
}

/// The message store (a database in a real application).
struct Store(Vec<Message>);

impl Store {
    fn get(&self, id: i64) -> Option<&Message> {
        self.0.iter().find(|m| m.id == id)
    }
}

/// Sender and recipient may read a message.
#[get("/messages/<mid>", authorize = ("messages", "mid", "read"))]
fn get_message(mid: i64, store: State<Store>) -> fsa::Result<Json<Message>> {
    store.get(mid).cloned().map(Json).ok_or_else(|| Error::not_found("gone"))
}

/// Only the sender may edit a message; parameters are checked before the permission.
#[patch("/messages/<mid>", authorize = ("messages", "mid", "edit"))]
fn edit_message(mid: i64, text: String) -> Json<serde_json::Value> {
    Json(serde_json::json!({"id": mid, "text": text, "edited": true}))
}

/// Defaults: the first argument identifies the object, no role (sender or recipient).
#[delete("/messages/<mid>", authorize = ("messages",))]
fn delete_message(mid: i64) -> (&'static str, u16) {
    let _ = mid;
    ("", 204)
}

/// Folders are identified by two values: owner and name.
#[get("/folders/<owner>/<name>", authorize = ("folders", "owner:name", "read"))]
fn get_folder(owner: String, name: String) -> String {
    format!("folder {name} of {owner}")
}

/// The app, shared with the tests.
async fn app() -> Result<App, fsa::ConfigError> {
    let hasher = App::new().build()?;
    let hash = |p: &'static str| hasher.hash_password_unchecked(p);
    let users =
        Arc::new([("calvin", hash("hobbes").await?), ("susie", hash("derkins").await?), ("moe", hash("bully").await?)]);
    let store = Arc::new(Store(vec![
        Message { id: 1, sender: "calvin", recipient: "susie", text: "hello" },
        Message { id: 2, sender: "susie", recipient: "calvin", text: "go away" },
    ]));
    let perms = store.clone();
    App::from_env()
        .config("FSA_AUTH", "basic")
        .config("FSA_REALM", "objects")
        .state(Store(store.0.clone()))
        .get_user_pass(move |login| {
            let stored = users.iter().find(|(l, _)| *l == login).map(|(_, h)| h.clone());
            async move { Ok(stored) }
        })
        .object_perms("messages", move |login: String, mid: i64, role: Option<&'static str>| {
            let answer = perms.get(mid).map(|m| match role {
                Some("edit") => m.sender == login,
                _ => m.sender == login || m.recipient == login,
            });
            async move { Ok(answer) }
        })
        .object_perms(
            "folders",
            |login: String, (owner, name): (String, String), _role: Option<&'static str>| async move {
                Ok(if name.starts_with('.') { None } else { Some(owner == login || name == "public") })
            },
        )
        .routes(fsa::routes![get_message, edit_message, delete_message, get_folder])
        .build()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5000);
    let app = app().await?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    println!("objects example on http://{addr}/ (users calvin/hobbes, susie/derkins, moe/bully)");
    app.serve(addr).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permissions_as_documented() {
        let app = app().await.unwrap();
        let c = app.test_client();
        let r = c.get("/messages/1").basic("susie", "derkins").await;
        assert_eq!((r.status(), r.json()["text"].clone()), (200, "hello".into()));
        assert_eq!(c.get("/messages/1").basic("moe", "bully").await.status(), 403);
        assert_eq!(c.get("/messages/9").basic("moe", "bully").await.status(), 404);
        assert_eq!(c.get("/messages/9").await.status(), 401);
        // edit: sender only, parameters first
        assert_eq!(c.patch("/messages/1?text=hi").basic("calvin", "hobbes").await.status(), 200);
        assert_eq!(c.patch("/messages/1?text=hi").basic("susie", "derkins").await.status(), 403);
        assert_eq!(c.patch("/messages/1").basic("susie", "derkins").await.status(), 400);
        // defaults: first argument, no role
        assert_eq!(c.delete("/messages/2").basic("calvin", "hobbes").await.status(), 204);
        assert_eq!(c.delete("/messages/2").basic("moe", "bully").await.status(), 403);
        // two variables
        assert_eq!(c.get("/folders/moe/secret").basic("moe", "bully").await.status(), 200);
        assert_eq!(c.get("/folders/moe/secret").basic("susie", "derkins").await.status(), 403);
        assert_eq!(c.get("/folders/moe/public").basic("susie", "derkins").await.status(), 200);
        assert_eq!(c.get("/folders/moe/.git").basic("moe", "bully").await.status(), 404);
    }
}
