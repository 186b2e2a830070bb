//! Authentication schemes.
//!
//! `FSA_AUTH` names the enabled schemes (tried in order), a route may restrict them with
//! `auth = …`, and `FSA_AUTH_DEFAULT` gives the schemes of routes that name none. The first
//! scheme yielding a login wins; when none does, the last error raised by a scheme is answered
//! (401 unless a hook chose another status). Schemes: `none`, `basic`, `param`, `password`
//! (basic then param), `token`, `oauth`, `fake` (loopback clients only), `httpd` (a header set
//! by a trusted fronting server) and custom ones ([`AuthScheme`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use compact_str::CompactString;
use http::header;

use crate::app::App;
use crate::cache::{CacheValue, Key};
use crate::config::{Carrier, Config, ConfigError};
use crate::context::{Context, is_loopback_ip};
use crate::error::Error;
use crate::route::BoxFuture;

/// One authentication scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Nothing to authenticate: makes OPEN routes open.
    None,
    /// HTTP Basic.
    Basic,
    /// Login and password in request parameters.
    Param,
    /// A token from the configured carrier.
    Token,
    /// A JWT whose scopes are the route's authorizations.
    OAuth,
    /// Login from a request parameter, loopback clients only (tests).
    Fake,
    /// Login set by a trusted fronting web server in a header.
    Httpd,
    /// A registered custom scheme.
    Custom(String),
}

impl Scheme {
    /// The scheme's name.
    pub fn name(&self) -> &str {
        match self {
            Scheme::None => "none",
            Scheme::Basic => "basic",
            Scheme::Param => "param",
            Scheme::Token => "token",
            Scheme::OAuth => "oauth",
            Scheme::Fake => "fake",
            Scheme::Httpd => "httpd",
            Scheme::Custom(n) => n,
        }
    }
}

/// A custom authentication scheme (upstream `app.authentication(name, hook)`): it inspects the
/// request and returns a login, `None` when it has nothing to say (the next scheme is tried;
/// when none authenticates the answer is a 401), or an error (401 or any status) to answer.
/// An empty login counts as `None`, as upstream's truth test on the login reads it. An error
/// is the answer when no later scheme authenticates the request or gives an error of its own,
/// but for an internal one ([`Error::internal`], a database down), which is the answer at once.
///
/// Three forms are accepted by [`AppBuilder::authentication`](crate::AppBuilder::authentication):
/// - an async closure taking an owned [`AuthRequest`] (the usual form: it may await a
///   database),
/// - a plain closure `Fn(&Context) -> Result<Option<String>>` (cheap header checks),
/// - a type implementing this trait.
///
/// ```
/// use fsa_runtime::{AuthScheme, Context, Error, Result};
/// struct ApiKeys;
/// impl AuthScheme for ApiKeys {
///     async fn authenticate(&self, ctx: &Context) -> Result<Option<String>> {
///         match ctx.headers().get("x-api-key").map(|v| v.as_bytes()) {
///             None => Ok(None),
///             Some(b"secret") => Ok(Some("calvin".into())),
///             Some(_) => Err(Error::unauthorized("invalid api key")),
///         }
///     }
/// }
/// ```
pub trait AuthScheme: Send + Sync + 'static {
    /// Authenticates the request.
    fn authenticate(&self, ctx: &Context) -> impl Future<Output = Result<Option<String>, Error>> + Send;
}

impl<F> AuthScheme for F
where
    F: Fn(&Context) -> Result<Option<String>, Error> + Send + Sync + 'static,
{
    async fn authenticate(&self, ctx: &Context) -> Result<Option<String>, Error> {
        self(ctx)
    }
}

/// What an async custom scheme receives: an owned copy of the request head, the client
/// address and the app.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    /// The method.
    pub method: http::Method,
    /// The URI (path and query).
    pub uri: http::Uri,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The client address (after the client-address hook).
    pub client_ip: Option<IpAddr>,
    /// The TCP peer address.
    pub peer_ip: Option<IpAddr>,
    /// The application (state, tokens, password checks).
    pub app: App,
}

impl AuthRequest {
    fn from_context(ctx: &Context) -> Self {
        AuthRequest {
            method: ctx.method().clone(),
            uri: ctx.uri().clone(),
            headers: ctx.headers().clone(),
            client_ip: ctx.client_ip(),
            peer_ip: ctx.peer_ip(),
            app: ctx.app().clone(),
        }
    }

