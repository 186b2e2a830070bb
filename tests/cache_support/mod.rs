//! Shared by the cache tests: an app whose hooks count their calls.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fsa::prelude::*;

#[get("/me", authorize = "AUTH")]
async fn me(user: CurrentUser) -> String {
    user.to_string()
}

#[get("/admin", authorize = "admin")]
async fn admin(user: CurrentUser) -> String {
    format!("admin {user}")
}

#[get("/reader", authorize = "reader")]
async fn reader(user: CurrentUser) -> String {
    format!("reader {user}")
}

#[get("/stuff/<id>", authorize = ("stuff", "id", "read"))]
async fn stuff(id: i64) -> String {
    format!("stuff {id}")
}

/// The user store and call counters behind the hooks.
#[derive(Default)]
pub struct Store {
    pub users: Mutex<HashMap<String, String>>,
    pub admins: Mutex<HashSet<String>>,
    pub readers: Mutex<HashSet<String>>,
    /// (login, id) pairs allowed on domain "stuff".
    pub stuff: Mutex<HashSet<(String, i64)>>,
    pub user_calls: AtomicUsize,
    pub group_calls: AtomicUsize,
    pub perm_calls: AtomicUsize,
    /// How long each hook takes (to let concurrent requests pile up).
    pub delay: Mutex<Duration>,
}

impl Store {
    pub fn users(&self) -> usize {
        self.user_calls.load(Ordering::SeqCst)
    }
    pub fn groups(&self) -> usize {
        self.group_calls.load(Ordering::SeqCst)
    }
    pub fn perms(&self) -> usize {
        self.perm_calls.load(Ordering::SeqCst)
    }
    fn delay(&self) -> Duration {
        *self.delay.lock().unwrap()
    }
    pub fn set_password(&self, login: &str, hash: &str) {
        self.users.lock().unwrap().insert(login.into(), hash.into());
    }
}

/// A bcrypt hash of `password`.
pub async fn hash(password: &str) -> String {
    App::new().build().unwrap().hash_password_unchecked(password).await.unwrap()
}

/// A store with calvin/hobbes (admin, reader, allowed on stuff 1) and susie/moe (reader).
pub async fn store() -> Arc<Store> {
    let s = Store::default();
    s.set_password("calvin", &hash("hobbes").await);
    s.set_password("susie", &hash("moe").await);
    s.admins.lock().unwrap().insert("calvin".into());
    s.readers.lock().unwrap().extend(["calvin".to_owned(), "susie".to_owned()]);
    s.stuff.lock().unwrap().insert(("calvin".into(), 1));
    Arc::new(s)
}

/// An app (basic + token, realm "cachetest") on `store`; more configuration through `config`.
pub fn app(store: &Arc<Store>, config: &[(&str, fsa::config::Value)]) -> App {
    let (s1, s2, s3, s4) = (store.clone(), store.clone(), store.clone(), store.clone());
    let mut b = App::new()
        .config("FSA_AUTH", "basic")
        .config("FSA_REALM", "cachetest")
        .config("FSA_TOKEN_SECRET", "a shared secret for every test server")
        .get_user_pass(move |login| {
            let s = s1.clone();
            async move {
                s.user_calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(s.delay()).await;
                Ok(s.users.lock().unwrap().get(&login).cloned())
            }
        })
        .group_check("admin", move |login| {
            let s = s2.clone();
            async move {
                s.group_calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(s.delay()).await;
                Ok(s.admins.lock().unwrap().contains(&login))
            }
        })
        .user_in_group(move |login, _group| {
            let s = s3.clone();
            async move {
                s.group_calls.fetch_add(1, Ordering::SeqCst);
                Ok(s.readers.lock().unwrap().contains(&login))
            }
        })
        .add_group("reader")
        .object_perms("stuff", move |login: String, id: i64, _role: Option<&'static str>| {
            let s = s4.clone();
            async move {
                s.perm_calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(s.delay()).await;
                if id > 100 {
                    return Ok(None);
                }
                Ok(Some(s.stuff.lock().unwrap().contains(&(login, id))))
            }
        })
        .routes(fsa::routes![me, admin, reader, stuff]);
    for (name, value) in config {
        b = b.config(name, value.clone());
    }
    b.build().expect("test app builds")
}

/// A configuration value from its environment-variable text (tables as `{ a = 1 }`).
pub fn v(text: &str) -> fsa::config::Value {
    fsa::config::parse_env_value(text)
}

/// A status and body.
pub async fn get(app: &App, uri: &str, login: &str, password: &str) -> (u16, String) {
    let r = app.test_client().get(uri).basic(login, password).await;
    (r.status(), r.text())
}

/// A status with a bearer token.
pub async fn get_token(app: &App, uri: &str, token: &str) -> u16 {
    app.test_client().get(uri).bearer(token).await.status()
}
