//! Caching of authentication and authorization answers.
//!
//! Password lookups (`get_user_pass`), token validations, group checks and object
//! permissions are cached, as FlaskSimpleAuth does, so that hooks hitting a database run once
//! per TTL instead of once per request. Successful password verifications are also cached
//! (in process only), keyed by a keyed hash of login, password and stored hash.
//!
//! The in-process tier is `moka::future::Cache`: a concurrent cache with TTL and size bound
//! whose `try_get_with` coalesces concurrent loads of one key, so a stampede of identical
//! requests calls the hook once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::token::TokenInfo;

/// A cached answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", content = "v")]
pub enum CacheValue {
    /// `get_user_pass`: the stored hash, if the user exists.
    Pass(Option<String>),
    /// A group membership.
    Bool(bool),
    /// An object permission: `None` means "not found".
    Perm(Option<bool>),
    /// A token validation.
    Token(TokenInfo),
}

/// The app's cache.
pub struct Cache {
    memory: Option<moka::future::Cache<String, CacheValue>>,
    prefix: String,
}

/// Cache key prefixes, as upstream (`u.` user pass, `c.` group, `p.` permission, `t.` token).
pub(crate) mod keys {
    /// Separator between key fields (cannot appear in HTTP header text).
    pub const SEP: char = '\u{1}';

    /// `get_user_pass` key.
    pub fn user_pass(login: &str) -> String {
        format!("u.{login}")
    }
    /// Group check key. Fields are `Debug`-quoted so that no two (login, group) pairs share
    /// a key: `"42"` and `42` differ, and a login holding the separator cannot forge another.
    pub fn group(login: &str, group: &crate::app::Group) -> String {
        format!("c.{login:?}{SEP}{group:?}")
    }
    /// Prefix of every group key of `login`.
    pub fn group_prefix(login: &str) -> String {
        format!("c.{login:?}{SEP}")
    }
    /// Object permission key (`id` is the identifier's `Debug` text); `None` and `Some("")`
    /// roles differ.
    pub fn perm(domain: &str, login: &str, id: &str, role: Option<&str>) -> String {
        format!("p.{domain:?}{SEP}{login:?}{SEP}{id}{SEP}{role:?}")
    }
    /// Token validation key.
    pub fn token(token: &str, realm: &str) -> String {
        format!("t.{realm}{SEP}{token}")
    }
}

impl Cache {
    /// Builds the cache from `FSA_CACHE`, `FSA_CACHE_SIZE`, `FSA_CACHE_OPTS`, `FSA_CACHE_PREFIX`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let ttl = match config.cache_opts.get("ttl") {
            Some(toml::Value::Integer(i)) if *i > 0 => *i as u64,
            Some(toml::Value::Float(f)) if *f > 0.0 => *f as u64,
            Some(v) => {
                return Err(ConfigError(format!("FSA_CACHE_OPTS ttl must be a positive number of seconds, got {v}")));
            }
            None => 600,
        };
        let memory = match config.cache.as_str() {
            "none" => None,
            "ttl" | "lru" | "tlru" | "dict" => Some(
                moka::future::Cache::builder()
                    .max_capacity(config.cache_size)
                    .time_to_live(Duration::from_secs(ttl))
                    .support_invalidation_closures()
                    .build(),
            ),
            "redis" => return Err(ConfigError("FSA_CACHE=redis is not available in this build".into())),
            other => return Err(ConfigError(format!("unsupported FSA_CACHE: {other}"))),
        };
        Ok(Cache { memory, prefix: config.cache_prefix.clone().unwrap_or_default() })
    }

    fn key(&self, key: String) -> String {
        if self.prefix.is_empty() { key } else { format!("{}{key}", self.prefix) }
    }

    /// The cached value, or the loader's result (stored when `Ok`). Concurrent loads of one key
    /// run the loader once.
    pub async fn get_or_load<F>(&self, key: String, load: F) -> Result<CacheValue, Error>
    where
        F: Future<Output = Result<CacheValue, Error>> + Send,
    {
        match &self.memory {
            None => load.await,
            Some(m) => m.try_get_with(self.key(key), load).await.map_err(|e: Arc<Error>| (*e).clone()),
        }
    }

    /// Removes one entry.
    pub async fn remove(&self, key: String) {
        if let Some(m) = &self.memory {
            m.invalidate(&self.key(key)).await;
        }
    }

    /// Removes every entry whose key starts with `prefix` (a key kind plus fields).
    pub fn remove_prefix(&self, prefix: String) {
        if let Some(m) = &self.memory {
            let full = self.key(prefix);
            // moka evaluates the predicate lazily on access and in maintenance.
            let _ = m.invalidate_entries_if(move |k, _| k.starts_with(&full));
        }
    }

    /// Removes every entry.
    pub fn clear(&self) {
        if let Some(m) = &self.memory {
            m.invalidate_all();
        }
    }
}

/// In-process cache of successful password checks, keyed by a keyed BLAKE2 hash of login,
/// password and stored hash (never the password itself); a changed stored hash misses.
pub(crate) struct PasswordCache {
    key: [u8; 32],
    entries: Option<moka::sync::Cache<[u8; 32], ()>>,
}

impl PasswordCache {
    pub(crate) fn new(enabled: bool, size: u64, ttl: Duration) -> Self {
        let mut key = [0u8; 32];
        let ok = getrandom::fill(&mut key).is_ok();
        let entries =
            (enabled && ok).then(|| moka::sync::Cache::builder().max_capacity(size).time_to_live(ttl).build());
        PasswordCache { key, entries }
    }

    fn digest(&self, login: &str, password: &str, hash: &str) -> [u8; 32] {
        use blake2::Digest;
        let mut h = blake2::Blake2s256::new();
        h.update(self.key);
        for part in [login, password, hash] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    pub(crate) fn hit(&self, login: &str, password: &str, hash: &str) -> bool {
        self.entries.as_ref().is_some_and(|e| e.contains_key(&self.digest(login, password, hash)))
    }

    pub(crate) fn store(&self, login: &str, password: &str, hash: &str) {
        if let Some(e) = &self.entries {
            e.insert(self.digest(login, password, hash), ());
        }
    }

    pub(crate) fn clear(&self) {
        if let Some(e) = &self.entries {
            e.invalidate_all();
        }
    }
}
