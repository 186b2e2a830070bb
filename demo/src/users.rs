//! Users as array records `[login, email, upass, admin]`, managed by admins.
//!
//! A user is found "by login or email": the given string equals either column.

use fsa::prelude::*;

use crate::args;
use crate::db::{Db, Q};

/// `[login, email, upass, admin]`.
pub type UserRecord = (String, String, String, bool);

const ALL: Q = Q::same("SELECT login, email, upass, admin FROM Auth ORDER BY login");
/// One user record, by login or email.
pub const ONE: Q = Q::same("SELECT login, email, upass, admin FROM Auth WHERE login = $1 OR email = $1");
/// Adds a user, answers its aid.
pub const ADD: Q =
    Q::same("INSERT INTO Auth(login, email, upass, admin, secret) VALUES ($1, $2, $3, $4, $5) RETURNING aid");
/// Adds a user.
pub const ADD_NO_RETURN: Q =
    Q::same("INSERT INTO Auth(login, email, upass, admin, secret) VALUES ($1, $2, $3, $4, $5)");
/// Sets the email (`$1`) of a user (`$2`, login or email).
pub const SET_EMAIL: Q = Q::same("UPDATE Auth SET email = $1 WHERE login = $2 OR email = $2");
/// Sets the password hash (`$1`) of a user (`$2`, login or email).
pub const SET_PASS: Q = Q::same("UPDATE Auth SET upass = $1 WHERE login = $2 OR email = $2");
const SET_ADMIN: Q = Q::same("UPDATE Auth SET admin = $1 WHERE login = $2 OR email = $2");
const SET_SECRET: Q = Q::same("UPDATE Auth SET secret = $1 WHERE login = $2 OR email = $2");
/// Deletes a user by login or email.
pub const DEL: Q = Q::same("DELETE FROM Auth WHERE login = $1 OR email = $1");

/// All user records, by login.
#[get("/users", authorize = "ADMIN")]
async fn get_users(db: Db) -> Result<Json<Vec<UserRecord>>> {
    Ok(Json(db.all(ALL, vec![]).await?))
}

/// Adds a user (password quality checked, then hashed); answers the new aid.
#[post("/users", authorize = "ADMIN")]
#[allow(clippy::too_many_arguments)]
async fn post_users(
    db: Db,
    app: App,
    login: String,
    email: String,
    pass: String,
    secret: String,
    #[default(false)] admin: bool,
) -> Result<(Json<i64>, u16)> {
    let hash = app.hash_password(&pass).await?;
    let (aid,): (i64,) =
        db.one(ADD, args![login, email, hash, admin, secret]).await?.ok_or_else(|| Error::internal("no aid"))?;
    db.users_changed(); // "no such user" answers may be cached
    Ok((Json(aid), 201))
}

/// One user record, for an admin or the user itself.
#[get("/users/<login>", authorize = ("users", "login"))]
async fn get_users_login(db: Db, login: String) -> Result<Json<UserRecord>> {
    db.one(ONE, args![&login]).await?.map(Json).ok_or_else(|| Error::not_found(format!("no such login: {login}")))
}

/// Changes the given fields of a user; an unknown user is a server error, as the original.
#[patch("/users/<login>", authorize = "ADMIN")]
async fn patch_users_login(
    db: Db,
    app: App,
    login: String,
    email: Option<String>,
    pass: Option<String>,
    admin: Option<bool>,
    secret: Option<String>,
) -> Result<((), u16)> {
    if db.one::<UserRecord>(ONE, args![&login]).await?.is_none() {
        return Err(Error::new(500, format!("no such login: {login}")));
    }
    if let Some(pass) = pass {
        db.exec(SET_PASS, args![app.hash_password(&pass).await?, &login]).await?;
    }
    if let Some(admin) = admin {
        db.exec(SET_ADMIN, args![admin, &login]).await?;
    }
    if let Some(secret) = secret {
        db.exec(SET_SECRET, args![secret, &login]).await?;
    }
    if let Some(email) = email {
        db.exec(SET_EMAIL, args![email, &login]).await?;
    }
    db.users_changed();
    Ok(((), 204))
}

/// Deletes a user, for an admin or the user itself.
#[delete("/users/<login>", authorize = ("users", "login"))]
async fn delete_users_login(db: Db, login: String) -> Result<((), u16)> {
    if db.exec(DEL, args![&login]).await? == 0 {
        return Err(Error::not_found(format!("no such login: {login}")));
    }
    db.users_changed();
    Ok(((), 204))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_users, post_users, get_users_login, patch_users_login, delete_users_login]
}
