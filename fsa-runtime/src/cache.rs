//! Caching of authentication and authorization answers.
//!
//! What is cached, as FlaskSimpleAuth does, so that hooks hitting a database run once per TTL
//! instead of once per request:
//!
//! | kind | key (`FSA_CACHE_PREFIX` + …) | value | switch |
//! |---|---|---|---|
//! | `get_user_pass` answers | `u.["login"]` | stored hash or none | `FSA_CACHE_USERS` |
//! | group checks | `c.["login","group"]` | bool | `FSA_CACHE_GROUPS` |
//! | object permissions | `p.["login","domain","id",role]` | `true`/`false`/not found | `FSA_CACHE_PERMS` |
//! | token validations | `t.["realm","token"]` | login, expiry, scopes | `FSA_CACHE_TOKENS` |
//!
//! Keys are the kind tag followed by the JSON array of the arguments, so that no login, group,
//! identifier or realm can forge another entry's key, and all entries of one login share a
//! prefix (`c.["login",`). Only successful hook answers are stored; errors are not.
//!
//! Successful password verifications are cached too, in process only (`PasswordCache`):
//! a bcrypt check costs milliseconds of CPU per request otherwise. An entry maps the login to
//! the stored hash it was checked against and a keyed hash of login and password: SipHash-2-4
//! with 128-bit output ([`siphasher`](https://docs.rs/siphasher)), under a random key drawn by
//! each process. The password is never kept, and a changed stored hash no longer matches.
//! SipHash is a pseudo-random function built for short inputs under a secret key, which is
//! this use exactly: a guess that is not the password matches with probability 2^-128, and a
//! hit costs about 20 ns (a BLAKE2s block, used before, cost 90 ns; so did an HMAC-SHA-256 with
//! its keyed states precomputed, on a CPU with SHA extensions).
//! The trade-off: while an entry lives, a memory dump of the process allows an offline check
//! of password guesses for that login at SipHash speed rather than bcrypt speed (the key is in
//! the same memory). `FSA_CACHE_PASSWORDS=false` turns it off.
//!
//! Backends (`FSA_CACHE`):
//! - `none`: every request calls the hooks.
//! - `ttl` (default; `lru`, `tlru`, `dict` are accepted as synonyms): in process, on
//!   [`quick_cache`](https://docs.rs/quick_cache), a well-kept sharded concurrent cache
//!   bounded by size (`FSA_CACHE_SIZE`, default 262144). It was chosen over `moka` for the cost
//!   of a hit, which every authenticated request pays: a read lock on one shard, a fast keyed
//!   hash (foldhash, randomly seeded; keys are compared in full) and a lookup by borrowed key,
//!   where moka also records each read for its policy, reads the clock and runs maintenance.
//!   It has no TTL: each entry carries its expiry (`FSA_CACHE_OPTS.ttl`), an expired entry is
//!   a miss and is removed; those never read again go as the size bound evicts them. A lookup
//!   writes its key (a length-prefixed byte string of the same parts as the Redis key, with no
//!   escaping to do) into a reused per-thread buffer and shares the answer (`Arc`): a hit
//!   allocates nothing and reads the clock once. Uncaching a login's entries scans the map
//!   (uncaches are rare, hits are not). Concurrent misses of one key are coalesced:
//!   a stampede of identical requests calls the hook once (a call is shared for 5 s at most,
//!   so that one that never ends holds up its own request only). fsa token checks (a BLAKE2s
//!   signature, a few thousand instructions) go through it too, as a hit costs less.
//! - `redis` (feature `redis`): a Redis shared by every server of the app, through the `redis`
//!   crate's `ConnectionManager` (multiplexed, reconnecting). `FSA_CACHE_OPTS` gives `url` or
//!   `host`/`port`/`db`/`username`/`password`/`tls`, plus `ttl`, `timeout` and `retry` (seconds).
//!   Entries of one login are listed in a per-login index (`x.["login"]`, a sorted set scored
//!   by expiry) so that `auth_uncache` deletes them without scanning; `clear_caches` scans only
//!   this app's `FSA_CACHE_PREFIX`. Token checks are cheaper than a Redis round trip: with
//!   Redis, `FSA_CACHE_TOKENS=false` is usually faster (see `docs/CACHE.md`).
//!   Concurrent misses of one key are coalesced in process, so each server calls the hook once.
//!   Every Redis call is bounded by `timeout`; on a failure the cache answers "miss" (hooks are
//!   called, nothing is stored), logs the outage once, skips Redis for `retry` seconds, then
//!   probes it again; when it answers, caching resumes by itself. An uncache that could not
//!   reach Redis makes this server clear the app's entries once Redis is back.
//!
//! `FSA_CACHE_OPTS.ttl` (default 600 s) bounds every entry's life.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

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

impl CacheValue {
    /// The token validation this value holds (an internal error for any other value).
    pub(crate) fn token_info(&self) -> Result<&TokenInfo, Error> {
        match self {
            CacheValue::Token(info) => Ok(info),
            _ => Err(Error::internal("unexpected cached value for a token")),
        }
    }

    /// The login an entry is about when its key does not say it (token validations).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn owner(&self) -> Option<&str> {
        match self {
            CacheValue::Token(info) => Some(&info.login),
            _ => None,
        }
    }
}

/// The kinds of cached answers, each of which can be turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `get_user_pass` answers.
    User = 0,
    /// Group checks.
    Group = 1,
    /// Object permissions.
    Perm = 2,
    /// Token validations.
    Token = 3,
}

impl Kind {
    /// The letter that starts the kind's keys.
    fn letter(self) -> u8 {
        match self {
            Kind::User => b'u',
            Kind::Group => b'c',
            Kind::Perm => b'p',
            Kind::Token => b't',
        }
    }
}

/// A cache key, borrowed from the request: its form (the JSON text for Redis, without
/// `FSA_CACHE_PREFIX`; a length-prefixed byte string in process) is written only where needed,
/// into a reused per-thread buffer on an in-process lookup, so that a hit allocates nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key<'a> {
    kind: Kind,
    parts: Parts<'a>,
}

/// The arguments a key is made of.
#[derive(Clone, Copy, Debug)]
enum Parts<'a> {
    User(&'a str),
    Group(&'a str, &'a crate::app::Group),
    Perm {
        login: &'a str,
        domain: &'a str,
        id: &'a str,
        role: Option<&'a str>,
    },
    /// `tag`: another token configuration's ([`Tokens::cache_tag`](crate::token::Tokens)).
    Token {
        realm: &'a str,
        token: &'a str,
        tag: Option<&'a str>,
    },
}

/// `["a","b"]`.
#[cfg(any(feature = "redis", test))]
fn json_array(parts: &[Option<&str>]) -> String {
    serde_json::to_string(parts).unwrap_or_default()
}

/// `["a",`: the prefix of every array whose first element is `first`.
#[cfg(feature = "redis")]
fn json_open(first: &str) -> String {
    let mut s = json_array(&[Some(first)]);
    s.pop();
    s.push(',');
    s
}

/// Whether `s` has a character JSON escapes (controls, `"` and `\\`, as `serde_json` does).
#[cfg(any(feature = "redis", test))]
fn needs_escape(s: &str) -> bool {
    // Branch-free over the bytes, so that it vectorizes: tokens are a hundred bytes long.
    let mut bad = 0u8;
    for &b in s.as_bytes() {
        bad |= u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    }
    bad != 0
}

