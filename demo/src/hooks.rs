//! The authentication and authorization hooks, all in one place, as the original's `auth.py`.
//!
//! * passwords: the stored bcrypt hash of the account whose login **or** email is the user
//!   part of the basic credentials (the identity stays what was sent);
//! * group `ADMIN`: the account found by login or email has `admin` true;
//! * object permission `users`: an admin, or the identity equal to the path value.
//!
//! Each lookup is a short unit of work of its own, outside the request's transaction (which
//! only begins in the handler). Answers are cached by the framework; handlers that change
//! users empty the caches after their commit ([`Db::users_changed`]).

use fsa::{AppBuilder, Error};

use crate::args;
use crate::db::{Db, Pool, Q};

const USER_PASS: Q = Q::same("SELECT upass FROM Auth WHERE login = $1 OR email = $1");
const IS_ADMIN: Q = Q::same("SELECT admin FROM Auth WHERE login = $1 OR email = $1");

async fn lookup<T: crate::db::Row>(pool: Pool, q: Q, user: String) -> Result<Option<T>, Error> {
    let db = Db::new(pool);
    let found = db.one::<T>(q, args![user]).await;
    db.finish(true).await?;
    found
}

/// Whether the account found by login or email is an admin.
async fn is_admin(pool: Pool, user: String) -> Result<bool, Error> {
    Ok(lookup::<(bool,)>(pool, IS_ADMIN, user).await?.is_some_and(|(admin,)| admin))
}

/// Registers the hooks on the builder.
pub fn register(builder: AppBuilder, pool: &Pool) -> AppBuilder {
    let (p1, p2, p3) = (pool.clone(), pool.clone(), pool.clone());
    builder
        .get_user_pass(move |user| {
            let pool = p1.clone();
            async move { Ok(lookup::<(String,)>(pool, USER_PASS, user).await?.map(|(hash,)| hash)) }
        })
        .group_check("ADMIN", move |user| is_admin(p2.clone(), user))
        .object_perms("users", move |user: String, login: String, _role| {
            let pool = p3.clone();
            async move { Ok(Some(user == login || is_admin(pool, user).await?)) }
        })
}
