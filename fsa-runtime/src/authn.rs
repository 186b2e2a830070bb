//! Authentication schemes.
//!
//! `FSA_AUTH` names the enabled schemes (tried in order), a route may restrict them with
//! `auth = …`, and `FSA_AUTH_DEFAULT` gives the schemes of routes that name none. The first
//! scheme yielding a login wins; when none does, the last error raised by a scheme is answered
//! (401 unless a hook chose another status). Schemes: `none`, `basic`, `param`, `password`
//! (basic then param), `token`, `oauth`, `fake` (loopback clients only), `httpd` (a header set
//! by a trusted fronting server) and custom ones ([`AuthScheme`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use base64::Engine;
use http::header;

use crate::app::App;
use crate::cache::{CacheValue, Key};
use crate::config::{Carrier, Config, ConfigError};
use crate::context::Context;
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
/// request and returns a login, `None` when it has nothing to say, or an error (401 or any
/// status) to answer.
///
/// Plain functions and closures `Fn(&Context) -> Result<Option<String>>` are schemes; implement
/// the trait on a type for an async check (e.g. an API key looked up in a database).
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

trait DynScheme: Send + Sync {
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
    pub(crate) fn register(&mut self, name: &str, scheme: impl AuthScheme) {
        self.custom.insert(name.to_owned(), Arc::new(scheme));
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

    /// The enabled schemes from `FSA_AUTH`: a scalar `X` means token, `X`, none.
    pub(crate) fn enabled(&self, config: &Config) -> Result<Vec<Scheme>, ConfigError> {
        let mut names: Vec<String> = config.auth.clone();
        if config.auth_is_scalar || names.is_empty() {
            let x = names.pop();
            names = vec!["token".into()];
            if let Some(x) = x.filter(|x| !matches!(x.as_str(), "token" | "none")) {
                if x == "oauth" {
                    names = vec![x];
                } else {
                    names.push(x);
                }
            }
            names.push("none".into());
        }
        let mut out = Vec::new();
        for n in &names {
            for s in self.resolve(n)? {
                if matches!(s, Scheme::Token | Scheme::OAuth) && config.token_type.is_none() {
                    continue;
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        Ok(out)
    }
}

impl Context {
    /// Tries the schemes in order; sets the user on success.
    pub(crate) async fn authenticate(&mut self, schemes: &[crate::authn::Scheme]) -> Result<(), Error> {
        self.auth.attempted = true;
        let mut last: Option<Error> = None;
        for scheme in schemes {
            match self.try_scheme(scheme).await {
                Ok(Some(login)) => {
                    self.auth.user = Some(login);
                    self.auth.scheme = Some(scheme.name().to_owned());
                    return Ok(());
                }
                Ok(None) => {}
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::unauthorized("missing authentication")))
    }

    async fn try_scheme(&mut self, scheme: &Scheme) -> Result<Option<String>, Error> {
        let app = self.app.clone();
        let config = &app.inner.config;
        match scheme {
            Scheme::None => Ok(None),
            Scheme::Basic => {
                let header = self
                    .headers()
                    .get(header::AUTHORIZATION)
                    .ok_or_else(|| Error::unauthorized("missing basic authorization"))?;
                let value = header.to_str().map_err(|_| Error::unauthorized("invalid authorization header"))?;
                let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
                    return Err(Error::unauthorized("unexpected authorization header: not basic"));
                };
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| Error::unauthorized("invalid basic authorization encoding"))?;
                let text =
                    String::from_utf8(raw).map_err(|_| Error::unauthorized("invalid basic authorization encoding"))?;
                let (login, password) =
                    text.split_once(':').ok_or_else(|| Error::unauthorized("invalid basic authorization"))?;
                app.check_user_password(login, password).await.map(|()| Some(login.to_owned()))
            }
            Scheme::Param => {
                self.ensure_params().await?;
                let (pu, pp) = (&config.param_user, &config.param_pass);
                let login = self.params().text(pu).map(|c| c.into_owned());
                let password = self.params().text(pp).map(|c| c.into_owned());
                match (login, password) {
                    (None, _) => Err(Error::unauthorized(format!("missing param login parameter: \"{pu}\""))),
                    (_, None) => Err(Error::unauthorized(format!("missing param password parameter: \"{pp}\""))),
                    (Some(l), Some(p)) => app.check_user_password(&l, &p).await.map(|()| Some(l)),
                }
            }
            Scheme::Fake => {
                if !self.is_loopback() {
                    return Ok(None);
                }
                self.ensure_params().await?;
                let name = &config.fake_login;
                match self.params().text(name) {
                    Some(l) if !l.is_empty() => Ok(Some(l.into_owned())),
                    _ => Err(Error::unauthorized(format!("missing fake login parameter: \"{name}\""))),
                }
            }
            Scheme::Httpd => {
                let trusted = self.client_ip().is_some_and(|ip| {
                    config.trusted_proxies.iter().any(|p| p.parse::<std::net::IpAddr>().is_ok_and(|t| t == ip))
                }) || (config.trusted_proxies.is_empty() && self.is_loopback());
                if !trusted {
                    return Ok(None);
                }
                Ok(self.headers().get(config.httpd_header.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned))
            }
            Scheme::Token | Scheme::OAuth => self.token_scheme().await,
            Scheme::Custom(name) => match app.inner.schemes.custom.get(name) {
                Some(s) => s.authenticate(self).await,
                None => Err(Error::internal(format!("unknown scheme {name}"))),
            },
        }
    }

    async fn ensure_params(&mut self) -> Result<(), Error> {
        if !self.params_loaded {
            self.read_params().await?;
        }
        Ok(())
    }

    async fn token_scheme(&mut self) -> Result<Option<String>, Error> {
        let app = self.app.clone();
        let config = &app.inner.config;
        let name = config.token_name();
        let token: Option<String> = match config.token_carrier {
            Carrier::Bearer => match self.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
                Some(v) => v.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).map(|t| t.trim().to_owned()),
                None => None,
            },
            Carrier::Header => self.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned),
            Carrier::Cookie => self.cookie(name),
            Carrier::Param => {
                self.ensure_params().await?;
                self.params().text(name).map(|c| c.into_owned())
            }
        };
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(Error::unauthorized("missing token"));
        };
        let realm = self.token_realm().to_owned();
        let key = Key::token(&token, &realm);
        let value = app
            .inner
            .cache
            .get_or_load(key, async { app.inner.tokens.check(&token, &realm).map(CacheValue::Token) })
            .await?;
        let CacheValue::Token(info) = value else { return Err(Error::internal("unexpected cached value for a token")) };
        if !app.inner.tokens.still_valid(&info) {
            return Err(Error::unauthorized("expired token"));
        }
        self.auth.scopes = info.scopes.clone().unwrap_or_default();
        if config.token_carrier == Carrier::Cookie {
            self.auth.cookie_token = Some(info.clone());
        }
        Ok(Some(info.login))
    }
}