/// Appends `s` as a JSON string, exactly as `serde_json` writes it. Keys are made on every
/// cached check and their parts seldom need escaping: those are copied as they are, the
/// others go through `serde_json`.
#[cfg(any(feature = "redis", test))]
fn push_json_str(buf: &mut String, s: &str) {
    if !needs_escape(s) {
        buf.push('"');
        buf.push_str(s);
        buf.push('"');
    } else {
        buf.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

thread_local! {
    /// The buffer lookup keys are written into (one per thread, reused).
    static KEY_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The largest key buffer a thread keeps between look-ups: a longer key (a client's oversized
/// login or token, up to the body limit for one sent as a parameter) is written into it for
/// its one look-up, then the buffer is let go, so that no thread holds such a size for good.
const KEY_BUFFER_KEPT: usize = 16 * 1024;

/// The longest login or object id, in bytes, whose answers the cache keeps. Entries are
/// counted, not weighed, and a client chooses these parts before any check (a login sent
/// for authentication, the id of a permission check): 262,144 entries of 16 MiB logins would
/// hold 4 TiB. Longer ones are answered by their hook each time, uncached; logins and ids are
/// far shorter. Tokens are kept whatever their length, since only valid ones are stored.
const CLIENT_PART_MAX: usize = 1024;

impl<'a> Key<'a> {
    /// Whether a part the client chose is too long to be kept ([`CLIENT_PART_MAX`]).
    fn too_long(&self) -> bool {
        match self.parts {
            Parts::User(login) => login.len() > CLIENT_PART_MAX,
            Parts::Perm { login, id, .. } => login.len() > CLIENT_PART_MAX || id.len() > CLIENT_PART_MAX,
            Parts::Group(..) | Parts::Token { .. } => false,
        }
    }

    /// `get_user_pass` key.
    pub(crate) fn user_pass(login: &'a str) -> Self {
        Key { kind: Kind::User, parts: Parts::User(login) }
    }
    /// Group check key.
    pub(crate) fn group(login: &'a str, group: &'a crate::app::Group) -> Self {
        Key { kind: Kind::Group, parts: Parts::Group(login, group) }
    }
    /// Object permission key.
    pub(crate) fn perm(domain: &'a str, login: &'a str, id: &'a str, role: Option<&'a str>) -> Self {
        Key { kind: Kind::Perm, parts: Parts::Perm { login, domain, id, role } }
    }
    /// Token validation key (the login is only known once the token is checked).
    pub(crate) fn token(token: &'a str, realm: &'a str) -> Self {
        Key { kind: Kind::Token, parts: Parts::Token { realm, token, tag: None } }
    }
    /// Token validation key of another token configuration than the app's: its entries
    /// never answer for the app's tokens nor for a third configuration's.
    pub(crate) fn token_of(token: &'a str, realm: &'a str, tag: &'a str) -> Self {
        Key { kind: Kind::Token, parts: Parts::Token { realm, token, tag: Some(tag) } }
    }

    /// The login the entry belongs to, when the key says it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn login(&self) -> Option<&'a str> {
        match self.parts {
            Parts::User(login) | Parts::Group(login, _) | Parts::Perm { login, .. } => Some(login),
            Parts::Token { .. } => None,
        }
    }

    /// Appends the key's text: the kind tag and the compact JSON array of the arguments
    /// (a named group is a JSON string and a numbered one a JSON number: "42" is not 42).
    #[cfg(any(feature = "redis", test))]
    fn write(&self, buf: &mut String) {
        use crate::app::Group;
        match self.parts {
            Parts::User(login) => {
                buf.push_str("u.[");
                push_json_str(buf, login);
            }
            Parts::Group(login, group) => {
                buf.push_str("c.[");
                push_json_str(buf, login);
                buf.push(',');
                match group {
                    Group::Name(n) => push_json_str(buf, n),
                    Group::Id(i) => {
                        use std::fmt::Write;
                        let _ = write!(buf, "{i}");
                    }
                }
            }
            Parts::Perm { login, domain, id, role } => {
                buf.push_str("p.[");
                for part in [login, domain, id] {
                    push_json_str(buf, part);
                    buf.push(',');
                }
                match role {
                    Some(role) => push_json_str(buf, role),
                    None => buf.push_str("null"),
                }
            }
            Parts::Token { realm, token, tag } => {
                buf.push_str("t.[");
                push_json_str(buf, realm);
                buf.push(',');
                push_json_str(buf, token);
                if let Some(tag) = tag {
                    buf.push(',');
                    push_json_str(buf, tag);
                }
            }
        }
        buf.push(']');
    }

    /// The key's text, owned.
    #[cfg(any(feature = "redis", test))]
    fn text(&self) -> String {
        let mut text = String::new();
        self.write(&mut text);
        text
    }

    /// The in-process tier's key: the kind's letter, then each part tagged and
    /// length-prefixed (`s`, the length in 4 bytes, the bytes; `i` and 8 bytes for a group
    /// number; `n` for no role). Unambiguous like the JSON text, without scanning every byte
    /// for characters to escape: the lookup of a cached check writes it on every request.
    fn write_bytes(&self, buf: &mut Vec<u8>) {
        fn part(buf: &mut Vec<u8>, s: &str) {
            buf.push(b's');
            buf.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
        buf.push(self.kind.letter());
        match self.parts {
            Parts::User(login) => part(buf, login),
            Parts::Group(login, group) => {
                part(buf, login);
                match group {
                    crate::app::Group::Name(n) => part(buf, n),
                    crate::app::Group::Id(i) => {
                        buf.push(b'i');
                        buf.extend_from_slice(&i.to_le_bytes());
                    }
                }
            }
            Parts::Perm { login, domain, id, role } => {
                for p in [login, domain, id] {
                    part(buf, p);
                }
                match role {
                    Some(role) => part(buf, role),
                    None => buf.push(b'n'),
                }
            }
            Parts::Token { realm, token, tag } => {
                part(buf, realm);
                part(buf, token);
                if let Some(tag) = tag {
                    part(buf, tag);
                }
            }
        }
    }

    /// The in-process key, owned.
    fn bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_bytes(&mut bytes);
        bytes
    }

    /// Calls `f` with the in-process key, written into the thread's buffer.
    fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        KEY_BUFFER.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                self.write_bytes(&mut buf);
                let result = f(&buf);
                if buf.capacity() > KEY_BUFFER_KEPT {
                    *buf = Vec::new();
                }
                result
            }
            Err(_) => f(&self.bytes()),
        })
    }
}

/// The start of every in-process key of `kind` whose first part is `first`.
fn bytes_open(kind: Kind, first: &str) -> Vec<u8> {
    Key { kind, parts: Parts::User(first) }.bytes()
}

/// Whether an in-process entry belongs to `login` (for `auth_uncache`): a stored password,
/// group or permission entry whose key's first part is the login (`login_part`, that part as
/// [`bytes_open`] writes it, without the kind's letter), or a validation of one of the login's
/// tokens.
fn belongs_to(key: &[u8], value: &CacheValue, login: &str, login_part: &[u8]) -> bool {
    match value {
        CacheValue::Token(info) => info.login == login,
        _ => {
            let kinds = [Kind::User, Kind::Group, Kind::Perm].map(Kind::letter);
            key.split_first().is_some_and(|(kind, rest)| kinds.contains(kind) && rest.starts_with(login_part))
        }
    }
}

