//! The application: configuration, hooks and routes, built once into an immutable [`App`].
//!
//! [`App::new`] returns an [`AppBuilder`]; register hooks and routes, then
//! [`build`](AppBuilder::build) checks everything a FlaskSimpleAuth app would refuse at start-up
//! (unknown groups, unserved permission domains, conflicting routes, …) and returns the [`App`],
//! a cheap `Clone` handle usable as a `tower::Service`, with [`App::serve`] or
//! [`App::test_client`].
//!
//! An async hook is a closure returning a `Send + 'static` future, so that a request's work
//! can move between tokio's worker threads. A hook that reads shared state clones its handle
//! into the future; an `async` closure is accepted when it borrows nothing it captures (rustc
//! says "async closure does not implement `Fn` because it captures state from its
//! environment" otherwise):
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//!
//! let table: Arc<HashMap<String, String>> = Arc::default();
//! let app = fsa_runtime::App::new()
//!     .get_user_pass(move |login| {
//!         let table = table.clone();
//!         async move { Ok(table.get(&login).cloned()) }
//!     })
//!     .user_in_group(async |login, group| Ok(login == "calvin" && group == "admin"));
//! # let _ = app;
//! ```
//!
//! Routing uses matchit's radix tree (the router axum is built on: well kept, and it matches
//! Flask's static-before-variable precedence); a path without variables is found first in a
//! hash map keyed by foldhash (hashbrown's default hasher, fast on short keys), one look-up
//! instead of a walk down the tree.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures_util::FutureExt;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tracing::Instrument;

use crate::authn::{Scheme, SchemeRegistry};
use crate::cache::{Cache, Key, PasswordCache};
use crate::config::{Carrier, Config, ConfigError, Mode};
use crate::context::{Context, ReqBody};
use crate::error::Error;
use crate::password::PasswordScheme;
use crate::response::{Body, DefaultText, Response};
use crate::route::{ArgKind, AuthzItem, BoxFuture, FieldNames, RouteDef};
use crate::token::{TokenOptions, Tokens};

/// A group name or number, as given to `authorize = …` and passed to group hooks.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// A named group.
    Name(String),
    /// A numbered group.
    Id(i64),
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Group::Name(n) => f.write_str(n),
            Group::Id(i) => write!(f, "{i}"),
        }
    }
}

impl PartialEq<&str> for Group {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Group::Name(n) if n == other)
    }
}

impl PartialEq<i64> for Group {
    fn eq(&self, other: &i64) -> bool {
        matches!(self, Group::Id(i) if i == other)
    }
}

impl From<&str> for Group {
    fn from(s: &str) -> Self {
        Group::Name(s.to_owned())
    }
}

impl From<String> for Group {
    fn from(s: String) -> Self {
        Group::Name(s)
    }
}

impl From<i64> for Group {
    fn from(i: i64) -> Self {
        Group::Id(i)
    }
}

pub(crate) type GetUserPassHook =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Option<String>, Error>> + Send + Sync>;
pub(crate) type PasswordCheckHook =
    Arc<dyn Fn(String, String) -> BoxFuture<'static, Result<Option<bool>, Error>> + Send + Sync>;
pub(crate) type PasswordQualityHook = Arc<dyn Fn(&str) -> Result<bool, Error> + Send + Sync>;
pub(crate) type GroupCheckHook = Arc<dyn Fn(String) -> BoxFuture<'static, Result<bool, Error>> + Send + Sync>;
pub(crate) type UserInGroupHook = Arc<dyn Fn(String, Group) -> BoxFuture<'static, Result<bool, Error>> + Send + Sync>;
pub(crate) type PermHook = Arc<
    dyn Fn(String, Box<dyn Any + Send>, Option<&'static str>) -> BoxFuture<'static, Result<Option<bool>, Error>>
        + Send
        + Sync,
>;
pub(crate) type RequestHook = Arc<dyn Fn(&Context) -> Option<Response> + Send + Sync>;
pub(crate) type AsyncRequestHook =
    Arc<dyn Fn(crate::special::RequestHead) -> BoxFuture<'static, Option<Response>> + Send + Sync>;
pub(crate) type AsyncAfterHook =
    Arc<dyn Fn(crate::special::RequestHead, Response) -> BoxFuture<'static, Response> + Send + Sync>;
pub(crate) type AfterHook = Arc<dyn Fn(&Context, &mut Response) + Send + Sync>;
pub(crate) type HeaderHook = Arc<dyn Fn(&Response) -> Option<String> + Send + Sync>;
pub(crate) type ClientAddrHook = Arc<dyn Fn(&http::request::Parts, Option<IpAddr>) -> Option<IpAddr> + Send + Sync>;
pub(crate) type PathCheckHook = Arc<dyn Fn(&str, &str) -> Option<String> + Send + Sync>;
pub(crate) type ErrorHook = Arc<dyn Fn(&Error, &Context) -> Option<Response> + Send + Sync>;

pub(crate) struct PermEntry {
    pub(crate) hook: PermHook,
    pub(crate) id_type: TypeId,
    pub(crate) id_type_name: &'static str,
}

#[derive(Default)]
pub(crate) struct Hooks {
    pub(crate) get_user_pass: Option<GetUserPassHook>,
    pub(crate) password_check: Option<PasswordCheckHook>,
    pub(crate) password_quality: Option<PasswordQualityHook>,
    pub(crate) group_checks: HashMap<Group, GroupCheckHook>,
    pub(crate) user_in_group: Option<UserInGroupHook>,
    pub(crate) perms: HashMap<String, PermEntry>,
    pub(crate) before_request: Vec<RequestHook>,
    pub(crate) before_request_async: Vec<AsyncRequestHook>,
    pub(crate) before_exec: Vec<RequestHook>,
    pub(crate) after_request: Vec<AfterHook>,
    pub(crate) after_request_async: Vec<AsyncAfterHook>,
    pub(crate) headers: Vec<(HeaderName, HeaderHook)>,
    pub(crate) path_check: Option<PathCheckHook>,
    pub(crate) error: Option<ErrorHook>,
}

/// A route ready to serve: its definition plus what the build resolved.
pub(crate) struct RouteEntry {
    pub(crate) def: RouteDef,
    /// Schemes tried, in order.
    pub(crate) schemes: Arc<[Scheme]>,
    /// Whether the route is really open (`OPEN` and `none` allowed).
    pub(crate) open: bool,
    /// Whether the route is restricted to the oauth scheme (authz names are scopes).
    pub(crate) oauth: bool,
    pub(crate) groups: Vec<Group>,
    pub(crate) token_realm: String,
    pub(crate) www_authenticate: Option<HeaderValue>,
    /// Request parameter names the route accepts.
    pub(crate) accepted: Vec<&'static str>,
    pub(crate) has_rest: bool,
    /// Whether an argument takes the whole JSON body: its members are then no parameters.
    pub(crate) has_body: bool,
    /// The path variable names, in order (the router knows them by position only).
    pub(crate) path_names: Vec<Arc<str>>,
}

pub(crate) struct PathEntry {
    pub(crate) methods: Vec<(Method, usize)>,
    pub(crate) allow: HeaderValue,
}

/// The built application. Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<AppInner>,
}

