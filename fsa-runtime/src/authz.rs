//! Authorization: groups, OAuth scopes and object permissions.
//!
//! Order, as upstream: authentication → groups or scopes (403) → parameters (400) → object
//! permissions (404/403) → handler. Group and permission answers go through the app cache,
//! keyed by every argument so that two users, groups, domains, identifiers or roles never
//! share an entry (fields are `Debug`-quoted: the group `"42"` is not the group `42`, no role is
//! not the empty role). Errors are not cached.
//!
//! Hooks answer `Ok(…)`, or an [`Error`] answered as is (its status and message, e.g. 503 when a
//! directory is down). A hook that panics is caught by the request pipeline: the client gets
//! `FSA_SERVER_ERROR` with a generic message, the cause is logged, the server keeps serving.
//!
//! Refused when the app is built (each message names the route): a group with neither a
//! `group_check` nor a `user_in_group` hook; an undeclared group when groups are declared
//! (`FSA_AUTHZ_GROUPS`, `add_group`; a `group_check` declares its group); an undeclared scope
//! when scopes are declared (`FSA_AUTHZ_SCOPES`, `add_scope`); a number as a scope; oauth mixed
//! with other schemes on a route, or without JWT tokens and `FSA_TOKEN_ISSUER`; a permission domain no `object_perms`
//! hook serves, or served with another identifier type than the route passes.
//!
//! Groups and scopes do not mix: on `auth = "oauth"` routes every name is a scope read from the
//! token, elsewhere every name is a group checked by the hooks, so a token's scope never makes
//! its holder a group member and a group membership never grants a scope.

use std::fmt::Debug;

use crate::app::{App, RouteEntry};
use crate::cache::{CacheValue, Key};
use crate::context::Context;
use crate::error::Error;

impl App {
    pub(crate) async fn check_groups(&self, ctx: &Context, entry: &RouteEntry) -> Result<(), Error> {
        if entry.groups.is_empty() {
            return Ok(());
        }
        let login = ctx.user().ok_or_else(|| Error::unauthorized("missing authentication"))?;
        for group in &entry.groups {
            if entry.oauth {
                let scope = group.to_string();
                if !ctx.scopes().contains(&scope) {
                    return Err(Error::forbidden(format!("missing permission \"{scope}\"")));
                }
            } else if !self.user_in_group(login, group).await? {
                return Err(Error::forbidden(format!("not in group \"{group}\"")));
            }
        }
        Ok(())
    }

    /// Whether `login` is in `group`, through the group's own hook or `user_in_group`
    /// (cached).
    pub async fn user_in_group(&self, login: &str, group: &crate::app::Group) -> Result<bool, Error> {
        let inner = &*self.inner;
        let key = Key::group(login, group);
        let value = match inner.cache.hit(&key) {
            Some(v) => v,
            None => {
                // The login is copied for the hook only when the hook runs (a cache miss).
                let load = async {
                    if let Some(h) = inner.hooks.group_checks.get(group) {
                        return h(login.to_owned()).await.map(CacheValue::Bool);
                    }
                    match &inner.hooks.user_in_group {
                        Some(h) => h(login.to_owned(), group.clone()).await.map(CacheValue::Bool),
                        None => Err(Error::internal(format!("no check for group {group}"))),
                    }
                };
                Box::pin(inner.cache.get_or_load(key, load)).await?
            }
        };
        match *value {
            CacheValue::Bool(b) => Ok(b),
            _ => Err(Error::internal("unexpected cached value for a group")),
        }
    }

    pub(crate) async fn check_object_perm<I>(
        &self,
        domain: &'static str,
        login: &str,
        id: I,
        role: Option<&'static str>,
    ) -> Result<(), Error>
    where
        I: Debug + Send + Sync + 'static,
    {
        let inner = &*self.inner;
        let entry = inner
            .hooks
            .perms
            .get(domain)
            .ok_or_else(|| Error::internal(format!("no permission hook for domain {domain}")))?;
        // Formatted inline (up to 24 bytes: numbers, short names), so that a cached check
        // allocates nothing; compact_str comes with garde already.
        let mut id_text = compact_str::CompactString::const_new("");
        let _ = std::fmt::Write::write_fmt(&mut id_text, format_args!("{id:?}"));
        let id_text = id_text.as_str();
        let key = Key::perm(domain, login, id_text, role);
        let hook = &entry.hook;
        let value = match inner.cache.hit(&key) {
            Some(v) => v,
            None => {
                let load = async move { hook(login.to_owned(), Box::new(id), role).await.map(CacheValue::Perm) };
                Box::pin(inner.cache.get_or_load(key, load)).await?
            }
        };
        match *value {
            CacheValue::Perm(Some(true)) => Ok(()),
            CacheValue::Perm(Some(false)) => {
                Err(Error::forbidden(format!("permission denied on {domain}:{id_text} ({})", role.unwrap_or("None"))))
            }
            CacheValue::Perm(None) => Err(Error::new(inner.config.not_found_error, "object not found")),
            _ => Err(Error::internal("unexpected cached value for a permission")),
        }
    }
}
