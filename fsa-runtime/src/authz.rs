//! Authorization: groups, OAuth scopes and object permissions.
//!
//! Order, as upstream: authentication → groups or scopes (403) → parameters (400) → object
//! permissions (404/403) → handler. Group and permission answers go through the app cache,
//! keyed by every argument so that two users, groups, domains, identifiers or roles never
//! share an entry.

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
                if !ctx.scopes().iter().any(|s| *s == scope) {
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
        let key = Key::group(login, &group.to_string());
        let l = login.to_owned();
        let load = async {
            if let Some(h) = inner.hooks.group_checks.get(group) {
                return h(l).await.map(CacheValue::Bool);
            }
            match &inner.hooks.user_in_group {
                Some(h) => h(l, group.clone()).await.map(CacheValue::Bool),
                None => Err(Error::internal(format!("no check for group {group}"))),
            }
        };
        match inner.cache.get_or_load(key, load).await? {
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
        let id_text = format!("{id:?}");
        let key = Key::perm(domain, login, &id_text, role);
        let hook = entry.hook.clone();
        let l = login.to_owned();
        let value = inner
            .cache
            .get_or_load(key, async move { hook(l, Box::new(id), role).await.map(CacheValue::Perm) })
            .await?;
        match value {
            CacheValue::Perm(Some(true)) => Ok(()),
            CacheValue::Perm(Some(false)) => {
                Err(Error::forbidden(format!("permission denied on {domain}:{id_text} ({})", role.unwrap_or("None"))))
            }
            CacheValue::Perm(None) => Err(Error::new(inner.config.not_found_error, "object not found")),
            _ => Err(Error::internal("unexpected cached value for a permission")),
        }
    }
}