pub(crate) struct AppInner {
    pub(crate) config: Config,
    pub(crate) routes: Vec<RouteEntry>,
    pub(crate) router: matchit::Router<usize>,
    /// The paths without variables, to their index in `paths`, found without the router.
    /// foldhash: a fast hash for short keys (hashbrown's own default); the keys are the app's
    /// own paths, so requests cannot crowd the table.
    pub(crate) static_paths: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
    pub(crate) paths: Vec<PathEntry>,
    pub(crate) hooks: Hooks,
    pub(crate) schemes: SchemeRegistry,
    pub(crate) default_schemes: Arc<[Scheme]>,
    pub(crate) default_www_authenticate: Option<HeaderValue>,
    pub(crate) auth_params: Vec<String>,
    pub(crate) tokens: Tokens,
    pub(crate) passwords: PasswordScheme,
    pub(crate) dummy_hash: Option<String>,
    pub(crate) cache: Cache,
    pub(crate) password_cache: PasswordCache,
    pub(crate) state: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    pub(crate) client_addr: Option<ClientAddrHook>,
    pub(crate) password_res: Vec<regex::Regex>,
    pub(crate) cors: Option<crate::cors::Cors>,
    /// `FSA_TRUSTED_PROXIES`, parsed once.
    pub(crate) trusted_proxies: Vec<crate::authn::Net>,
}

/// Collects configuration, hooks and routes; [`build`](AppBuilder::build) validates them.
pub struct AppBuilder {
    config: Config,
    errors: Vec<String>,
    routes: Vec<RouteDef>,
    hooks: Hooks,
    schemes: SchemeRegistry,
    state: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    client_addr: Option<ClientAddrHook>,
    groups: Vec<Group>,
    scopes: Vec<String>,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder").field("routes", &self.routes.len()).finish_non_exhaustive()
    }
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App").field("routes", &self.inner.routes.len()).finish_non_exhaustive()
    }
}

impl App {
    /// A builder with the default configuration (no environment).
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> AppBuilder {
        AppBuilder::with_config(Config::default())
    }

