//! OAuth: routes restricted to Bearer JWTs carrying a scope (jwt mode only). The token's
//! `sub` is the identity; the account need not exist.

use fsa::prelude::*;

use crate::args;
use crate::db::Db;
use crate::users::{self, UserRecord};

/// The identity's user record, or `null`.
#[get("/oauth", authorize = "read", auth = "oauth")]
async fn get_oauth(db: Db, user: CurrentUser) -> Result<Json<Option<UserRecord>>> {
    Ok(Json(db.one(users::ONE, args![&*user]).await?))
}

/// Changes the identity's email.
#[patch("/oauth", authorize = "write", auth = "oauth")]
async fn patch_oauth(db: Db, user: CurrentUser, email: String) -> Result<((), u16)> {
    db.exec(users::SET_EMAIL, args![email, &*user]).await?;
    db.users_changed();
    Ok(((), 204))
}

/// Deletes the identity's account and forgets everything cached about identities.
#[delete("/oauth", authorize = "delete", auth = "oauth")]
async fn delete_oauth(db: Db, user: CurrentUser) -> Result<((), u16)> {
    db.exec(users::DEL, args![&*user]).await?;
    db.users_changed();
    Ok(((), 204))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_oauth, patch_oauth, delete_oauth]
}