    /// A header's value as UTF-8 text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// A query-string parameter (first value), decoded as the route's parameters are.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.uri.query()?;
        crate::params::Pairs::parse(q).first(name).map(str::to_owned)
    }

    /// A cookie's value.
    pub fn cookie(&self, name: &str) -> Option<String> {
        cookie_in(&self.headers, name)
    }
}

/// Finds a cookie in `Cookie` headers: UTF-8 values, else Latin-1 ([`utf8_or_latin1`]).
pub(crate) fn cookie_in(headers: &http::HeaderMap, name: &str) -> Option<String> {
    // Each pair on its own, as Werkzeug parses them: a pair that is not UTF-8 hides no other.
    headers.get_all(header::COOKIE).iter().find_map(|line| {
        line.as_bytes().split(|&b| b == b';').find_map(|kv| {
            let kv = kv.trim_ascii();
            let eq = kv.iter().position(|&b| b == b'=')?;
            let (k, v) = (kv[..eq].trim_ascii(), kv[eq + 1..].trim_ascii());
            (k == name.as_bytes()).then(|| utf8_or_latin1(&cookie_unquote(v)).into_owned())
        })
    })
}

/// Whether a byte may stand in a cookie value without quotes, as Werkzeug decides.
fn cookie_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_!#$%&'()*+-./:<=>?@[]^`{|}~".contains(&b)
}

/// A cookie value as Werkzeug writes it: as it is when every byte may stand there, else in
/// double quotes with `"` and `\` escaped by a backslash and the bytes that would end the
/// value or the header (`;`, `,`, control and non-ASCII bytes) as `\ooo` octal escapes, so
/// that no value (a token naming an odd login, say) adds attributes to its cookie.
pub(crate) fn cookie_quote(value: &str) -> std::borrow::Cow<'_, str> {
    if value.bytes().all(cookie_plain) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    out.push('"');
    for b in value.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0..=0x1f | b',' | b';' | 0x7f..=0xff => out.push_str(&format!("\\{b:03o}")),
            _ => out.push(char::from(b)),
        }
    }
    out.push('"');
    std::borrow::Cow::Owned(out)
}

/// A cookie value read back: a quoted one (see [`cookie_quote`]) loses its quotes and
/// escapes, as Werkzeug reads it; any other is as it is.
fn cookie_unquote(value: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let [b'"', inner @ .., b'"'] = value else { return std::borrow::Cow::Borrowed(value) };
    let mut out = Vec::with_capacity(inner.len());
    let mut rest = inner;
    loop {
        rest = match rest {
            [b'\\', a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', tail @ ..] => {
                out.push((a - b'0') * 64 + (b - b'0') * 8 + (c - b'0'));
                tail
            }
            [b'\\', byte, tail @ ..] | [byte, tail @ ..] => {
                out.push(*byte);
                tail
            }
            [] => break,
        };
    }
    std::borrow::Cow::Owned(out)
}

/// A header value's bytes as text: UTF-8 when they are, else Latin-1 (one character per
/// byte), as HTTP's historical charset and Python's `requests` have it for a `str` value.
pub(crate) fn utf8_or_latin1(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Markers telling apart the forms accepted by [`IntoAuthScheme`].
#[doc(hidden)]
pub mod markers {
    /// A type implementing [`AuthScheme`](super::AuthScheme) (including sync closures).
    pub struct ByTrait;
    /// An async closure taking an [`AuthRequest`](super::AuthRequest).
    pub struct ByAsyncFn;
}

/// Anything [`AppBuilder::authentication`](crate::AppBuilder::authentication) accepts as a
/// custom scheme (see [`AuthScheme`]).
pub trait IntoAuthScheme<M>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_dyn(self) -> Arc<dyn DynScheme>;
}

impl<T: AuthScheme> IntoAuthScheme<markers::ByTrait> for T {
    fn into_dyn(self) -> Arc<dyn DynScheme> {
        Arc::new(self)
    }
}

struct AsyncFnScheme<F>(F);

impl<F, Fut> AuthScheme for AsyncFnScheme<F>
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, Error>> + Send + 'static,
{
    fn authenticate(&self, ctx: &Context) -> impl Future<Output = Result<Option<String>, Error>> + Send {
        (self.0)(AuthRequest::from_context(ctx))
    }
}