    /// A builder with the configuration from `FSA_CONFIG` and `FSA_*` environment variables.
    pub fn from_env() -> AppBuilder {
        match Config::from_env() {
            Ok(c) => AppBuilder::with_config(c),
            Err(e) => {
                let mut b = AppBuilder::with_config(Config::default());
                b.errors.push(e.0);
                b
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Registered state of type `T`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.inner.state.get(&TypeId::of::<T>()).and_then(|s| s.clone().downcast::<T>().ok())
    }

    /// Hashes a new password after the quality checks (`FSA_PASSWORD_LENGTH`,
    /// `FSA_PASSWORD_RE`, the quality hook); a refused password is a 400 with the reason.
    pub async fn hash_password(&self, password: &str) -> Result<String, Error> {
        self.check_password_quality(password)?;
        self.hash_password_unchecked(password).await
    }

    /// Hashes a password without quality checks (upstream `check=False`).
    pub async fn hash_password_unchecked(&self, password: &str) -> Result<String, Error> {
        let app = self.clone();
        let password = password.to_owned();
        blocking(move || app.inner.passwords.hash_blocking(&password)).await
    }

    /// Checks a password against a stored hash, off the reactor.
    pub async fn check_password(&self, password: &str, hash: &str) -> bool {
        let app = self.clone();
        let (password, hash) = (password.to_owned(), hash.to_owned());
        blocking(move || Ok(app.inner.passwords.verify_blocking(&password, &hash))).await.unwrap_or(false)
    }

    /// Creates a token for `login` (upstream `create_token`); unset options take the
    /// configuration's values and the default realm.
    pub fn create_token(&self, login: &str, opts: TokenOptions) -> Result<String, Error> {
        let realm = opts.realm.clone().unwrap_or_else(|| self.inner.tokens.default_realm.clone());
        self.inner.tokens.create(login, &realm, &opts)
    }

    /// Checks a token for a realm (the default realm when `None`) and returns its login.
    pub fn check_token(&self, token: &str, realm: Option<&str>) -> Result<String, Error> {
        let realm = realm.unwrap_or(&self.inner.tokens.default_realm);
        self.inner.tokens.check(token, realm).map(|i| i.login)
    }

    /// Checks a token of another token configuration than the app's (JWTs from a second
    /// [`Tokens`] beside the app's fsa tokens, say, in a custom
    /// [`AuthScheme`](crate::AuthScheme)) through the app's token cache: its validations are
    /// cached like the app's own (`FSA_CACHE_TOKENS`), under keys that only this
    /// configuration's checks read; the expiry is checked on every call; `user_token_uncache`,
    /// `auth_uncache`, `clear_caches` and [`token_uncache_with`](Self::token_uncache_with)
    /// forget them.
    pub async fn check_token_with(
        &self,
        tokens: &crate::token::Tokens,
        token: &str,
        realm: &str,
    ) -> Result<crate::token::TokenInfo, Error> {
        let value = self.validated_token(tokens, Key::token_of(token, realm, &tokens.cache_tag), token, realm).await?;
        value.token_info().cloned()
    }

    /// Forgets a validation cached by [`check_token_with`](Self::check_token_with).
    pub async fn token_uncache_with(&self, tokens: &crate::token::Tokens, token: &str, realm: &str) {
        self.inner.cache.remove(Key::token_of(token, realm, &tokens.cache_tag)).await;
    }

    /// Empties every cache of this app (upstream `clear_caches`); on a shared Redis, only the
    /// keys of this app's `FSA_CACHE_PREFIX` are deleted.
    pub async fn clear_caches(&self) {
        self.inner.password_cache.clear();
        self.inner.cache.clear().await;
    }

    /// Forgets the cached stored password of `login` and its cached password check
    /// (upstream `password_uncache`).
    pub async fn password_uncache(&self, login: &str) {
        self.inner.password_cache.remove(login);
        self.inner.cache.remove(Key::user_pass(login)).await;
    }

    /// Forgets a cached token validation for a realm (the default realm when `None`;
    /// upstream `token_uncache`).
    pub async fn token_uncache(&self, token: &str, realm: Option<&str>) {
        let realm = realm.unwrap_or(&self.inner.tokens.default_realm);
        self.inner.cache.remove(Key::token(token, realm)).await;
    }

    /// Forgets the cached validations of `login`'s tokens for a realm (the default realm when
    /// `None`; upstream `user_token_uncache`, which only knew the last token seen).
    pub async fn user_token_uncache(&self, login: &str, realm: Option<&str>) {
        let realm = realm.unwrap_or(&self.inner.tokens.default_realm);
        self.inner.cache.remove_user_tokens(login, realm).await;
    }

    /// Forgets a cached group membership (upstream `group_uncache`).
    pub async fn group_uncache(&self, login: &str, group: impl Into<Group>) {
        self.inner.cache.remove(Key::group(login, &group.into())).await;
    }

    /// Forgets a cached object permission (upstream `object_perms_uncache`); `id` is the
    /// value the route passed to the permission hook.
    pub async fn object_perms_uncache<I: fmt::Debug>(&self, domain: &str, login: &str, id: I, role: Option<&str>) {
        self.inner.cache.remove(Key::perm(domain, login, &format!("{id:?}"), role)).await;
    }

    /// Forgets everything cached about `login`: stored password, password check, group
    /// memberships, object permissions and token validations in every realm (upstream
    /// `auth_uncache`, which could not reach object permissions). Call it after changing a
    /// user's password, rights or identity so that the very next request sees the change.
    pub async fn auth_uncache(&self, login: &str) {
        self.inner.password_cache.remove(login);
        self.inner.cache.remove_user(login).await;
    }

    /// An in-process client for tests.
    pub fn test_client(&self) -> crate::testing::TestClient {
        crate::testing::TestClient::new(self.clone())
    }

    /// Serves one request (the `tower::Service` implementation, the server and the test
    /// client call this).
    ///
    /// The request runs in a `request` tracing span carrying its method, path, route pattern,
    /// login and status. A panic in the handler or in a hook becomes a `FSA_SERVER_ERROR`
    /// response (the panic message is logged, never sent), unless `FSA_KEEP_USER_ERRORS`
    /// lets it propagate to the caller.
    pub async fn handle(&self, req: http::Request<ReqBody>, peer: Option<SocketAddr>, tls: bool) -> Response {
        self.dispatch(req, peer, tls).await
    }

    /// [`handle`](Self::handle) as a boxed future that does not borrow the app: the request
    /// context is built at once and lives in the pipeline's future, one allocation under 1 KiB
    /// (glibc's thread cache stops at 1,032 bytes), so that the server moves a pointer rather
    /// than a large future on each request.
    pub fn dispatch(
        &self,
        req: http::Request<ReqBody>,
        peer: Option<SocketAddr>,
        tls: bool,
    ) -> crate::route::BoxFuture<'static, Response> {
        let (parts, body) = req.into_parts();
        self.dispatch_parts(parts, body, peer, tls, None)
    }

    /// [`dispatch`](Self::dispatch) for a request already split into its head and body;
    /// `served` counts it in its connection's activity (built-in server).
    pub(crate) fn dispatch_parts(
        &self,
        parts: http::request::Parts,
        body: ReqBody,
        peer: Option<SocketAddr>,
        tls: bool,
        served: Option<crate::server::Served>,
    ) -> crate::route::BoxFuture<'static, Response> {
        let span = tracing::info_span!(
            target: "fsa",
            "request",
            method = %parts.method,
            path = %parts.uri.path(),
            route = tracing::field::Empty,
            login = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let peer_ip = peer.map(|p| p.ip());
        let mut client_ip = peer_ip;
        if let Some(hook) = &self.inner.client_addr {
            // A panic in the client-address hook is a server error too.
            let _enter = span.enter();
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&parts, peer_ip))) {
                Ok(ip) => client_ip = ip,
                Err(panic) => {
                    if self.inner.config.keep_user_errors {
                        std::panic::resume_unwind(panic);
                    }
                    tracing::error!(target: "fsa", "client address hook panicked");
                    let resp = Error::new(self.server_error_status(), "internal error")
                        .into_response(&self.inner.config.error_response);
                    return Box::pin(std::future::ready(resp));
                }
            }
        }
        // The context lives in the pipeline's future: one allocation per request for both.
        let mut ctx = Context::new(self.clone(), parts, body, client_ip, peer_ip, tls);
        ctx.served = served;
        let app = self.clone();
        if span.is_disabled() {
            // No subscriber wants the span: spare entering, leaving and filling it.
            ctx.traced = false;
            return Box::pin(async move { app.handle_ctx(&mut ctx).await });
        }
        Box::pin(async move { app.handle_ctx(&mut ctx).await }.instrument(span))
    }

    async fn handle_ctx(&self, ctx: &mut Context) -> Response {
        let mut resp = match std::panic::AssertUnwindSafe(self.process(ctx)).catch_unwind().await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => self.error_response_guarded(e, ctx),
            Err(panic) => self.on_panic(panic, ctx, "handler"),
        };
        let has_async_steps = ctx.has_finalizers()
            || self.inner.cors.is_some()
            || !self.inner.hooks.after_request_async.is_empty()
            || ctx.has_chunked_body_unread();
        // Boxed, and only awaited when there is something to await: otherwise every request's
        // future would hold the response across these steps.
        if has_async_steps {
            resp = Box::pin(self.after_async(ctx, resp)).await;
        }
        let finished = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.finish(ctx, &mut resp)));
        if let Err(panic) = finished {
            // A panicking after-request or header hook: answer a bare server error.
            resp = self.on_panic(panic, ctx, "after-request hook");
        }
        if ctx.traced {
            let span = tracing::Span::current();
            if let Some(user) = &ctx.auth.user {
                span.record("login", tracing::field::display(user));
            }
            span.record("status", resp.status().as_u16());
        }
        if resp.status().is_server_error() {
            tracing::warn!(target: "fsa", status = resp.status().as_u16(), "request failed");
        } else {
            tracing::debug!(target: "fsa", status = resp.status().as_u16(), "request done");
        }
        if let Some(served) = &ctx.served {
            served.watch(&mut resp);
            if served.is_http1() {
                ctx.settle_body(&mut resp);
            }
        }
        resp
    }

    /// The asynchronous after-steps of a request: its finalizers, the CORS headers, the
    /// asynchronous after-request hooks, the reading of a chunked body left unread.
    async fn after_async(&self, ctx: &mut Context, mut resp: Response) -> Response {
        // Finalizers registered by the request (e.g. commit or roll back a transaction).
        for finalizer in ctx.take_finalizers() {
            if let Err(e) = finalizer(resp.status()).await {
                resp = self.error_response_guarded(e, ctx);
            }
        }
        if let Some(cors) = &self.inner.cors
            && !(crate::cors::is_preflight(&ctx.parts) && resp.status().is_success())
            && let Err(headers) = Box::pin(cors.run(&ctx.parts)).await
        {
            merge_cors_headers(&mut resp, headers);
        }
        for hook in &self.inner.hooks.after_request_async {
            let head = crate::special::RequestHead {
                method: ctx.parts.method.clone(),
                uri: ctx.parts.uri.clone(),
                headers: ctx.parts.headers.clone(),
            };
            let taken = std::mem::replace(&mut resp, Response::new(Body::empty()));
            resp = match std::panic::AssertUnwindSafe(hook(head, taken)).catch_unwind().await {
                Ok(r) => r,
                Err(panic) => self.on_panic(panic, ctx, "after-request hook"),
            };
        }
        if ctx.has_chunked_body_unread() {
            ctx.drain_chunked_body().await;
        }
        resp
    }

    /// The status of server errors (`FSA_SERVER_ERROR`, 500 when not a valid status).
    fn server_error_status(&self) -> StatusCode {
        StatusCode::from_u16(self.inner.config.server_error).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A caught panic: logged with its message, answered with a generic server error.
    fn on_panic(&self, panic: Box<dyn Any + Send>, ctx: &Context, stage: &str) -> Response {
        if self.inner.config.keep_user_errors {
            std::panic::resume_unwind(panic);
        }
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(target: "fsa", "{stage} panicked: {msg}");
        let e = Error::new(self.server_error_status(), format!("internal error caught on {}", ctx.path()));
        if stage == "handler" {
            self.error_response_guarded(e, ctx)
        } else {
            e.into_response(&self.inner.config.error_response)
        }
    }

    /// [`error_response`](Self::error_response), surviving a panicking error hook.
    fn error_response_guarded(&self, e: Error, ctx: &Context) -> Response {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.error_response(e, ctx))) {
            Ok(r) => r,
            Err(panic) => {
                if self.inner.config.keep_user_errors {
                    std::panic::resume_unwind(panic);
                }
                tracing::error!(target: "fsa", path = %ctx.path(), "error hook panicked");
                Error::new(self.server_error_status(), format!("internal error caught on {}", ctx.path()))
                    .into_response(&self.inner.config.error_response)
            }
        }
    }

    /// Whether the request reached fsa over HTTPS: TLS on the connection, or
    /// `X-Forwarded-Proto: https` set by a trusted proxy (`FSA_TRUSTED_PROXIES`). The proxy is
    /// the TCP peer, not the client address a `client_addr` hook derives from forwarded
    /// headers, which the client itself may have written.
    fn is_https(&self, ctx: &Context) -> bool {
        if ctx.tls {
            return true;
        }
        let trusted = ctx.peer_ip().is_some_and(|ip| self.inner.trusted_proxies.iter().any(|n| n.contains(ip)));
        trusted
            && ctx
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
    }

    async fn process(&self, ctx: &mut Context) -> Result<Response, Error> {
        let inner = &*self.inner;
        if inner.config.secure && !ctx.is_loopback() && !self.is_https(ctx) {
            return Err(Error::new(inner.config.server_error, "insecure HTTP request denied"));
        }
        if let Some(cors) = &inner.cors
            && crate::cors::is_preflight(&ctx.parts)
            // Boxed, like the one in `handle_ctx`: tower-http's future is large, and CORS is optional.
            && let Ok(resp) = Box::pin(cors.run(&ctx.parts)).await
        {
            return Ok(resp);
        }
        for hook in &inner.hooks.before_request {
            if let Some(resp) = hook(ctx) {
                return Ok(resp);
            }
        }
        for hook in &inner.hooks.before_request_async {
            let head = crate::special::RequestHead {
                method: ctx.parts.method.clone(),
                uri: ctx.parts.uri.clone(),
                headers: ctx.parts.headers.clone(),
            };
            if let Some(resp) = hook(head).await {
                return Ok(resp);
            }
        }
        let idx = match self.route(ctx)? {
            Routed::Route(idx) => idx,
            Routed::Options(allow) => {
                let mut resp = Response::new(Body::empty());
                resp.headers_mut().insert(header::ALLOW, allow);
                return Ok(resp);
            }
        };
        ctx.route = Some(idx);
        let entry = &inner.routes[idx];
        if ctx.traced {
            tracing::Span::current().record("route", tracing::field::display(entry.def.path));
        }
        if entry.def.is_closed() {
            return Err(Error::forbidden("currently closed route"));
        }
        if !entry.open {
            // Boxed: authentication's future (about 700 bytes) would be most of the pipeline's,
            // which is moved once into its box; and a pipeline allocation above 1 KiB costs
            // glibc's allocator a consolidation pass on each request.
            Box::pin(async {
                ctx.authenticate_once(true).await?;
                self.check_groups(ctx, entry).await
            })
            .await?;
        }
        let resp = (entry.def.handler)(ctx).await?;
        if inner.config.json_streaming {
            return Ok(resp);
        }
        // Boxed: rarely needed, and it would enlarge every request's future.
        Box::pin(crate::response::unstream(resp, false)).await
    }

    /// Finds the route: 404, 405 with `Allow`, or an automatic `OPTIONS` answer. Slashes as
    /// Werkzeug has them, looked at only when no route takes the path as it is: those that
    /// start the path count as one (`//hello` is `/hello`), and a path that a route would take
    /// with its runs of slashes merged (`/p//a`) is redirected there with a 308, its query
    /// kept.
    fn route(&self, ctx: &mut Context) -> Result<Routed, Error> {
        match self.route_at(ctx, None) {
            Err(e) if e.status() == StatusCode::NOT_FOUND => self.route_slashes(ctx, e),
            routed => routed,
        }
    }

    /// The slashes of a path that no route takes as it is (see [`route`](Self::route)):
    /// `not_found` when they change nothing.
    #[cold]
    #[inline(never)]
    fn route_slashes(&self, ctx: &mut Context, not_found: Error) -> Result<Routed, Error> {
        let first = Err(not_found);
        // Werkzeug merges the slashes of the percent-decoded path (`%2F` is one).
        let raw = ctx.parts.uri.path();
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if !decoded.contains("//") {
            return first;
        }
        let leading = crate::context::one_leading_slash(&decoded);
        if leading != decoded {
            let again = self.route_decoded(ctx, &leading);
            if !matches!(&again, Err(e) if e.status() == StatusCode::NOT_FOUND) {
                return again;
            }
        }
        let mut merged = String::with_capacity(leading.len());
        for c in leading.chars() {
            if !(c == '/' && merged.ends_with('/')) {
                merged.push(c);
            }
        }
        if merged == leading {
            return first;
        }
        match self.route_decoded(ctx, &merged) {
            // A route, or the methods of the merged path for an `OPTIONS`: there.
            Ok(_) => {
                ctx.params.path = Default::default();
                Err(self.slash_redirect(ctx, &merged))
            }
            Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => Err(e),
            Err(_) => first,
        }
    }

    /// [`route_at`](Self::route_at) on a decoded path, kept out of line: the request's own
    /// path is routed by the one copy of `route_at` that `route` holds.
    #[inline(never)]
    fn route_decoded(&self, ctx: &mut Context, decoded: &str) -> Result<Routed, Error> {
        self.route_at(ctx, Some(decoded))
    }

    /// The 308 to `path` (percent-encoded as Werkzeug encodes a redirect's path), the
    /// request's query kept, as an absolute URL when the request names its host.
    fn slash_redirect(&self, ctx: &Context, path: &str) -> Error {
        // The characters Werkzeug leaves as they are in a redirect's path (`quote`'s safe set).
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~')
            .remove(b'!')
            .remove(b'$')
            .remove(b'&')
            .remove(b'\'')
            .remove(b'(')
            .remove(b')')
            .remove(b'*')
            .remove(b'+')
            .remove(b',')
            .remove(b'/')
            .remove(b':')
            .remove(b';')
            .remove(b'=')
            .remove(b'@');
        let mut location = String::new();
        if let Some(host) = ctx.parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            location.push_str(if ctx.is_tls() { "https://" } else { "http://" });
            location.push_str(host);
        }
        location.extend(percent_encoding::utf8_percent_encode(path, KEEP));
        if let Some(query) = ctx.parts.uri.query() {
            location.push('?');
            location.push_str(query);
        }
        let error = Error::new(StatusCode::PERMANENT_REDIRECT, "redirecting");
        match HeaderValue::from_str(&location) {
            Ok(value) => error.with_header(header::LOCATION, value),
            Err(_) => Error::not_found("not found"),
        }
    }

    /// [`route`](Self::route) on the request's path, or on `decoded` when given: a path
    /// already percent-decoded, which is not decoded again.
    #[inline(always)]
    fn route_at(&self, ctx: &mut Context, decoded: Option<&str>) -> Result<Routed, Error> {
        let inner = &*self.inner;
        let raw = decoded.unwrap_or(ctx.parts.uri.path());
        // A path without variables is found by one hash look-up rather than a walk down the
        // router's tree (an exact match of such a path is also what the tree would find).
        let found_as_is = inner.static_paths.get(raw);
        // As Werkzeug routes: on the percent-decoded path (`/he%6Clo` is `/hello`, `%2F` a
        // separator), bytes that are not UTF-8 as U+FFFD. Only a path with an escape pays,
        // and a path found as it is has none to decode.
        let decoded = (decoded.is_none() && found_as_is.is_none() && raw.as_bytes().contains(&b'%'))
            .then(|| percent_encoding::percent_decode_str(raw).decode_utf8_lossy());
        let path = decoded.as_deref().unwrap_or(raw);
        let found_decoded = || decoded.as_deref().and_then(|d| inner.static_paths.get(d));
        let (pi, matched) = match found_as_is.or_else(found_decoded) {
            Some(pi) => (*pi, None),
            None => {
                let matched = inner.router.at(path).map_err(|_| Error::not_found("not found"))?;
                (*matched.value, Some(matched.params))
            }
        };
        let pe = &inner.paths[pi];
        let method = &ctx.parts.method;
        let find = |m: &Method| pe.methods.iter().find(|(pm, _)| pm == m).map(|(_, i)| *i);
        let found = find(method).or_else(|| if *method == Method::HEAD { find(&Method::GET) } else { None });
        let Some(idx) = found else {
            // As Flask's router: the methods are those of the routes that take the path's
            // segments (`PATCH /auth/abc` lists the methods of `/auth/<login>`, not of
            // `/auth/<int:aid>`), and no such route is a 404.
            let allow = self.allowed(pe, matched.as_ref()).ok_or_else(|| Error::not_found("not found"))?;
            if *method == Method::OPTIONS {
                return Ok(Routed::Options(allow));
            }
            return Err(Self::method_not_allowed(allow));
        };
        let entry = &inner.routes[idx];
        let def = &entry.def;
        let mut path_params = crate::params::PathParams::new();
        for (i, (k, v)) in matched.iter().flat_map(matchit::Params::iter).enumerate() {
            let name = entry.path_names.get(i);
            let k = name.map_or(k, |n| &**n);
            if !path_takes(def, k, v) {
                // This route's converter refuses the segment: a 405 if a route of another
                // method takes it (`PUT /auth/abc` beside `GET /auth/<login>`), else a 404.
                return Err(match self.allowed(pe, matched.as_ref()) {
                    Some(allow) => Self::method_not_allowed(allow),
                    None => Error::not_found("not found"),
                });
            }
            path_params.push((name.cloned().unwrap_or_else(|| Arc::from(k)), compact_str::CompactString::from(v)));
        }
        ctx.params.path = path_params;
        Ok(Routed::Route(idx))
    }

    fn method_not_allowed(allow: HeaderValue) -> Error {
        Error::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed").with_header(header::ALLOW, allow)
    }

    /// The `Allow` header for a request to `pe` that no route answers: the methods whose
    /// routes take the path's segments, or `None` when none does (a 404).
    fn allowed(&self, pe: &PathEntry, matched: Option<&matchit::Params<'_, '_>>) -> Option<HeaderValue> {
        let takes = |idx: usize| {
            let entry = &self.inner.routes[idx];
            matched.iter().flat_map(|m| m.iter()).enumerate().all(|(i, (k, v))| {
                let k = entry.path_names.get(i).map_or(k, |n| &**n);
                path_takes(&entry.def, k, v)
            })
        };
        let methods: Vec<&Method> = pe.methods.iter().filter(|(_, i)| takes(*i)).map(|(m, _)| m).collect();
        if methods.is_empty() {
            None
        } else if methods.len() == pe.methods.len() {
            Some(pe.allow.clone())
        } else {
            Some(crate::build::allow_header(methods.into_iter()))
        }
    }

    /// Renders an error in the configured format (or through the error hook).
    pub(crate) fn error_response(&self, mut e: Error, ctx: &Context) -> Response {
        if e.is_internal() {
            e.set_status(self.server_error_status());
        }
        if let Some(hook) = &self.inner.hooks.error
            && let Some(r) = hook(&e, ctx)
        {
            return r;
        }
        let routing = ctx.route.is_none() && matches!(e.status().as_u16(), 404 | 405);
        if routing && !self.inner.config.handle_all_errors {
            return e.into_response(&crate::error::ErrorFormat::Plain);
        }
        e.into_response(&self.inner.config.error_response)
    }

    /// After-request processing: WWW-Authenticate, redirects, cookies, headers, hooks.
    fn finish(&self, ctx: &mut Context, resp: &mut Response) {
        let inner = &*self.inner;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED {
            let www = match ctx.entry() {
                Some(e) => e.www_authenticate.clone(),
                None => inner.default_www_authenticate.clone(),
            };
            if let Some(v) = www
                && !resp.headers().contains_key(header::WWW_AUTHENTICATE)
            {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            if let Some(target) = &inner.config.redirect_401 {
                let mut url = target.clone();
                if ctx.parts.method == Method::GET {
                    // The path and query alone, whatever form the request line had (HTTP/2
                    // and absolute-form requests carry a scheme and a host).
                    let original = ctx.parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
                    let enc: String = form_urlencoded::byte_serialize(original.as_bytes()).collect();
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&format!("{}={enc}", inner.config.url_name));
                }
                if let Ok(v) = HeaderValue::from_str(&url) {
                    *resp.status_mut() = StatusCode::TEMPORARY_REDIRECT;
                    resp.headers_mut().insert(header::LOCATION, v);
                }
            }
        }
        if inner.config.token_carrier == Carrier::Cookie && inner.tokens.enabled() {
            self.cookie_renewal(ctx, resp);
        }
        if let Some(ct) = &inner.config.default_content_type
            && resp.extensions().get::<DefaultText>().is_some()
            && let Ok(v) = HeaderValue::from_str(ct)
        {
            resp.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        for hook in &inner.hooks.after_request {
            hook(ctx, resp);
        }
        for (name, value) in &inner.config.add_headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                resp.headers_mut().insert(n, v);
            }
        }
        for (name, hook) in &inner.hooks.headers {
            if let Some(v) = hook(resp).and_then(|v| HeaderValue::from_str(&v).ok()) {
                resp.headers_mut().insert(name.clone(), v);
            }
        }
        if inner.config.mode >= Mode::Dev {
            let h = resp.headers_mut();
            // The decoded path, as Flask's `request.path` gives it.
            let path = percent_encoding::percent_decode_str(ctx.parts.uri.path()).decode_utf8_lossy();
            h.insert("fsa-request", header_text(&format!("{} {path}", ctx.parts.method)));
            // As FlaskSimpleAuth writes it: `None (None)` when no authentication was tried,
            // `None (none)` when every scheme was tried and none succeeded.
            let user = match &ctx.auth.user {
                Some(u) => format!("{u} ({})", ctx.auth.scheme.as_ref().map_or("", crate::authn::Scheme::name)),
                None if ctx.auth.attempted => "None (none)".to_owned(),
                None => "None (None)".to_owned(),
            };
            h.insert("fsa-user", header_text(&user));
            let delay = ctx.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
            if let Ok(v) = HeaderValue::from_str(&format!("{delay:.6}")) {
                h.insert("fsa-delay", v);
            }
        }
        if ctx.parts.version == http::Version::HTTP_10 && http_body::Body::size_hint(resp.body()).exact().is_none() {
            // A streamed body ends an HTTP/1.0 response by closing the connection: say so. An
            // HTTP/1.0 response without `keep-alive` is what makes hyper close rather than
            // echo a keep-alive request's `Connection: keep-alive`.
            *resp.version_mut() = http::Version::HTTP_10;
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if ctx.parts.method == Method::HEAD {
            // The length GET would send, as Werkzeug and RFC 9110 (9.3.2) have it.
            let length = http_body::Body::size_hint(resp.body()).exact();
            if let Some(n) = length.filter(|_| !resp.headers().contains_key(header::CONTENT_LENGTH)) {
                resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
            *resp.body_mut() = Body::empty();
        }
    }

    fn cookie_renewal(&self, ctx: &Context, resp: &mut Response) {
        let inner = &*self.inner;
        let Some(user) = &ctx.auth.user else { return };
        let name = inner.config.token_name();
        // The cookie's token: checked by the token scheme, or here when another scheme
        // authenticated the request. A cookie that is invalid is replaced; a valid one is
        // renewed only when `FSA_TOKEN_RENEWAL` > 0 and it expires soon, whoever it names: as
        // upstream, which reads only the cookie's expiry (with a renewal of 0, upstream sets a
        // fresh cookie on every authenticated response; here a valid one is then kept).
        let cookie_info = match (&ctx.auth.cookie_token, ctx.cookie(name)) {
            (_, None) => None,
            (Some(info), Some(_)) => Some(Some(info.clone())),
            (None, Some(t)) => {
                Some(inner.tokens.check(&t, ctx.token_realm()).ok().filter(|i| inner.tokens.still_valid(i)))
            }
        };
        let renew = match cookie_info {
            None => true,
            Some(None) => true,
            Some(Some(info)) => {
                let left = info.exp - crate::token::now();
                inner.config.token_renewal > 0.0
                    && (left as f64) < inner.config.token_renewal * inner.tokens.delay() * 60.0
            }
        };
        if !renew {
            return;
        }
        let realm = ctx.token_realm().to_owned();
        let Ok(token) = inner.tokens.create(user, &realm, &TokenOptions::default()) else { return };
        let max_age = (inner.tokens.delay() * 60.0) as i64;
        let expires = cookie_expires(std::time::SystemTime::now(), max_age);
        let token = crate::authn::cookie_quote(&token);
        if let Ok(v) = HeaderValue::from_str(&format!("{name}={token}; Expires={expires}; Max-Age={max_age}; Path=/")) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The `Expires` date of a cookie that lives `max_age` seconds from `now`, as Werkzeug writes
/// it beside `Max-Age` for clients that know only `Expires`; HTTP dates end with year 9999.
fn cookie_expires(now: std::time::SystemTime, max_age: i64) -> String {
    // 9999-12-31T23:59:59Z, the last date `httpdate` writes.
    let last = std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799);
    let at = now.checked_add(std::time::Duration::from_secs(max_age.max(0).unsigned_abs())).unwrap_or(last);
    httpdate::fmt_http_date(at.clamp(std::time::UNIX_EPOCH, last))
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => h.spawn_blocking(f).await.map_err(Error::internal)?,
        Err(_) => f(),
    }
}