impl App {
    /// Full password verification of a login (upstream `check_user_password`): the stored
    /// hash first, then the `password_check` hook. `Ok(())` when accepted.
    pub async fn check_user_password(&self, login: &str, password: &str) -> Result<(), Error> {
        let inner = &*self.inner;
        let hash = match &inner.hooks.get_user_pass {
            Some(hook) => {
                let hook = hook.clone();
                let l = login.to_owned();
                let v = inner
                    .cache
                    .get_or_load(Key::user_pass(login), async move { hook(l).await.map(CacheValue::Pass) })
                    .await?;
                match v {
                    CacheValue::Pass(h) => h,
                    _ => return Err(Error::internal("unexpected cached value for a password")),
                }
            }
            None => None,
        };
        match &hash {
            Some(h) => {
                if inner.password_cache.hit(login, password, h) || self.verify_password(password, h).await {
                    inner.password_cache.store(login, password, h);
                    return Ok(());
                }
            }
            None => {
                if inner.hooks.password_check.is_none() {
                    // Unknown login: spend the time a real check takes.
                    if let Some(d) = &inner.dummy_hash {
                        self.verify_password(password, d).await;
                    }
                }
            }
        }
        if let Some(check) = &inner.hooks.password_check {
            if check(login.to_owned(), password.to_owned()).await? == Some(true) {
                return Ok(());
            }
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
        if let Some(hook) = &inner.hooks.password_quality {
            if !hook(password)? {
                return Err(Error::bad_request("password quality too low"));
            }
        }
        Ok(())
    }
}