impl<F, Fut> IntoAuthScheme<markers::ByAsyncFn> for F
where
    F: Fn(AuthRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, Error>> + Send + 'static,
{
    fn into_dyn(self) -> Arc<dyn DynScheme> {
        Arc::new(AsyncFnScheme(self))
    }
}

#[doc(hidden)]
pub trait DynScheme: Send + Sync {
    fn authenticate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Result<Option<String>, Error>>;
}

impl<T: AuthScheme> DynScheme for T {
    fn authenticate<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(AuthScheme::authenticate(self, ctx))
    }
}

/// Registered custom schemes.
#[derive(Default)]
pub(crate) struct SchemeRegistry {
    custom: HashMap<String, Arc<dyn DynScheme>>,
}

impl SchemeRegistry {
    pub(crate) fn register<M>(&mut self, name: &str, scheme: impl IntoAuthScheme<M>) {
        self.custom.insert(name.to_owned(), scheme.into_dyn());
    }

    /// Resolves a scheme name.
    pub(crate) fn resolve(&self, name: &str) -> Result<Vec<Scheme>, ConfigError> {
        Ok(match name {
            "none" => vec![Scheme::None],
            "basic" => vec![Scheme::Basic],
            "param" => vec![Scheme::Param],
            "password" => vec![Scheme::Basic, Scheme::Param],
            "token" => vec![Scheme::Token],
            "oauth" => vec![Scheme::OAuth],
            "fake" => vec![Scheme::Fake],
            "httpd" => vec![Scheme::Httpd],
            other if self.custom.contains_key(other) => vec![Scheme::Custom(other.to_owned())],
            other => return Err(ConfigError(format!("unknown authentication scheme: {other}"))),
        })
    }

    /// Resolves a list of names as upstream does: in order, except that `password` stands for
    /// `basic` and `param` appended at the end; duplicates are dropped.
    pub(crate) fn resolve_list(&self, names: &[impl AsRef<str>]) -> Result<Vec<Scheme>, ConfigError> {
        let mut out = Vec::new();
        let mut password = false;
        for n in names {
            if n.as_ref() == "password" {
                password = true;
                continue;
            }
            out.extend(self.resolve(n.as_ref())?);
        }
        if password {
            out.extend([Scheme::Basic, Scheme::Param]);
        }
        let mut dedup: Vec<Scheme> = Vec::with_capacity(out.len());
        for s in out {
            if !dedup.contains(&s) {
                dedup.push(s);
            }
        }
        Ok(dedup)
    }

    /// The enabled schemes from `FSA_AUTH`, as upstream: a scalar `X` other than `token`,
    /// `oauth` and `none` means `["token", X, "none"]` (tokens first); a list is taken as is.
    /// Token schemes are left out when `FSA_TOKEN_TYPE` is none.
    pub(crate) fn enabled(&self, config: &Config) -> Result<Vec<Scheme>, ConfigError> {
        let mut names: Vec<String> = config.auth.clone();
        if config.auth_is_scalar || names.is_empty() {
            let x = names.pop().unwrap_or_else(|| "httpd".into());
            names = if matches!(x.as_str(), "token" | "oauth" | "none") {
                vec![x]
            } else {
                vec!["token".into(), x, "none".into()]
            };
        }
        let out: Vec<Scheme> = self
            .resolve_list(&names)?
            .into_iter()
            .filter(|s| !(matches!(s, Scheme::Token | Scheme::OAuth) && config.token_type.is_none()))
            .collect();
        if out.contains(&Scheme::Httpd) {
            parse_proxies(&config.trusted_proxies)?;
            if config.trusted_proxies.is_empty() {
                startup_warn!("httpd authentication without FSA_TRUSTED_PROXIES never authenticates");
            }
        }
        Ok(out)
    }
}

/// One `FSA_TRUSTED_PROXIES` entry: an address or a CIDR block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }
}

fn parse_proxies(list: &[String]) -> Result<Vec<Net>, ConfigError> {
    list.iter().map(|p| parse_proxy(p)).collect()
}