impl AppBuilder {
    /// A builder with this configuration.
    pub fn with_config(config: Config) -> Self {
        AppBuilder {
            config,
            errors: Vec::new(),
            routes: Vec::new(),
            hooks: Hooks::default(),
            schemes: SchemeRegistry::default(),
            state: HashMap::new(),
            client_addr: None,
            groups: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// Sets a directive by its `FSA_*` name; mistakes are reported by [`build`](Self::build).
    pub fn config(mut self, name: &str, value: impl Into<toml::Value>) -> Self {
        if let Err(e) = self.config.set(name, value) {
            self.errors.push(e.0);
        }
        self
    }

    /// Gives access to the whole configuration. The values written are checked by
    /// [`build`](Self::build) as [`config`](Self::config) checks its own (a negative delay or a
    /// status code out of range is a `ConfigError`).
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Adds routes (see `routes![…]`).
    pub fn routes(mut self, routes: impl IntoIterator<Item = RouteDef>) -> Self {
        self.routes.extend(routes);
        self
    }

    /// Registers shared state, available to handlers as [`State<T>`](crate::State).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// Registers the hook returning a user's stored password hash, or `None` for an unknown
    /// user (upstream `get_user_pass`). Its answers are cached, `None` too: after adding a
    /// user or changing a password, call [`password_uncache`](App::password_uncache).
    pub fn get_user_pass<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<String>, Error>> + Send + 'static,
    {
        self.hooks.get_user_pass = Some(Arc::new(move |l| Box::pin(hook(l))));
        self
    }

    /// Registers an alternate password check (upstream `password_check`, e.g. LDAP): `Some(true)`
    /// accepts, `Some(false)` or `None` refuse, an error is answered as is.
    pub fn password_check<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<bool>, Error>> + Send + 'static,
    {
        self.hooks.password_check = Some(Arc::new(move |l, p| Box::pin(hook(l, p))));
        self
    }

    /// Registers a quality rule for new passwords: `Ok(false)` refuses with a 400.
    pub fn password_quality(mut self, hook: impl Fn(&str) -> Result<bool, Error> + Send + Sync + 'static) -> Self {
        self.hooks.password_quality = Some(Arc::new(hook));
        self
    }

    /// Registers a membership check for one group (upstream `group_check`).
    pub fn group_check<F, Fut>(mut self, group: impl Into<Group>, hook: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, Error>> + Send + 'static,
    {
        self.hooks.group_checks.insert(group.into(), Arc::new(move |l| Box::pin(hook(l))));
        self
    }

    /// Registers the membership check for all groups (upstream `user_in_group`).
    pub fn user_in_group<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(String, Group) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, Error>> + Send + 'static,
    {
        self.hooks.user_in_group = Some(Arc::new(move |l, g| Box::pin(hook(l, g))));
        self
    }

    /// Declares groups: routes naming other groups are then refused by `build`.
    pub fn add_group(mut self, group: impl Into<Group>) -> Self {
        self.groups.push(group.into());
        self
    }

    /// Declares OAuth scopes: routes naming other scopes are then refused by `build`.
    pub fn add_scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Registers the permission hook of an object domain (upstream `object_perms`). It gets the
    /// login, the object identifier (the route argument's value, or a tuple of them) and the
    /// role; `Some(true)` allows, `Some(false)` is a 403, `None` a 404. Its answers are cached
    /// (`FSA_CACHE_PERMS`), `None` too: after creating or deleting an object, call
    /// [`object_perms_uncache`](App::object_perms_uncache). The cache tells identifiers apart
    /// by their `Debug` text, which integers, strings, UUIDs and tuples of them write in full:
    /// an identifier type whose `Debug` hides its value (a redacted secret) would make all its
    /// values share one answer, so give such a domain a type that shows it, or turn
    /// `FSA_CACHE_PERMS` off.
    pub fn object_perms<I, F, Fut>(mut self, domain: &str, hook: F) -> Self
    where
        I: Send + 'static,
        F: Fn(String, I, Option<&'static str>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<bool>, Error>> + Send + 'static,
    {
        let hook: PermHook = Arc::new(move |login, id: Box<dyn Any + Send>, role| match id.downcast::<I>() {
            Ok(id) => Box::pin(hook(login, *id, role)),
            Err(_) => Box::pin(async { Err(Error::internal("object permission identifier of an unexpected type")) }),
        });
        self.hooks.perms.insert(
            domain.to_owned(),
            PermEntry { hook, id_type: TypeId::of::<I>(), id_type_name: std::any::type_name::<I>() },
        );
        self
    }

    /// Registers a custom authentication scheme usable in `FSA_AUTH` and `auth = …`: an async
    /// closure `|req: AuthRequest| async move { … }`, a closure `|ctx: &Context| …`, or an
    /// [`AuthScheme`](crate::AuthScheme) type. It returns the login, `None` (not
    /// authenticated by this scheme) or an error answered as is.
    pub fn authentication<M>(mut self, name: &str, scheme: impl crate::authn::IntoAuthScheme<M>) -> Self {
        self.schemes.register(name, scheme);
        self
    }

    /// A hook run before routing; a response answers the request
    /// ([`Context::error_response`] renders an [`Error`] as the framework would).
    pub fn before_request(mut self, hook: impl Fn(&Context) -> Option<Response> + Send + Sync + 'static) -> Self {
        self.hooks.before_request.push(Arc::new(hook));
        self
    }

    /// An async hook run before routing, after the synchronous ones (e.g. a rate limiter
    /// asking a shared store); it gets a copy of the request head, a response answers the
    /// request.
    pub fn before_request_async<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(crate::special::RequestHead) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<Response>> + Send + 'static,
    {
        self.hooks.before_request_async.push(Arc::new(move |head| Box::pin(hook(head))));
        self
    }

    /// A hook run after authentication, authorization and parameters, just before the handler;
    /// a response answers instead of the handler ([`Context::error_response`] renders an
    /// [`Error`] as the framework would).
    pub fn before_exec(mut self, hook: impl Fn(&Context) -> Option<Response> + Send + Sync + 'static) -> Self {
        self.hooks.before_exec.push(Arc::new(hook));
        self
    }

    /// A hook that may change every response.
    pub fn after_request(mut self, hook: impl Fn(&Context, &mut Response) + Send + Sync + 'static) -> Self {
        self.hooks.after_request.push(Arc::new(hook));
        self
    }

    /// An async hook that may change or replace every response; async hooks run before the
    /// synchronous [`after_request`](Self::after_request) hooks and the added headers.
    pub fn after_request_async<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(crate::special::RequestHead, Response) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        self.hooks.after_request_async.push(Arc::new(move |head, resp| Box::pin(hook(head, resp))));
        self
    }

    /// Adds a header with a fixed value to every response.
    pub fn add_header(mut self, name: &str, value: &str) -> Self {
        self.config.add_headers.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Adds a header computed from each response (`None`: no header).
    pub fn add_header_with(
        mut self,
        name: &'static str,
        hook: impl Fn(&Response) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.headers.push((HeaderName::from_static(name), Arc::new(hook)));
        self
    }

    /// A rule every route path must satisfy (`Some(message)` refuses it at build).
    pub fn path_check(mut self, hook: impl Fn(&str, &str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.hooks.path_check = Some(Arc::new(hook));
        self
    }

    /// Renders errors yourself (`None`: the configured format).
    pub fn error_response(
        mut self,
        hook: impl Fn(&Error, &Context) -> Option<Response> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.error = Some(Arc::new(hook));
        self
    }

    /// Decides the client address from the request and the peer (behind proxies, or in
    /// test fixtures).
    pub fn client_addr(
        mut self,
        hook: impl Fn(&http::request::Parts, Option<IpAddr>) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        self.client_addr = Some(Arc::new(hook));
        self
    }

    /// Checks everything and builds the app.
    pub fn build(self) -> Result<App, ConfigError> {
        crate::build::build(self)
    }

    pub(crate) fn into_parts(self) -> BuilderParts {
        BuilderParts {
            config: self.config,
            errors: self.errors,
            routes: self.routes,
            hooks: self.hooks,
            schemes: self.schemes,
            state: self.state,
            client_addr: self.client_addr,
            groups: self.groups,
            scopes: self.scopes,
        }
    }
}

pub(crate) struct BuilderParts {
    pub(crate) config: Config,
    pub(crate) errors: Vec<String>,
    pub(crate) routes: Vec<RouteDef>,
    pub(crate) hooks: Hooks,
    pub(crate) schemes: SchemeRegistry,
    pub(crate) state: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    pub(crate) client_addr: Option<ClientAddrHook>,
    pub(crate) groups: Vec<Group>,
    pub(crate) scopes: Vec<String>,
}

impl RouteEntry {
    pub(crate) fn new(
        def: RouteDef,
        schemes: Arc<[Scheme]>,
        open: bool,
        oauth: bool,
        token_realm: String,
        www_authenticate: Option<HeaderValue>,
    ) -> Self {
        let groups = def
            .authz
            .iter()
            .filter_map(|a| match a {
                AuthzItem::Group(g) => Some(Group::Name((*g).to_owned())),
                AuthzItem::GroupId(i) => Some(Group::Id(*i)),
                _ => None,
            })
            .collect();
        // A struct of parameters (`Fields<T>`) takes its fields' names, or any name when its
        // type has no fixed list of fields.
        let fields: Vec<FieldNames> =
            def.args.iter().filter(|a| a.kind == ArgKind::Fields).map(|a| (a.fields)()).collect();
        let any_field = fields.contains(&FieldNames::Any);
        let fixed = fields.iter().flat_map(|f| match f {
            FieldNames::Fixed(names) => *names,
            _ => &[],
        });
        let accepted = def
            .args
            .iter()
            .filter(|a| a.kind == ArgKind::Request && !a.in_path)
            .map(|a| a.name)
            .chain(fixed.copied())
            .collect();
        let has_rest = any_field || def.args.iter().any(|a| a.kind == ArgKind::Rest);
        let has_body = def.args.iter().any(|a| a.kind == ArgKind::Body);
        let path_names = crate::build::pattern_names(def.pattern).into_iter().map(Arc::from).collect();
        RouteEntry {
            def,
            schemes,
            open,
            oauth,
            groups,
            token_realm,
            www_authenticate,
            accepted,
            has_rest,
            has_body,
            path_names,
        }
    }
}

/// Adds the CORS layer's headers to a response (`Vary` values are appended).
fn merge_cors_headers(resp: &mut Response, headers: http::HeaderMap) {
    let mut last = None;
    for (name, value) in headers {
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        if name == header::VARY {
            resp.headers_mut().append(name, value);
        } else {
            resp.headers_mut().insert(name, value);
        }
    }
}

/// A development header's value: the text as is, but for the control characters no header
/// may hold (a login or decoded path may have them), which are written `%XX`.
fn header_text(text: &str) -> HeaderValue {
    if let Ok(v) = HeaderValue::from_str(text) {
        return v;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii_control() && c != '\t' {
            out.push_str(&format!("%{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    HeaderValue::from_str(&out).unwrap_or(HeaderValue::from_static(""))
}

/// The outcome of routing.
enum Routed {
    Route(usize),
    Options(HeaderValue),
}

/// Whether the route takes the segment `v` (already percent-decoded, with the path) of the
/// path variable `k`: `false` when the argument's converter refuses it (`abc` for an `int`).
fn path_takes(def: &RouteDef, k: &str, v: &str) -> bool {
    def.args.iter().find(|a| a.in_path && crate::params::same_name(a.name, k)).is_none_or(|a| (a.path_ok)(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pipeline's future, context included, stays within glibc's per-thread cache (1,032
    /// bytes): a larger allocation takes the allocator's slow path on every request.
    #[test]
    fn the_pipeline_is_one_small_allocation() {
        let app = App::new().build().expect("app");
        let body = ReqBody::new(http_body_util::Empty::<bytes::Bytes>::new());
        let req = http::Request::get("/hello").body(body).expect("request");
        let pipeline = app.dispatch(req, None, false);
        let size = std::mem::size_of_val(&*pipeline);
        assert!(size <= 1032, "the request pipeline's future is {size} bytes");
    }

    /// A cookie's `Expires` is `max_age` seconds on, and a lifetime beyond what an HTTP date
    /// can say ends at its last date instead of panicking.
    #[test]
    fn cookie_expiry_dates() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(cookie_expires(now, 3600), "Wed, 18 Nov 2026 12:06:40 GMT");
        assert_eq!(cookie_expires(now, 0), "Wed, 18 Nov 2026 11:06:40 GMT");
        assert_eq!(cookie_expires(now, -5), "Wed, 18 Nov 2026 11:06:40 GMT");
        assert_eq!(cookie_expires(now, i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(cookie_expires(now, 300_000_000_000), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
