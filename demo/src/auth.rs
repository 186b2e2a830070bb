//! Users as objects `{aid, login, email, upass, admin, secret}`, for admins only.

use fsa::prelude::*;
use serde::{Deserialize, Serialize};

use crate::args;
use crate::db::{Db, Q, RowId};
use crate::{types, users};

/// An auth object as given: `upass` is the clear password, `aid` optional. `aid` and `admin`
/// are read as the original's pydantic dataclass reads them, in lax mode (`"5"` and `5.0` are
/// 5, `"yes"` and `1` are true; see [`types::lax_int_value`] and [`types::lax_bool_value`]).
#[derive(Debug, Deserialize)]
pub struct AuthIn {
    /// Identifier (must match the path on PUT when given), without bound as Python's int.
    #[serde(default, deserialize_with = "types::lax_optional_int")]
    pub aid: Option<i128>,
    /// Login (no `@`).
    pub login: String,
    /// Email (with a `@`).
    pub email: String,
    /// Clear password.
    pub upass: String,
    /// Administrator flag.
    #[serde(deserialize_with = "types::lax_bool")]
    pub admin: bool,
    /// Base32 OTP secret.
    pub secret: String,
}

/// An auth object as stored: `upass` is the hash.
#[derive(Debug, Serialize)]
pub struct AuthOut {
    aid: i64,
    login: String,
    email: String,
    upass: String,
    admin: bool,
    secret: String,
}

type AuthRow = (i64, String, String, String, bool, String);

impl From<AuthRow> for AuthOut {
    fn from((aid, login, email, upass, admin, secret): AuthRow) -> AuthOut {
        AuthOut { aid, login, email, upass, admin, secret }
    }
}

const ALL: Q = Q::same("SELECT aid, login, email, upass, admin, secret FROM Auth ORDER BY login");
const ONE: Q = Q::same("SELECT aid, login, email, upass, admin, secret FROM Auth WHERE login = $1");
const ADD: Q = Q::same(
    "INSERT INTO Auth(login, email, upass, admin, secret) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT DO NOTHING RETURNING aid",
);
const SET: Q = Q::same("UPDATE Auth SET login = $1, email = $2, upass = $3, admin = $4, secret = $5 WHERE aid = $6");

/// All auth objects, by login.
#[get("/auth", authorize = "ADMIN")]
async fn get_auth(db: Db) -> Result<Json<Vec<AuthOut>>> {
    Ok(Json(db.all::<AuthRow>(ALL, vec![]).await?.into_iter().map(AuthOut::from).collect()))
}

/// One auth object, by login only.
#[get("/auth/<login>", authorize = "ADMIN")]
async fn get_auth_login(db: Db, login: String) -> Result<Json<AuthOut>> {
    match db.one::<AuthRow>(ONE, args![&login]).await? {
        Some(row) => Ok(Json(row.into())),
        None => Err(Error::not_found(format!("no such login: {login}"))),
    }
}

/// Adds a user unless it conflicts with an existing one: `{"aid": N}` or `{"aid": null}`.
#[post("/auth", authorize = "ADMIN")]
async fn post_auth(db: Db, app: App, user: AuthIn) -> Result<(Json<serde_json::Value>, u16)> {
    let hash = app.hash_password(&user.upass).await?;
    let aid: Option<(i64,)> = db.one(ADD, args![user.login, user.email, hash, user.admin, user.secret]).await?;
    db.users_changed(); // "no such user" answers may be cached
    Ok((Json(serde_json::json!({ "aid": aid.map(|(a,)| a) })), 201))
}

/// Replaces every column of a user.
#[put("/auth/<aid>", authorize = "ADMIN")]
async fn put_auth_aid(db: Db, app: App, aid: RowId, user: AuthIn) -> Result<((), u16)> {
    if user.aid.is_some_and(|a| a.to_string() != aid.to_string()) {
        return Err(Error::bad_request("inconsistent aid"));
    }
    let hash = app.hash_password(&user.upass).await?;
    let changed = match aid.row() {
        Some(id) => db.exec(SET, args![user.login, user.email, hash, user.admin, user.secret, id]).await?,
        None => 0,
    };
    if changed == 0 {
        return Err(Error::not_found(format!("no such aid: {aid}")));
    }
    db.users_changed();
    Ok(((), 204))
}

/// Deletes a user found by login or email.
#[delete("/auth/<login>", authorize = "ADMIN")]
async fn delete_auth_login(db: Db, login: String) -> Result<((), u16)> {
    if db.exec(users::DEL, args![&login]).await? == 0 {
        return Err(Error::not_found(format!("no such login: {login}")));
    }
    db.users_changed();
    Ok(((), 204))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_auth, get_auth_login, post_auth, put_auth_aid, delete_auth_login]
}