/// One `FSA_TRUSTED_PROXIES` entry.
fn parse_proxy(p: &str) -> Result<Net, ConfigError> {
    let bad = || ConfigError(format!("FSA_TRUSTED_PROXIES: not an address or CIDR block: {p}"));
    let (addr, prefix) = match p.split_once('/') {
        Some((a, n)) => {
            (a.trim().parse::<IpAddr>().map_err(|_| bad())?, Some(n.trim().parse::<u8>().map_err(|_| bad())?))
        }
        None => (p.trim().parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    if prefix > max {
        return Err(bad());
    }
    Ok(Net { addr, prefix })
}

/// The `FSA_TRUSTED_PROXIES` that parse, read once when the app is built. An entry that is
/// neither an address nor a CIDR block matches nothing (it is a configuration error when the
/// `httpd` scheme is enabled, checked by [`SchemeRegistry::enabled`]).
pub(crate) fn trusted_proxies(list: &[String]) -> Vec<Net> {
    list.iter().filter_map(|p| parse_proxy(p).ok()).collect()
}

/// A header's text; a `HeaderName` (`&header::AUTHORIZATION`) is looked up without parsing.
fn header_text(ctx: &Context, name: impl header::AsHeaderName) -> Option<&str> {
    ctx.headers().get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// A credentials header's text, its bytes that are not UTF-8 replaced by U+FFFD: such a
/// header is there, and fails as credentials that do not decode, not as missing ones. The
/// usual UTF-8 header is checked by `str::from_utf8` alone: `String::from_utf8_lossy` walks
/// it chunk by chunk, about 0.35k instructions more on a token request (callgrind).
fn credentials_text(ctx: &Context, name: impl header::AsHeaderName) -> Option<Cow<'_, str>> {
    let bytes = ctx.headers().get(name)?.as_bytes();
    Some(std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed))
}

/// The part of `text` that `part` picks, still borrowed when `text` was.
fn sub_text<'a>(text: Cow<'a, str>, part: impl FnOnce(&str) -> Option<&str>) -> Option<Cow<'a, str>> {
    match text {
        Cow::Borrowed(t) => part(t).map(Cow::Borrowed),
        Cow::Owned(t) => part(&t).map(|p| Cow::Owned(p.to_owned())),
    }
}

impl Context {
    /// Tries the schemes in order; sets the user on success.
    pub(crate) async fn authenticate(&mut self, schemes: &[crate::authn::Scheme]) -> Result<(), Error> {
        self.auth.attempted = true;
        let mut last: Option<Error> = None;
        for scheme in schemes {
            match self.try_scheme(scheme).await {
                Ok(Some(login)) if !login.is_empty() => {
                    self.auth.user = Some(login);
                    self.auth.scheme = Some(scheme.clone());
                    return Ok(());
                }
                // An empty login authenticates nobody, as upstream's truth test on the login
                // reads it (a signed token for "", a custom scheme's `Some("")`): that scheme
                // had nothing to say.
                Ok(_) => {}
                // An internal error (a hook's database down) ends it at once, as an exception
                // other than `ErrorResponse` does upstream: a later scheme's "missing token"
                // would make an outage look like bad credentials.
                Err(e) if e.is_internal() => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::unauthorized("missing authentication")))
    }

