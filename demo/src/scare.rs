//! Self-care: the current user's own account.

use fsa::TokenOptions;
use fsa::prelude::*;

use crate::args;
use crate::db::{Db, Q};
use crate::users::{self, UserRecord};

const UPASS: Q = Q::same("SELECT upass FROM Auth WHERE login = $1 OR email = $1");

/// The identity's user record (`null` if the account does not exist).
#[get("/scare", authorize = "AUTH")]
async fn get_scare(db: Db, user: CurrentUser) -> Result<Json<Option<UserRecord>>> {
    Ok(Json(db.one(users::ONE, args![&*user]).await?))
}

/// A new token for the identity.
#[get("/scare/token", authorize = "AUTH", auth = "basic")]
fn get_scare_token(app: App, user: CurrentUser) -> Result<Json<String>> {
    Ok(Json(app.create_token(&user, TokenOptions::default())?))
}

/// A new token for the identity, given a validation code `IDENTITY:42`.
#[get("/scare/token2", authorize = "AUTH", auth = "basic")]
fn get_scare_token2(app: App, user: CurrentUser, code: String) -> Result<Json<String>> {
    if code != format!("{user}:42") {
        return Err(Error::bad_request(format!("invalid validation code for {user}")));
    }
    Ok(Json(app.create_token(&user, TokenOptions::default())?))
}

/// Registers a new non-admin user.
#[post("/scare", authorize = "OPEN")]
async fn post_scare(
    db: Db,
    app: App,
    login: String,
    email: String,
    pass: String,
    secret: String,
) -> Result<(Json<i64>, u16)> {
    let hash = app.hash_password(&pass).await?;
    let (aid,): (i64,) =
        db.one(users::ADD, args![login, email, hash, false, secret]).await?.ok_or_else(|| Error::internal("no aid"))?;
    db.users_changed(); // "no such user" answers may be cached
    Ok((Json(aid), 201))
}

/// Changes the identity's password, given the old one.
#[patch("/scare", authorize = "AUTH")]
async fn patch_scare(db: Db, app: App, user: CurrentUser, opass: String, npass: String) -> Result<((), u16)> {
    let stored: Option<(String,)> = db.one(UPASS, args![&*user]).await?;
    let valid = match stored {
        Some((hash,)) => app.check_password(&opass, &hash).await,
        None => false,
    };
    if !valid {
        return Err(Error::forbidden("invalid password provided"));
    }
    db.exec(users::SET_PASS, args![app.hash_password(&npass).await?, &*user]).await?;
    db.users_changed();
    Ok(((), 204))
}

/// Deletes the identity's account.
#[delete("/scare", authorize = "AUTH")]
async fn delete_scare(db: Db, user: CurrentUser) -> Result<((), u16)> {
    db.exec(users::DEL, args![&*user]).await?;
    db.users_changed();
    Ok(((), 204))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_scare, get_scare_token, get_scare_token2, post_scare, patch_scare, delete_scare]
}