/// Cache options parsed from `FSA_CACHE_OPTS`.
struct Opts {
    ttl: Duration,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    table: std::collections::BTreeMap<String, toml::Value>,
}

fn seconds(name: &str, v: &toml::Value) -> Result<Duration, ConfigError> {
    let s = match v {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        toml::Value::String(s) => s.trim().parse::<f64>().unwrap_or(-1.0),
        _ => -1.0,
    };
    if crate::config::is_delay(s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        let max = crate::config::MAX_SECONDS;
        Err(ConfigError(format!(
            "FSA_CACHE_OPTS {name} must be a positive number of seconds, at most {max:e}, got {v}"
        )))
    }
}

impl Opts {
    fn new(config: &Config, allowed: Option<&[&str]>) -> Result<Self, ConfigError> {
        let allowed = allowed.unwrap_or_default();
        for k in config.cache_opts.keys().filter(|_| !allowed.is_empty()) {
            if !allowed.contains(&k.as_str()) {
                return Err(ConfigError(format!(
                    "unexpected FSA_CACHE_OPTS key {k} for FSA_CACHE={} (expecting: {})",
                    config.cache,
                    allowed.join(", ")
                )));
            }
        }
        let ttl = match config.cache_opts.get("ttl") {
            Some(v) => seconds("ttl", v)?,
            None => Duration::from_secs(600),
        };
        Ok(Opts { ttl, table: config.cache_opts.clone() })
    }
}

enum Backend {
    Off,
    Memory(Memory),
    #[cfg(feature = "redis")]
    Redis(redis_tier::RedisTier),
}

/// The app's cache of hook answers (see the module documentation).
pub struct Cache {
    backend: Backend,
    kinds: [bool; 4],
    ttl: Duration,
    /// Bumped by every uncache: a load that started before an uncache is answered but not
    /// stored, so that an uncache is never undone by a concurrent load of the old value.
    epoch: AtomicU64,
}

/// The in-process backend: a `quick_cache` map from key bytes to entry, so that a hit is a
/// plain function call (no future), and the loads in flight, so that concurrent misses of one
/// key call the hook once (the first caller loads, the others wait for its answer).
struct Memory {
    /// Keyed by [`Key::write_bytes`].
    map: quick_cache::sync::Cache<Vec<u8>, Entry>,
    ttl: Duration,
    flights: Flights<Vec<u8>, Arc<CacheValue>>,
}

/// An in-process entry: the answer and when it expires (the map has no TTL of its own).
#[derive(Clone)]
struct Entry {
    until: Instant,
    value: Arc<CacheValue>,
}

/// The loads in flight of one cache tier, by key: callers that miss the same key while its
/// load runs wait for that load's answer instead of calling the hook again.
struct Flights<K, V> {
    map: std::sync::Mutex<std::collections::HashMap<K, Waiting<V>>>,
}

/// One load in flight, shared by every caller that missed the same key meanwhile.
type Flight<V> = Arc<tokio::sync::OnceCell<Result<V, Error>>>;

/// How long a load in flight is shared: a caller that has waited this long for another's load
/// calls the hook itself, in a new flight that later callers join. A hook call that never
/// ends (a database reply lost on a half-dead connection, with no timeout) then holds up its
/// own request alone, as without a cache, instead of every request for the key; and a hook
/// slower than this is called at most once more per key every 5 s.
pub(crate) const FLIGHT_SHARED_FOR: Duration = Duration::from_secs(5);

/// A load in flight and how many callers wait on it.
struct Waiting<V> {
    flight: Flight<V>,
    callers: usize,
    /// When the flight started: callers wait for it until [`FLIGHT_SHARED_FOR`] after.
    since: tokio::time::Instant,
}