    async fn try_scheme(&mut self, scheme: &Scheme) -> Result<Option<CompactString>, Error> {
        let app = self.app.clone();
        let config = &app.inner.config;
        match scheme {
            Scheme::None => Ok(None),
            Scheme::Basic => {
                let value = credentials_text(self, &header::AUTHORIZATION)
                    .ok_or_else(|| Error::unauthorized("missing authorization header"))?;
                let Some(encoded) = value.strip_prefix("Basic ") else {
                    return Err(Error::unauthorized("unexpected Authorization header"));
                };
                let decoding = || Error::unauthorized("decoding error on authorization header");
                let encoded = encoded.trim();
                // Usual credentials decode on the stack; longer ones into a vector.
                let mut short = [0u8; 96];
                let long;
                let raw: &[u8] = if encoded.len() <= 128 {
                    let n = base64::engine::general_purpose::STANDARD
                        .decode_slice(encoded, &mut short)
                        .map_err(|_| decoding())?;
                    short.get(..n).unwrap_or_default()
                } else {
                    long = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| decoding())?;
                    &long
                };
                let text = std::str::from_utf8(raw).map_err(|_| decoding())?;
                let (login, password) = text.split_once(':').ok_or_else(decoding)?;
                app.check_user_password(login, password).await.map(|()| Some(login.into()))
            }
            Scheme::Param => {
                self.read_params().await;
                let (pu, pp) = (&config.param_user, &config.param_pass);
                let login = self.params().request_text(pu).map(|c| c.into_owned()).filter(|l| !l.is_empty());
                let Some(login) = login else {
                    return Err(Error::unauthorized(format!("missing param login parameter: {pu}")));
                };
                let password = self.params().request_text(pp).map(|c| c.into_owned()).filter(|p| !p.is_empty());
                let Some(password) = password else {
                    return Err(Error::unauthorized(format!("missing param password parameter: {pp}")));
                };
                app.check_user_password(&login, &password).await.map(|()| Some(login.into()))
            }
            Scheme::Fake => {
                // Whatever the configuration or client-address hook says, the TCP peer itself
                // must be local: fake authentication trusts a request parameter.
                if !self.peer_ip().is_some_and(is_loopback_ip) || !self.is_loopback() {
                    return Ok(None);
                }
                self.read_params().await;
                let name = &config.fake_login;
                match self.params().request_text(name) {
                    Some(l) if !l.is_empty() => Ok(Some(l.into())),
                    _ => Err(Error::unauthorized(format!("missing fake login parameter: {name}"))),
                }
            }
            Scheme::Httpd => {
                // Only the TCP peer counts: forwarded headers could be forged by anybody.
                let trusted = self.peer_ip().is_some_and(|ip| app.inner.trusted_proxies.iter().any(|n| n.contains(ip)));
                if !trusted {
                    return Ok(None);
                }
                Ok(header_text(self, config.httpd_header.as_str())
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(CompactString::from))
            }
            Scheme::Token | Scheme::OAuth => self.token_scheme().await,
            Scheme::Custom(name) => match app.inner.schemes.custom.get(name) {
                Some(s) => s.authenticate(self).await.map(|login| login.map(CompactString::from)),
                None => Err(Error::internal(format!("unknown scheme {name}"))),
            },
        }
    }

    async fn token_scheme(&mut self) -> Result<Option<CompactString>, Error> {
        let app = self.app.clone();
        let config = &app.inner.config;
        let name = config.token_name();
        // Borrowed from the request headers when it can be: a cache hit then copies nothing.
        let token: Option<std::borrow::Cow<'_, str>> = match config.token_carrier {
            // Exactly one space after the name, the rest as is (as FlaskSimpleAuth reads it):
            // `Bearer  <token>` carries a token that starts with a space, which fails.
            Carrier::Bearer => credentials_text(self, &header::AUTHORIZATION)
                .and_then(|v| sub_text(v, |v| v.strip_prefix(name)?.strip_prefix(' '))),
            Carrier::Header => credentials_text(self, name).and_then(|t| sub_text(t, |t| Some(t.trim()))),
            Carrier::Cookie => self.cookie(name).map(Into::into),
            Carrier::Param => {
                self.read_params().await;
                self.params().request_text(name)
            }
        };
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(Error::unauthorized("missing token"));
        };
        let realm = self.token_realm();
        let value = app.validated_token(&app.inner.tokens, Key::token(&token, realm), &token, realm).await?;
        let info = value.token_info()?;
        self.auth.scopes = info.scopes.clone().unwrap_or_default();
        if config.token_carrier == Carrier::Cookie {
            self.auth.cookie_token = Some(info.clone());
        }
        Ok(Some(info.login.as_str().into()))
    }
}

impl App {
    /// Validates a token through the app's token cache under `key`, then checks its expiry
    /// (on every call: a cached validation may have outlived its token). The validation
    /// depends only on the token, the realm and the configuration, so a cached one is the
    /// same answer. The value is a [`CacheValue::Token`].
    pub(crate) async fn validated_token(
        &self,
        tokens: &crate::token::Tokens,
        key: Key<'_>,
        token: &str,
        realm: &str,
    ) -> Result<Arc<CacheValue>, Error> {
        let cache = &self.inner.cache;
        let value = match cache.hit(&key) {
            Some(v) => v,
            None => {
                Box::pin(cache.get_or_load(key, async { tokens.check(token, realm).map(CacheValue::Token) })).await?
            }
        };
        if !tokens.still_valid(value.token_info()?) {
            return Err(Error::unauthorized("expired auth token"));
        }
        Ok(value)
    }