impl<K, V> Default for Flights<K, V> {
    fn default() -> Self {
        Flights { map: Default::default() }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Flights<K, V> {
    /// Joins the load in flight for `key`, or starts it with `load`. The flight leaves the map
    /// once answered (the next miss starts a new load) or once every caller waiting on it was
    /// dropped; when only the one running the load is dropped, a waiter takes it over.
    ///
    /// A caller waiting for another's load gives up on it after [`FLIGHT_SHARED_FOR`] from the
    /// flight's start, and starts a new flight in its place (or joins the one another caller
    /// started so); the caller running a load waits for it however long it takes.
    async fn join<F>(&self, key: &K, load: impl FnOnce() -> F) -> Result<V, Error>
    where
        F: Future<Output = Result<V, Error>>,
    {
        let mut load = Some(load);
        let mut stale: Option<Flight<V>> = None;
        loop {
            let (flight, since) = {
                let mut map = self.lock();
                let fresh = || Waiting { flight: Flight::default(), callers: 0, since: tokio::time::Instant::now() };
                let waiting = map.entry(key.clone()).or_insert_with(fresh);
                if stale.as_ref().is_some_and(|s| Arc::ptr_eq(s, &waiting.flight)) {
                    *waiting = fresh();
                }
                waiting.callers += 1;
                (waiting.flight.clone(), waiting.since)
            };
            let landing = Landing { flights: self, key, flight: &flight };
            let leading = std::sync::atomic::AtomicBool::new(false);
            let answer = {
                let init = || {
                    leading.store(true, Ordering::Relaxed);
                    load.take().expect("a flight's load is called once")()
                };
                let mut answer = std::pin::pin!(flight.get_or_init(init));
                // Made only by a caller that waits for another's load: no timer otherwise.
                let mut deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
                std::future::poll_fn(|cx| match answer.as_mut().poll(cx) {
                    Poll::Ready(result) => Poll::Ready(Some(result.clone())),
                    Poll::Pending if leading.load(Ordering::Relaxed) => Poll::Pending,
                    Poll::Pending => {
                        let end = deadline
                            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(since + FLIGHT_SHARED_FOR)));
                        if end.as_mut().poll(cx).is_ready() { Poll::Ready(None) } else { Poll::Pending }
                    }
                })
                .await
            };
            drop(landing);
            match answer {
                Some(result) => return result,
                // Waited long enough for another's load: a flight of its own.
                None => stale = Some(flight),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<K, Waiting<V>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One caller's leaving its flight, answered or dropped (see [`Flights::join`]).
struct Landing<'a, K: std::hash::Hash + Eq + Clone, V: Clone> {
    flights: &'a Flights<K, V>,
    key: &'a K,
    flight: &'a Flight<V>,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Drop for Landing<'_, K, V> {
    fn drop(&mut self) {
        let mut map = self.flights.lock();
        if let Some(waiting) = map.get_mut(self.key)
            && Arc::ptr_eq(&waiting.flight, self.flight)
        {
            waiting.callers -= 1;
            if waiting.callers == 0 || waiting.flight.initialized() {
                map.remove(self.key);
            }
        }
    }
}

impl Memory {
    fn new(size: u64, ttl: Duration) -> Self {
        // The map allocates as it fills, not up front.
        let map = quick_cache::sync::Cache::new(usize::try_from(size).unwrap_or(usize::MAX));
        Memory { map, ttl, flights: Flights::default() }
    }

    /// The live entry of `key`, if any; an expired one is a miss, and removed.
    fn get(&self, key: &[u8], now: Instant) -> Option<Arc<CacheValue>> {
        let entry = self.map.get(key)?;
        if now < entry.until {
            return Some(entry.value);
        }
        // Unless a concurrent load stored a fresh answer meanwhile.
        self.map.remove_if(key, |e| e.until <= now);
        None
    }
}

impl Cache {
    /// Builds the cache from `FSA_CACHE`, `FSA_CACHE_SIZE`, `FSA_CACHE_OPTS`, `FSA_CACHE_PREFIX`
    /// and the per-kind switches. Never connects to anything.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let kinds = [config.cache_users, config.cache_groups, config.cache_perms, config.cache_tokens];
        let (backend, ttl) = match config.cache.as_str() {
            // Options of a backend switched off are ignored, not refused.
            "none" => (Backend::Off, Opts::new(config, None)?.ttl),
            "ttl" | "lru" | "tlru" | "dict" => {
                let opts = Opts::new(config, Some(&["ttl"]))?;
                (Backend::Memory(Memory::new(config.cache_size, opts.ttl)), opts.ttl)
            }
            #[cfg(feature = "redis")]
            "redis" => {
                let opts = Opts::new(config, Some(redis_tier::OPTS))?;
                let prefix = config.cache_prefix.clone().unwrap_or_default();
                (Backend::Redis(redis_tier::RedisTier::new(&opts, prefix)?), opts.ttl)
            }
            #[cfg(not(feature = "redis"))]
            "redis" => return Err(ConfigError("FSA_CACHE=redis needs the `redis` feature of fsa".into())),
            other => return Err(ConfigError(format!("unsupported FSA_CACHE: {other}"))),
        };
        Ok(Cache { backend, kinds, ttl, epoch: AtomicU64::new(0) })
    }

    /// The entries' time to live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The live in-process entry of `key`, if any: a synchronous lookup with a borrowed key.
    /// The request path asks it first and awaits [`get_or_load`](Self::get_or_load), boxed,
    /// on a miss only (`cache.hit(&key)` or `Box::pin(cache.get_or_load(key, load))`): the
    /// future of a check that hits then holds no loader and no key, and stays small.
    pub(crate) fn hit(&self, key: &Key<'_>) -> Option<Arc<CacheValue>> {
        match &self.backend {
            // A key too long to be stored is never found: not worth a test here.
            Backend::Memory(m) if self.kinds[key.kind as usize] => {
                let now = Instant::now();
                key.with_bytes(|bytes| m.get(bytes, now))
            }
            _ => None,
        }
    }

    /// The cached value, or the loader's result (stored when `Ok` and the kind is cached).
    /// Concurrent loads of one key run the loader once.
    pub(crate) async fn get_or_load<F>(&self, key: Key<'_>, load: F) -> Result<Arc<CacheValue>, Error>
    where
        F: Future<Output = Result<CacheValue, Error>> + Send,
    {
        if !self.kinds[key.kind as usize] || key.too_long() {
            return load.await.map(Arc::new);
        }
        match &self.backend {
            Backend::Off => load.await.map(Arc::new),
            Backend::Memory(m) => {
                // A hit is a synchronous lookup; the miss path (with the loader inside) is
                // boxed, which keeps every future that awaits this one small.
                if let Some(v) = self.hit(&key) {
                    return Ok(v);
                }
                Box::pin(self.load_in_process(m, key.bytes(), load)).await
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => Box::pin(r.get_or_load(key, load, &self.epoch)).await.map(Arc::new),
        }
    }

    /// A miss: joins the load in flight for this key, or starts it. Errors are answered but
    /// not stored; a load that started before an uncache is answered but not stored either.
    async fn load_in_process<F>(&self, m: &Memory, key: Vec<u8>, load: F) -> Result<Arc<CacheValue>, Error>
    where
        F: Future<Output = Result<CacheValue, Error>> + Send,
    {
        m.flights
            .join(&key, || async {
                // A flight that just ended may have stored it.
                if let Some(v) = m.get(&key, Instant::now()) {
                    return Ok(v);
                }
                let start = self.epoch.load(Ordering::Acquire);
                let value = Arc::new(load.await?);
                if self.epoch.load(Ordering::Acquire) == start {
                    let now = Instant::now();
                    let until = now.checked_add(m.ttl).unwrap_or(now);
                    m.map.insert(key.clone(), Entry { until, value: value.clone() });
                    if self.epoch.load(Ordering::Acquire) != start {
                        // An uncache ran between the check and the insert: it may have missed
                        // this entry, so it goes (only this one: a newer load's stays).
                        m.map.remove_if(&key, |e| Arc::ptr_eq(&e.value, &value));
                    }
                }
                Ok(value)
            })
            .await
    }

    fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes one entry.
    pub(crate) async fn remove(&self, key: Key<'_>) {
        self.bump();
        match &self.backend {
            Backend::Off => {}
            Backend::Memory(m) => {
                m.map.remove(key.bytes().as_slice());
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.remove(&key.text()).await,
        }
    }

    /// Removes every entry about `login`: stored password, groups, permissions, tokens.
    pub(crate) async fn remove_user(&self, login: &str) {
        self.bump();
        match &self.backend {
            Backend::Off => {}
            Backend::Memory(m) => {
                // A scan of every entry, shard by shard (uncaching is rare; hits must be cheap).
                let open = bytes_open(Kind::User, login);
                let login_part = open.get(1..).unwrap_or_default();
                m.map.retain(|k, e| !belongs_to(k, &e.value, login, login_part));
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.remove_user(login, "").await,
        }
    }

    /// Removes the cached validations of `login`'s tokens for `realm`.
    pub(crate) async fn remove_user_tokens(&self, login: &str, realm: &str) {
        self.bump();
        match &self.backend {
            Backend::Off => {}
            Backend::Memory(m) => {
                let open = bytes_open(Kind::Token, realm);
                m.map.retain(|k, e| {
                    !(k.starts_with(&open) && matches!(&*e.value, CacheValue::Token(i) if i.login == login))
                });
            }
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.remove_user(login, &format!("t.{}", json_open(realm))).await,
        }
    }

    /// Removes every entry of this app (only this app's prefix on a shared Redis).
    pub(crate) async fn clear(&self) {
        self.bump();
        match &self.backend {
            Backend::Off => {}
            Backend::Memory(m) => m.map.clear(),
            #[cfg(feature = "redis")]
            Backend::Redis(r) => r.clear().await,
        }
    }
}

#[cfg(feature = "redis")]
mod redis_tier {
    //! The Redis backend: bounded calls, outage detection, in-process coalescing of misses.

    use std::future::Future;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    use redis::aio::{ConnectionManager, ConnectionManagerConfig};

    use super::{CacheValue, Flights, Key, Opts, json_array, seconds};
    use crate::config::ConfigError;
    use crate::error::Error;

    /// Keys accepted in `FSA_CACHE_OPTS` with `FSA_CACHE=redis`.
    pub(super) const OPTS: &[&str] =
        &["url", "host", "port", "db", "username", "password", "tls", "ttl", "timeout", "retry"];

    /// Deletes the indexed entries of one login whose key starts with `ARGV[1]` (all when empty).
    const REMOVE_USER: &str = r"
local n = 0
for _, k in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if ARGV[1] == '' or string.sub(k, 1, string.len(ARGV[1])) == ARGV[1] then
    n = n + redis.call('DEL', k)
    redis.call('ZREM', KEYS[1], k)
  end
end
return n
";

    /// The Redis tier (cheap to clone).
    #[derive(Clone)]
    pub(super) struct RedisTier {
        inner: Arc<Inner>,
    }

    struct Inner {
        client: redis::Client,
        manager: Mutex<Option<ConnectionManager>>,
        prefix: String,
        ttl_ms: u64,
        timeout: Duration,
        retry: Duration,
        started: Instant,
        /// Whether the last call failed (the outage is logged once, on the transition).
        down: AtomicBool,
        /// While down, Redis is skipped until this many milliseconds after `started`.
        retry_at: AtomicU64,
        /// An uncache could not reach Redis: clear the app's entries once it is back.
        missed_uncache: AtomicBool,
        /// Outages seen (each logged once).
        outages: AtomicU64,
        flights: Flights<String, CacheValue>,
        remove_user: redis::Script,
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn text(opts: &Opts, name: &str) -> Result<Option<String>, ConfigError> {
        match opts.table.get(name) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Integer(i)) => Ok(Some(i.to_string())),
            Some(v) => Err(ConfigError(format!("FSA_CACHE_OPTS {name} must be a string, got {v}"))),
        }
    }

    /// The connection URL from `url` or `host`/`port`/`db`/`username`/`password`/`tls`.
    fn url(opts: &Opts) -> Result<String, ConfigError> {
        if let Some(u) = text(opts, "url")? {
            return Ok(u);
        }
        let tls = match opts.table.get("tls") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(v) => return Err(ConfigError(format!("FSA_CACHE_OPTS tls must be a boolean, got {v}"))),
        };
        let host = text(opts, "host")?.unwrap_or_else(|| "127.0.0.1".into());
        let port = text(opts, "port")?.unwrap_or_else(|| "6379".into());
        let db = text(opts, "db")?.unwrap_or_else(|| "0".into());
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let auth = match (text(opts, "username")?, text(opts, "password")?) {
            (None, None) => String::new(),
            (u, p) => format!("{}:{}@", enc(&u.unwrap_or_default()), enc(&p.unwrap_or_default())),
        };
        let scheme = if tls { "rediss" } else { "redis" };
        Ok(format!("{scheme}://{auth}{host}:{port}/{db}"))
    }

    /// Escapes Redis glob characters.
    fn glob_escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out
    }

    impl RedisTier {
        pub(super) fn new(opts: &Opts, prefix: String) -> Result<Self, ConfigError> {
            let url = url(opts)?;
            let client = redis::Client::open(url.as_str())
                .map_err(|e| ConfigError(format!("invalid redis cache options (FSA_CACHE_OPTS): {e}")))?;
            let timeout = match opts.table.get("timeout") {
                Some(v) => seconds("timeout", v)?,
                None => Duration::from_millis(500),
            };
            let retry = match opts.table.get("retry") {
                Some(v) => seconds("retry", v)?,
                None => Duration::from_secs(1),
            };
            Ok(RedisTier {
                inner: Arc::new(Inner {
                    client,
                    manager: Mutex::new(None),
                    prefix,
                    ttl_ms: (opts.ttl.as_millis() as u64).max(1),
                    timeout,
                    retry,
                    started: Instant::now(),
                    down: AtomicBool::new(false),
                    retry_at: AtomicU64::new(0),
                    missed_uncache: AtomicBool::new(false),
                    outages: AtomicU64::new(0),
                    flights: Flights::default(),
                    remove_user: redis::Script::new(REMOVE_USER),
                }),
            })
        }

        fn full(&self, text: &str) -> String {
            format!("{}{text}", self.inner.prefix)
        }

        fn index(&self, login: &str) -> String {
            format!("{}x.{}", self.inner.prefix, json_array(&[Some(login)]))
        }

        fn now_ms(&self) -> u64 {
            self.inner.started.elapsed().as_millis() as u64
        }

        /// The connection, or `None` while Redis is known to be down (before the next probe).
        fn connection(&self) -> Option<ConnectionManager> {
            let inner = &*self.inner;
            if inner.down.load(Ordering::Acquire) && self.now_ms() < inner.retry_at.load(Ordering::Acquire) {
                return None;
            }
            let mut guard = lock(&inner.manager);
            if guard.is_none() {
                // Lazy: created on first use, inside the runtime; connects in the background.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(inner.timeout))
                    .set_response_timeout(Some(inner.timeout))
                    .set_number_of_retries(1)
                    .set_min_delay(Duration::from_millis(50))
                    .set_max_delay(inner.retry);
                match ConnectionManager::new_lazy_with_config(inner.client.clone(), config) {
                    Ok(m) => *guard = Some(m),
                    Err(e) => {
                        drop(guard);
                        self.failed(&e.to_string());
                        return None;
                    }
                }
            }
            guard.clone()
        }

        fn failed(&self, why: &str) {
            let inner = &*self.inner;
            inner.retry_at.store(self.now_ms() + inner.retry.as_millis() as u64, Ordering::Release);
            if !inner.down.swap(true, Ordering::AcqRel) {
                inner.outages.fetch_add(1, Ordering::AcqRel);
                tracing::warn!(
                    "redis cache unavailable ({why}): calling hooks directly, retrying every {:?}",
                    inner.retry
                );
            }
        }

        fn succeeded(&self) {
            let inner = &*self.inner;
            if inner.down.load(Ordering::Acquire) && inner.down.swap(false, Ordering::AcqRel) {
                tracing::info!("redis cache is available again");
                if inner.missed_uncache.swap(false, Ordering::AcqRel) {
                    tracing::warn!("uncache requests were lost during the redis outage: clearing this app's entries");
                    let me = self.clone();
                    tokio::spawn(async move { me.clear().await });
                }
            }
        }

        /// Runs one bounded call; `None` on any failure (recorded as an outage).
        async fn run<T, Fut>(&self, call: impl FnOnce(ConnectionManager) -> Fut) -> Option<T>
        where
            Fut: Future<Output = redis::RedisResult<T>>,
        {
            let conn = self.connection()?;
            match tokio::time::timeout(self.inner.timeout, call(conn)).await {
                Ok(Ok(v)) => {
                    self.succeeded();
                    Some(v)
                }
                Ok(Err(e)) => {
                    self.failed(&e.to_string());
                    None
                }
                Err(_) => {
                    self.failed("timed out");
                    None
                }
            }
        }

        /// An uncache call: remembers when it could not reach Redis.
        async fn run_uncache<T, Fut>(&self, call: impl FnOnce(ConnectionManager) -> Fut)
        where
            Fut: Future<Output = redis::RedisResult<T>>,
        {
            if self.run(call).await.is_none() {
                self.inner.missed_uncache.store(true, Ordering::Release);
            }
        }

        async fn get(&self, full: &str) -> Option<CacheValue> {
            let cmd = redis::cmd("GET").arg(full).to_owned();
            let raw: Option<String> = self.run(|mut c| async move { cmd.query_async(&mut c).await }).await?;
            raw.and_then(|r| serde_json::from_str(&r).ok())
        }

        async fn set(&self, full: &str, value: &CacheValue, login: Option<&str>) {
            let Ok(json) = serde_json::to_string(value) else { return };
            let ttl = self.inner.ttl_ms;
            let mut pipe = redis::pipe();
            pipe.atomic().cmd("SET").arg(full).arg(json).arg("PX").arg(ttl).ignore();
            if let Some(login) = login {
                // The login's index: a sorted set of its keys scored by expiry (ms since the
                // epoch); members expired for over a minute (clock skew margin) are pruned.
                let index = self.index(login);
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or_default();
                pipe.cmd("ZADD").arg(&index).arg(now + ttl).arg(full).ignore();
                pipe.cmd("ZREMRANGEBYSCORE").arg(&index).arg("-inf").arg(now.saturating_sub(60_000)).ignore();
                pipe.cmd("PEXPIRE").arg(&index).arg(ttl + 60_000).ignore();
            }
            let _: Option<()> = self.run(|mut c| async move { pipe.query_async(&mut c).await }).await;
        }

        pub(super) async fn get_or_load<F>(&self, key: Key<'_>, load: F, epoch: &AtomicU64) -> Result<CacheValue, Error>
        where
            F: Future<Output = Result<CacheValue, Error>> + Send,
        {
            let full = self.full(&key.text());
            if let Some(v) = self.get(&full).await {
                return Ok(v);
            }
            self.inner
                .flights
                .join(&full, || async {
                    // A flight that just ended may have stored it.
                    if let Some(v) = self.get(&full).await {
                        return Ok(v);
                    }
                    let start = epoch.load(Ordering::Acquire);
                    let value = load.await?;
                    if epoch.load(Ordering::Acquire) == start {
                        let login = key.login().or(value.owner());
                        self.set(&full, &value, login).await;
                    }
                    Ok(value)
                })
                .await
        }

        pub(super) async fn remove(&self, text: &str) {
            let cmd = redis::cmd("DEL").arg(self.full(text)).to_owned();
            self.run_uncache(|mut c| async move { cmd.query_async::<i64>(&mut c).await }).await;
        }

        /// Deletes the entries indexed under `login` whose key (without prefix) starts with `only`.
        pub(super) async fn remove_user(&self, login: &str, only: &str) {
            let mut inv = self.inner.remove_user.prepare_invoke();
            inv.key(self.index(login)).arg(if only.is_empty() { String::new() } else { self.full(only) });
            self.run_uncache(|mut c| async move { inv.invoke_async::<i64>(&mut c).await }).await;
        }

        /// Deletes every key of this app's prefix (entries and per-login indexes).
        pub(super) async fn clear(&self) {
            let pattern = format!("{}[ucptx].*", glob_escape(&self.inner.prefix));
            let mut cursor: u64 = 0;
            loop {
                let cmd = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).to_owned();
                let Some((next, keys)) =
                    self.run(|mut c| async move { cmd.query_async::<(u64, Vec<String>)>(&mut c).await }).await
                else {
                    self.inner.missed_uncache.store(true, Ordering::Release);
                    return;
                };
                if !keys.is_empty() {
                    let cmd = redis::cmd("UNLINK").arg(keys).to_owned();
                    self.run_uncache(|mut c| async move { cmd.query_async::<i64>(&mut c).await }).await;
                }
                if next == 0 {
                    return;
                }
                cursor = next;
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn an_outage_is_reported_once_and_requests_are_answered() {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let config = crate::config::Config {
                cache: "redis".into(),
                cache_opts: [
                    ("url".to_owned(), toml::Value::String(format!("redis://127.0.0.1:{port}/0"))),
                    ("timeout".to_owned(), toml::Value::Float(0.2)),
                    ("retry".to_owned(), toml::Value::Float(0.01)),
                ]
                .into(),
                ..Default::default()
            };
            let tier = RedisTier::new(&Opts::new(&config, Some(OPTS)).unwrap(), "t:".into()).unwrap();
            let epoch = AtomicU64::new(0);
            let admin = crate::app::Group::from("admin");
            for i in 0..20 {
                let v =
                    tier.get_or_load(Key::group("calvin", &admin), async { Ok(CacheValue::Bool(i % 2 == 0)) }, &epoch);
                assert_eq!(v.await.unwrap(), CacheValue::Bool(i % 2 == 0), "the loader answers while redis is down");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tier.remove_user("calvin", "").await;
            assert!(tier.inner.down.load(Ordering::Acquire));
            assert_eq!(tier.inner.outages.load(Ordering::Acquire), 1, "one outage, however many probes");
            assert!(tier.inner.missed_uncache.load(Ordering::Acquire), "a lost uncache is remembered");
        }
    }
}

/// In-process cache of successful password checks (see the module documentation).
pub(crate) struct PasswordCache {
    key: [u8; 16],
    ttl: Duration,
    entries: Option<quick_cache::sync::Cache<String, Arc<Proof>>>,
}

/// The last successful check of one login.
struct Proof {
    until: Instant,
    /// The stored hash it was checked against.
    hash: Box<str>,
    /// Keyed hash of login and password (SipHash-2-4, 128 bits).
    mac: [u64; 2],
}

impl PasswordCache {
    /// Enabled by `FSA_CACHE_PASSWORDS` unless `FSA_CACHE=none`; entries live `ttl`.
    pub(crate) fn new(config: &Config, ttl: Duration) -> Self {
        let mut key = [0u8; 16];
        let ok = getrandom::fill(&mut key).is_ok();
        let enabled = config.cache_passwords && config.cache != "none" && ok;
        let size = usize::try_from(config.cache_size).unwrap_or(usize::MAX);
        PasswordCache { key, ttl, entries: enabled.then(|| quick_cache::sync::Cache::new(size)) }
    }

    /// SipHash-2-4 with 128-bit output, under the process's random key, of login and password,
    /// each after its length (so that no login/password split can forge another's input).
    fn mac(&self, login: &str, password: &str) -> [u64; 2] {
        use siphasher::sip128::{Hasher128, SipHasher24};
        use std::hash::Hasher;
        let mut h = SipHasher24::new_with_key(&self.key);
        for part in [login, password] {
            h.write(&(part.len() as u64).to_le_bytes());
            h.write(part.as_bytes());
        }
        let m = h.finish128();
        [m.h1, m.h2]
    }

    /// Whether this exact login, password and stored hash were verified recently.
    pub(crate) fn hit(&self, login: &str, password: &str, hash: &str) -> bool {
        use subtle::ConstantTimeEq;
        let Some(entries) = &self.entries else { return false };
        let Some(proof) = entries.get(login) else { return false };
        let now = Instant::now();
        if now >= proof.until {
            entries.remove_if(login, |p| p.until <= now);
            return false;
        }
        let mac = self.mac(login, password);
        // Compared a word at a time: a byte-wise constant-time compare costs one optimisation
        // barrier per byte.
        *proof.hash == *hash && bool::from(proof.mac[0].ct_eq(&mac[0]) & proof.mac[1].ct_eq(&mac[1]))
    }

    /// Records a successful verification (one entry per login: the last one).
    pub(crate) fn store(&self, login: &str, password: &str, hash: &str) {
        if let Some(entries) = &self.entries {
            let now = Instant::now();
            let until = now.checked_add(self.ttl).unwrap_or(now);
            let proof = Proof { until, hash: hash.into(), mac: self.mac(login, password) };
            entries.insert(login.to_owned(), Arc::new(proof));
        }
    }

    /// Forgets `login`'s verification.
    pub(crate) fn remove(&self, login: &str) {
        if let Some(entries) = &self.entries {
            entries.remove(login);
        }
    }

    /// Forgets every verification.
    pub(crate) fn clear(&self) {
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn token(login: &str) -> CacheValue {
        CacheValue::Token(TokenInfo { login: login.into(), exp: i64::MAX / 2, scopes: None })
    }

    async fn load(cache: &Cache, key: Key<'_>, value: CacheValue, calls: &AtomicUsize) -> CacheValue {
        let v = cache
            .get_or_load(key, async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            })
            .await
            .unwrap();
        (*v).clone()
    }

    #[tokio::test]
    async fn long_logins_and_ids_are_not_kept() {
        let cache = Cache::new(&Config::default()).unwrap();
        let calls = AtomicUsize::new(0);
        let n = || calls.load(Ordering::SeqCst);
        let (long, longest) = ("x".repeat(CLIENT_PART_MAX + 1), "x".repeat(CLIENT_PART_MAX));
        for _ in 0..2 {
            load(&cache, Key::user_pass(&long), CacheValue::Bool(false), &calls).await;
            load(&cache, Key::perm("stuff", "calvin", &long, None), CacheValue::Bool(true), &calls).await;
        }
        assert_eq!(n(), 4, "each asked its hook");
        assert!(cache.hit(&Key::user_pass(&long)).is_none());
        for _ in 0..2 {
            load(&cache, Key::user_pass(&longest), CacheValue::Bool(false), &calls).await;
            load(&cache, Key::perm("stuff", "calvin", &longest, None), CacheValue::Bool(true), &calls).await;
        }
        assert_eq!(n(), 6, "kept up to the bound");
    }

    /// The thread's key buffer does not keep the size of an oversized key.
    #[test]
    fn the_key_buffer_lets_go_of_a_long_key() {
        let capacity = || KEY_BUFFER.with(|b| b.borrow().capacity());
        let long = "x".repeat(1 << 20);
        assert!(Key::user_pass(&long).with_bytes(|k| k.len()) > long.len());
        assert!(capacity() <= KEY_BUFFER_KEPT, "{}", capacity());
        Key::token("t1", "r").with_bytes(|_| ());
        assert!(capacity() > 0, "a short key's buffer stays");
    }

    #[tokio::test]
    async fn memory_token_entries_follow_their_login() {
        let cache = Cache::new(&Config::default()).unwrap();
        let calls = AtomicUsize::new(0);
        let n = || calls.load(Ordering::SeqCst);
        assert_eq!(load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await, token("calvin"));
        load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await;
        load(&cache, Key::token("t2", "r"), token("susie"), &calls).await;
        assert_eq!(n(), 2);
        cache.remove_user_tokens("calvin", "other").await;
        cache.remove_user_tokens("susie", "r").await;
        load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await;
        assert_eq!(n(), 2, "other realm or other login: kept");
        cache.remove_user_tokens("calvin", "r").await;
        load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await;
        assert_eq!(n(), 3);
        cache.remove_user("calvin").await;
        load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await;
        assert_eq!(n(), 4, "auth_uncache drops the user's token validations");
        cache.remove(Key::token("t1", "r")).await;
        load(&cache, Key::token("t1", "r"), token("calvin"), &calls).await;
        assert_eq!(n(), 5);
    }

    #[tokio::test]
    async fn flights_coalesce_and_survive_dropped_callers() {
        let flights = Flights::<String, u32>::default();
        let key = "k".to_owned();
        let calls = AtomicUsize::new(0);
        let in_map = |f: &Flights<String, u32>| f.lock().len();
        // A lone caller dropped in the middle of its load leaves nothing behind.
        let mut lone = Box::pin(flights.join(&key, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<Result<u32, Error>>().await
        }));
        assert!(futures_util::poll!(lone.as_mut()).is_pending());
        assert_eq!(in_map(&flights), 1);
        drop(lone);
        assert_eq!(in_map(&flights), 0, "an abandoned flight leaves the map");
        // The caller running the load is dropped while another waits: the waiter takes the
        // load over, and a caller arriving meanwhile shares it.
        let (_tx1, rx1) = tokio::sync::oneshot::channel::<u32>();
        let (tx2, rx2) = tokio::sync::oneshot::channel::<u32>();
        let pending_load = |rx: tokio::sync::oneshot::Receiver<u32>| {
            let calls = &calls;
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                rx.await.map_err(|_| Error::internal("closed"))
            }
        };
        let mut first = Box::pin(flights.join(&key, pending_load(rx1)));
        assert!(futures_util::poll!(first.as_mut()).is_pending());
        let mut second = Box::pin(flights.join(&key, pending_load(rx2)));
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the second caller waits for the first's load");
        drop(first);
        assert_eq!(in_map(&flights), 1, "a flight with a caller left stays");
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "the second caller took the load over");
        let mut third = Box::pin(flights.join(&key, || async { Ok(3) }));
        assert!(futures_util::poll!(third.as_mut()).is_pending(), "the third caller waits for the second's load");
        tx2.send(2).unwrap();
        assert_eq!(second.await.unwrap(), 2);
        assert_eq!(third.await.unwrap(), 2, "answered by the load it joined");
        assert_eq!(in_map(&flights), 0, "an answered flight leaves the map");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_load_that_never_ends_is_shared_for_a_while_only() {
        let flights = Flights::<String, u32>::default();
        let key = "k".to_owned();
        let calls = AtomicUsize::new(0);
        let count = || calls.fetch_add(1, Ordering::SeqCst);
        let mut hung = Box::pin(flights.join(&key, || async {
            count();
            std::future::pending::<Result<u32, Error>>().await
        }));
        assert!(futures_util::poll!(hung.as_mut()).is_pending());
        // Two callers wait for the hung load until FLIGHT_SHARED_FOR after it started; then the
        // first of them to wake calls the hook in a new flight, which the other joins.
        let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
        let mut second = Box::pin(flights.join(&key, || async {
            count();
            rx.await.map_err(|_| Error::internal("closed"))
        }));
        let mut third = Box::pin(flights.join(&key, || async {
            count();
            Ok(3)
        }));
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert!(futures_util::poll!(third.as_mut()).is_pending());
        tokio::time::advance(FLIGHT_SHARED_FOR - Duration::from_millis(1)).await;
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert!(futures_util::poll!(third.as_mut()).is_pending());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "they wait for the first load");
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(futures_util::poll!(second.as_mut()).is_pending());
        assert!(futures_util::poll!(third.as_mut()).is_pending());
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one new load, the other caller joins it");
        tx.send(2).unwrap();
        assert_eq!(second.await.unwrap(), 2);
        assert_eq!(third.await.unwrap(), 2);
        // A later caller starts afresh, and the hung load still runs for its own caller.
        let fourth = flights.join(&key, || async {
            count();
            Ok(4)
        });
        assert_eq!(fourth.await.unwrap(), 4);
        assert!(futures_util::poll!(hung.as_mut()).is_pending());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(flights.lock().len(), 0, "the hung flight left the map when it was replaced");
        drop(hung);
        assert_eq!(flights.lock().len(), 0);
    }

    #[tokio::test]
    async fn a_load_racing_with_an_uncache_is_not_stored() {
        let cache = Arc::new(Cache::new(&Config::default()).unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let c = cache.clone();
        let slow = tokio::spawn(async move {
            c.get_or_load(Key::user_pass("calvin"), async {
                let _ = started_tx.send(());
                let _ = rx.await;
                Ok(CacheValue::Pass(Some("old hash".into())))
            })
            .await
        });
        started.await.unwrap();
        cache.remove_user("calvin").await;
        let _ = tx.send(());
        assert_eq!(*slow.await.unwrap().unwrap(), CacheValue::Pass(Some("old hash".into())));
        let calls = AtomicUsize::new(0);
        let v = load(&cache, Key::user_pass("calvin"), CacheValue::Pass(Some("new hash".into())), &calls).await;
        assert_eq!(v, CacheValue::Pass(Some("new hash".into())), "the old value loaded during the uncache was dropped");
    }

    #[test]
    fn a_password_proof_needs_both_words_and_keeps_login_and_password_apart() {
        let pc = PasswordCache::new(&Config::default(), Duration::from_secs(60));
        assert_ne!(pc.mac("ab", "c"), pc.mac("a", "bc"), "the lengths keep login and password apart");
        let entries = pc.entries.as_ref().expect("enabled by default");
        let until = Instant::now() + Duration::from_secs(60);
        let right = pc.mac("calvin", "hobbes");
        for (flip, hits) in [([1, 0], false), ([0, 1 << 63], false), ([0, 0], true)] {
            let mac = [right[0] ^ flip[0], right[1] ^ flip[1]];
            entries.insert("calvin".into(), Arc::new(Proof { until, hash: "h1".into(), mac }));
            assert_eq!(pc.hit("calvin", "hobbes", "h1"), hits, "{flip:?}");
        }
    }

    #[test]
    fn password_cache_needs_same_login_password_and_hash() {
        let pc = PasswordCache::new(&Config::default(), Duration::from_secs(60));
        assert!(!pc.hit("calvin", "hobbes", "h1"));
        pc.store("calvin", "hobbes", "h1");
        assert!(pc.hit("calvin", "hobbes", "h1"));
        assert!(!pc.hit("calvin", "hobbes", "h2"), "another stored hash misses");
        assert!(!pc.hit("calvin", "tiger", "h1"));
        assert!(!pc.hit("susie", "hobbes", "h1"));
        pc.remove("susie");
        assert!(pc.hit("calvin", "hobbes", "h1"));
        pc.remove("calvin");
        assert!(!pc.hit("calvin", "hobbes", "h1"));
        pc.store("calvin", "hobbes", "h1");
        pc.clear();
        assert!(!pc.hit("calvin", "hobbes", "h1"));
        let off = Config { cache_passwords: false, ..Config::default() };
        let pc = PasswordCache::new(&off, Duration::from_secs(60));
        pc.store("calvin", "hobbes", "h1");
        assert!(!pc.hit("calvin", "hobbes", "h1"));
    }

    #[test]
    fn an_expired_entry_is_a_miss_and_is_removed() {
        let m = Memory::new(64, Duration::from_secs(60));
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        m.map.insert(b"old".to_vec(), Entry { until: now, value: Arc::new(CacheValue::Bool(true)) });
        m.map.insert(b"new".to_vec(), Entry { until: later, value: Arc::new(CacheValue::Bool(false)) });
        assert_eq!(m.get(b"old", now).as_deref(), None, "expires at `until`");
        assert!(m.map.get(b"old".as_slice()).is_none(), "and is removed");
        assert_eq!(m.get(b"new", now).as_deref(), Some(&CacheValue::Bool(false)));
        assert_eq!(m.get(b"new", later).as_deref(), None);
        assert!(m.map.is_empty());
    }

    #[tokio::test]
    async fn entries_live_the_ttl() {
        let config = Config { cache_opts: [("ttl".to_owned(), toml::Value::Integer(60))].into(), ..Config::default() };
        let cache = Cache::new(&config).unwrap();
        let calls = AtomicUsize::new(0);
        load(&cache, Key::user_pass("calvin"), CacheValue::Pass(None), &calls).await;
        let Backend::Memory(m) = &cache.backend else { panic!("in process by default") };
        let key = Key::user_pass("calvin").bytes();
        let start = Instant::now();
        assert!(m.get(&key, start).is_some());
        assert!(m.get(&key, start + Duration::from_secs(61)).is_none(), "gone after the ttl");
        load(&cache, Key::user_pass("calvin"), CacheValue::Pass(None), &calls).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "loaded again");
    }

    #[test]
    fn password_checks_expire() {
        let pc = PasswordCache::new(&Config::default(), Duration::ZERO);
        pc.store("calvin", "hobbes", "h1");
        assert!(!pc.hit("calvin", "hobbes", "h1"), "an entry whose ttl passed is a miss");
    }

    #[test]
    fn keys_are_the_json_of_their_parts() {
        let tricky = ["calvin", "", "a\"b", "back\\slash", "tab\there", "nl\n", "\u{1}", "\u{7f}", "é☃", "null", "1"];
        for a in tricky {
            for b in tricky {
                let json = |tag: &str, parts: &[Option<&str>]| format!("{tag}{}", json_array(parts));
                let perm = Key::perm(b, a, b, Some(a));
                assert_eq!(perm.text(), json("p.", &[Some(a), Some(b), Some(b), Some(a)]));
                assert_eq!(perm.with_bytes(<[u8]>::to_vec), perm.bytes(), "the lookup writes the same key");
                assert_eq!(Key::perm(b, a, a, None).text(), json("p.", &[Some(a), Some(b), Some(a), None]));
                assert_eq!(Key::token(b, a).text(), json("t.", &[Some(a), Some(b)]));
                assert_eq!(Key::token_of(b, a, "tag").text(), json("t.", &[Some(a), Some(b), Some("tag")]));
                assert_eq!(Key::user_pass(a).text(), json("u.", &[Some(a)]));
                let group = crate::app::Group::from(b);
                assert_eq!(Key::group(a, &group).text(), json("c.", &[Some(a), Some(b)]));
            }
        }
        let group = crate::app::Group::Id(-42);
        assert_eq!(Key::group("calvin", &group).text(), "c.[\"calvin\",-42]");
    }

    #[test]
    fn keys_cannot_collide_across_fields() {
        assert_ne!(
            Key::group("a\",\"b", &crate::app::Group::from("c")).text(),
            Key::group("a", &crate::app::Group::from("b\",\"c")).text()
        );
        assert_ne!(Key::perm("d", "u", "1", None).text(), Key::perm("d", "u", "1", Some("null")).text());
        // The in-process form: distinct parts, distinct keys, however the parts are cut.
        let tricky = ["", "a", "ab", "b", "s", "n", "i", "\0", "a\u{1}\u{0}\u{0}\u{0}sb", "null", "1"];
        let mut seen = std::collections::HashSet::new();
        let admin = crate::app::Group::from("admin");
        let id = crate::app::Group::Id(7);
        for a in tricky {
            assert!(seen.insert(Key::user_pass(a).bytes()));
            for b in tricky {
                let group = crate::app::Group::from(b);
                let keys = [
                    Key::group(a, &group),
                    Key::perm(a, b, a, None),
                    Key::perm(a, b, a, Some(b)),
                    Key::token(a, b),
                    Key::token_of(a, b, "tag"),
                ];
                for key in keys {
                    assert!(seen.insert(key.bytes()), "{key:?}");
                }
            }
            assert!(seen.insert(Key::group(a, &id).bytes()));
        }
        let v = CacheValue::Bool(true);
        let open = bytes_open(Kind::User, "calvin");
        let of_calvin = |key: Key<'_>| belongs_to(&key.bytes(), &v, "calvin", &open[1..]);
        assert!(of_calvin(Key::group("calvin", &admin)));
        assert!(of_calvin(Key::user_pass("calvin")));
        assert!(!of_calvin(Key::group("calvin2", &admin)));
        assert!(!of_calvin(Key::group("calv", &admin)));
        assert!(of_calvin(Key::perm("d", "calvin", "1", None)));
        assert!(!of_calvin(Key::perm("calvin", "d", "1", None)));
        assert!(!of_calvin(Key::token("calvin", "calvin")));
    }
}