    /// Full password verification of a login (upstream `check_user_password`): the stored
    /// hash first, then the `password_check` hook. `Ok(())` when accepted.
    pub async fn check_user_password(&self, login: &str, password: &str) -> Result<(), Error> {
        let inner = &*self.inner;
        // The cached answer is kept so that the hash is borrowed from it, not copied.
        let stored = match &inner.hooks.get_user_pass {
            Some(hook) => Some(match inner.cache.hit(&Key::user_pass(login)) {
                Some(v) => v,
                None => {
                    let load = async move { hook(login.to_owned()).await.map(CacheValue::Pass) };
                    Box::pin(inner.cache.get_or_load(Key::user_pass(login), load)).await?
                }
            }),
            None => None,
        };
        let hash = match stored.as_deref() {
            Some(CacheValue::Pass(h)) => h.as_deref(),
            Some(_) => return Err(Error::internal("unexpected cached value for a password")),
            None => None,
        };
        match hash {
            Some(h) => {
                if inner.password_cache.hit(login, password, h) {
                    return Ok(());
                }
                if self.verify_password(password, h).await {
                    // Stored after a real verification only: an entry lives the cache TTL from
                    // the last bcrypt check, however often it is hit.
                    inner.password_cache.store(login, password, h);
                    return Ok(());
                }
            }
            None => {
                // Unknown login (or no stored hash): spend the time a real check takes, so
                // that timing does not tell which logins exist.
                if let Some(d) = &inner.dummy_hash {
                    self.verify_password(password, d).await;
                }
            }
        }
        if let Some(check) = &inner.hooks.password_check
            && check(login.to_owned(), password.to_owned()).await? == Some(true)
        {
            return Ok(());
        }
        Err(Error::unauthorized(match (&inner.hooks.get_user_pass, hash) {
            (None, _) => format!("invalid user/password for {login}"),
            (Some(_), None) => format!("no such user: {login}"),
            (Some(_), Some(_)) => format!("invalid password for {login}"),
        }))
    }

    async fn verify_password(&self, password: &str, hash: &str) -> bool {
        if self.inner.passwords.is_cheap() {
            return self.inner.passwords.verify_blocking(password, hash);
        }
        self.check_password(password, hash).await
    }

    /// Applies the quality rules for new passwords.
    pub fn check_password_quality(&self, password: &str) -> Result<(), Error> {
        let inner = &*self.inner;
        let min = inner.config.password_length;
        if password.chars().count() < min {
            return Err(Error::bad_request(format!("password is too short, must be at least {min} characters")));
        }
        for re in &inner.password_res {
            if !re.is_match(password) {
                return Err(Error::bad_request(format!("password must match {}", re.as_str())));
            }
        }
        if let Some(hook) = &inner.hooks.password_quality
            && !hook(password)?
        {
            return Err(Error::bad_request("password quality too low"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_quoted_as_werkzeug_quotes_them() {
        assert_eq!(cookie_quote("realm:calvin:20991231235959:abc"), "realm:calvin:20991231235959:abc");
        assert_eq!(cookie_quote("r:eve; Path=/:1:s"), "\"r:eve\\073 Path=/:1:s\"");
        assert_eq!(cookie_quote("a\"b\\c,é"), "\"a\\\"b\\\\c\\054\\303\\251\"");
        for value in ["plain", "r:eve; Domain=x; Path=/admin:1:s", "a\"b\\c,é\u{1}", ""] {
            let quoted = cookie_quote(value);
            assert!(!quoted.contains(';') && !quoted.contains(','), "{quoted}");
            assert_eq!(cookie_unquote(quoted.as_bytes()).as_ref(), value.as_bytes(), "{quoted}");
        }
        // Unbalanced quotes are no quoting.
        assert_eq!(cookie_unquote(b"\"abc").as_ref(), b"\"abc");
    }

    #[test]
    fn auth_request_query_decodes_as_route_parameters() {
        let req = AuthRequest {
            method: http::Method::GET,
            uri: "/x?key=a%2Bb+c&bad=%E9&key=2".parse().expect("a URI"),
            headers: http::HeaderMap::new(),
            client_ip: None,
            peer_ip: None,
            app: App::new().build().expect("an app"),
        };
        assert_eq!(req.query("key").as_deref(), Some("a+b c"));
        assert_eq!(req.query("bad").as_deref(), Some("%E9"));
        assert_eq!(req.query("none"), None);
    }
}
