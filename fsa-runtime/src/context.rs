//! The per-request context: what the runtime and the generated code know about one request.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::Either;
use http::{HeaderMap, Method, Uri, header};
use http_body::Body as _;
use http_body_util::BodyExt;

mod disposition;

use crate::app::{App, RouteEntry};
use crate::error::Error;
use crate::extract::ParamErrors;
use crate::params::{JsonBodyError, Params, UploadedFile, same_name};
use crate::response::Response;
use crate::route::ArgKind;
use crate::token::{TokenInfo, TokenOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest request body left unread that the built-in server reads and throws away to
/// keep its connection (see [`Context::settle_body`]).
const DRAIN_MAX: u64 = 256 * 1024;

/// A request body: hyper's own (the built-in server, without an allocation), or any other
/// body, boxed. http-body-util's `Either` does the dispatch between the two.
pub struct ReqBody(
    http_body_util::Either<hyper::body::Incoming, http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>>,
);

impl ReqBody {
    /// Any body with `Bytes` data, boxed.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        ReqBody(http_body_util::Either::Right(body.map_err(Into::into).boxed_unsync()))
    }

    /// The body of a request received by hyper.
    pub fn incoming(body: hyper::body::Incoming) -> Self {
        ReqBody(http_body_util::Either::Left(body))
    }
}

impl std::fmt::Debug for ReqBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReqBody")
    }
}

impl ReqBody {
    /// Whether this is the body of a request received by hyper.
    fn is_hyper(&self) -> bool {
        matches!(self.0, http_body_util::Either::Left(_))
    }
}

impl http_body::Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

#[derive(Debug, Default)]
pub(crate) struct AuthState {
    /// The login: inline up to 24 bytes (`compact_str`), so that setting it from a cached
    /// token validation allocates nothing.
    pub(crate) user: Option<compact_str::CompactString>,
    pub(crate) scheme: Option<crate::authn::Scheme>,
    pub(crate) scopes: Vec<String>,
    pub(crate) attempted: bool,
    /// Boxed: set only when authentication failed, and an error is large (the context is part
    /// of every request's future).
    pub(crate) error: Option<Box<Error>>,
    /// The token presented in the cookie carrier, when it was checked.
    pub(crate) cookie_token: Option<TokenInfo>,
}

/// One request being served: its head, parameters and authentication state.
///
/// Hooks and [`Special`](crate::Special) implementations read the request through it.
pub struct Context {
    pub(crate) app: App,
    pub(crate) parts: http::request::Parts,
    /// Behind a mutex only to make the context `Sync`; accessed through `get_mut`.
    body: std::sync::Mutex<Option<ReqBody>>,
    pub(crate) client_ip: Option<IpAddr>,
    /// The TCP peer's address, whatever the client-address hook says.
    pub(crate) peer_ip: Option<IpAddr>,
    pub(crate) tls: bool,
    pub(crate) route: Option<usize>,
    pub(crate) params: Params,
    pub(crate) params_loaded: bool,
    /// The body's error when an authentication scheme read it and failed: the schemes went on
    /// with the query string alone, and the error is the answer of the parameter step (boxed:
    /// it is rare, and an error is large).
    pub(crate) params_error: Option<Box<Error>>,
    pub(crate) auth: AuthState,
    /// When the request started, in dev modes only (for the `FSA-Delay` header).
    pub(crate) started: Option<Instant>,
    /// Whether the request's tracing span is enabled (a subscriber wants it).
    pub(crate) traced: bool,
    /// Work registered with [`Context::on_response`]; behind a mutex only to keep `Sync`.
    finalizers: std::sync::Mutex<Vec<Finalizer>>,
    /// The request's count in its connection's activity (built-in server).
    pub(crate) served: Option<crate::server::Served>,
    /// Whether the body's reading stopped before its end (too large, too slow, broken).
    body_cut: bool,
}

/// A per-request finalizer (see [`Context::on_response`]).
type Finalizer = Box<dyn FnOnce(http::StatusCode) -> crate::route::BoxFuture<'static, Result<(), Error>> + Send>;

impl Context {
    /// A context for a request whose client address is known (see [`App::dispatch`]).
    #[inline]
    pub(crate) fn new(
        app: App,
        parts: http::request::Parts,
        body: ReqBody,
        client_ip: Option<IpAddr>,
        peer_ip: Option<IpAddr>,
        tls: bool,
    ) -> Self {
        let started = (app.inner.config.mode >= crate::config::Mode::Dev).then(Instant::now);
        Context {
            app,
            parts,
            body: std::sync::Mutex::new(Some(body)),
            client_ip,
            peer_ip,
            tls,
            route: None,
            params: Params::default(),
            params_loaded: false,
            params_error: None,
            auth: AuthState::default(),
            started,
            traced: true,
            finalizers: std::sync::Mutex::new(Vec::new()),
            served: None,
            body_cut: false,
        }
    }

    /// The application.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request path as the router reads it: percent-decoded (invalid UTF-8 as U+FFFD), as
    /// Werkzeug's `request.path`, with leading slashes counted as one. A hook that guards
    /// paths must read this one: `/%61dmin` and `//admin` reach the route of `/admin`.
    /// [`uri`](Self::uri)`().path()` is the path as sent, which this borrows when it has
    /// neither escapes nor leading slashes to undo.
    pub fn path(&self) -> std::borrow::Cow<'_, str> {
        let raw = self.parts.uri.path();
        if !raw.starts_with("//") && !raw.as_bytes().contains(&b'%') {
            return std::borrow::Cow::Borrowed(raw);
        }
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        std::borrow::Cow::Owned(one_leading_slash(&decoded))
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request extensions (values set by tower layers).
    pub fn extensions(&self) -> &http::Extensions {
        &self.parts.extensions
    }

    /// A cookie's value (UTF-8 text, else Latin-1), read on its own from the `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        crate::authn::cookie_in(&self.parts.headers, name)
    }

    /// The client's IP address.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// The TCP peer's IP address (not changed by the client-address hook).
    pub fn peer_ip(&self) -> Option<IpAddr> {
        self.peer_ip
    }

    /// The response fsa gives for `error` on this request: the configured
    /// `FSA_ERROR_RESPONSE` format, or the app's error hook. For hooks that answer a request
    /// themselves (`before_request`, `before_exec`), so that their refusals look like the
    /// framework's own.
    ///
    /// ```
    /// use fsa_runtime::{App, Error};
    /// let app = App::new()
    ///     .config("FSA_ERROR_RESPONSE", "json:error")
    ///     .before_exec(|ctx| {
    ///         let closed = ctx.headers().contains_key("x-maintenance");
    ///         closed.then(|| ctx.error_response(Error::new(503, "down for maintenance")))
    ///     });
    /// # let _ = app;
    /// ```
    pub fn error_response(&self, error: crate::Error) -> crate::Response {
        self.app.error_response(error, self)
    }

    /// Whether the client is on a loopback address.
    pub fn is_loopback(&self) -> bool {
        self.client_ip.is_some_and(is_loopback_ip)
    }

    /// Whether the connection is TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The parameters (empty until loaded by the route).
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The login if authentication already happened (upstream `current_user()`): never
    /// attempts it.
    pub fn user(&self) -> Option<&str> {
        self.auth.user.as_deref()
    }

    /// The scheme that authenticated the user.
    pub fn auth_scheme(&self) -> Option<&str> {
        self.auth.scheme.as_ref().map(crate::authn::Scheme::name)
    }

    /// The OAuth scopes of the token that authenticated the user.
    pub fn scopes(&self) -> &[String] {
        &self.auth.scopes
    }

    pub(crate) fn entry(&self) -> Option<&RouteEntry> {
        self.route.map(|i| &self.app.inner.routes[i])
    }

    /// The token realm of the current route (its `realm = …`, else the configured realm).
    pub fn token_realm(&self) -> &str {
        match self.entry() {
            Some(e) => &e.token_realm,
            None => &self.app.inner.tokens.default_realm,
        }
    }

    /// Authenticates on demand (upstream `get_user`): the login, `None` when `required` is
    /// false and no scheme succeeded, or the authentication error when it is required.
    pub async fn get_user(&mut self, required: bool) -> Result<Option<String>, Error> {
        if self.auth.user.is_none() {
            // Boxed: authentication's future is large (about 700 bytes), and every future
            // awaiting this one (a handler with a `CurrentUser` argument) would carry it, where
            // most calls find the user already authenticated by the request pipeline.
            Box::pin(self.authenticate_once(required)).await?;
        }
        Ok(self.auth.user.as_deref().map(str::to_owned))
    }

    /// Authenticates the request unless already done: an error only when `required` and no
    /// scheme succeeded. The request pipeline calls it inline (it boxes it with the group
    /// checks); [`get_user`](Self::get_user) reads the login afterwards.
    pub(crate) async fn authenticate_once(&mut self, required: bool) -> Result<(), Error> {
        if self.auth.user.is_some() {
            return Ok(());
        }
        if !self.auth.attempted {
            let schemes = match self.entry() {
                Some(e) => e.schemes.clone(),
                None => self.app.inner.default_schemes.clone(),
            };
            match self.authenticate(&schemes).await {
                Ok(()) => return Ok(()),
                Err(e) => self.auth.error = Some(Box::new(e)),
            }
        }
        if required {
            Err(self.auth.error.as_deref().cloned().unwrap_or_else(|| Error::unauthorized("missing authentication")))
        } else {
            Ok(())
        }
    }

    /// Creates a token for `login`; the realm defaults to the current route's realm
    /// (upstream `create_token`, used by two-stage MFA routes).
    pub fn create_token(&self, login: &str, mut opts: TokenOptions) -> Result<String, Error> {
        if opts.realm.is_none() {
            opts.realm = Some(self.token_realm().to_owned());
        }
        self.app.create_token(login, opts)
    }

    /// Reads and parses the body and query parameters once, and checks for unexpected
    /// parameters. Returns the parameter errors found so far.
    #[doc(hidden)]
    pub fn load_params(&mut self) -> impl Future<Output = Result<ParamErrors, Error>> + Send + '_ {
        // Ready at once unless there is a body to read (the usual case of a GET): no state
        // machine to step through. The body, when there is one, is read in a boxed future.
        let body = if self.params_loaded { None } else { self.parse_query_take_body() };
        if let Some(e) = self.params_error.take() {
            return Either::Left(std::future::ready(Err(*e)));
        }
        match body {
            None => Either::Left(std::future::ready(Ok(self.unexpected_params()))),
            Some(body) => Either::Right(Box::pin(async move {
                self.read_body(body).await?;
                Ok(self.unexpected_params())
            })),
        }
    }

    /// The request parameters the route cannot take, as parameter errors: a name that is also
    /// one of the route's path segments, always (upstream checks each declared parameter this
    /// way, an authentication parameter's name included); a name the route does not declare,
    /// unless it is an authentication parameter, under `FSA_REJECT_UNEXPECTED_PARAM` and
    /// without a rest parameter.
    fn unexpected_params(&self) -> ParamErrors {
        let mut errors = ParamErrors::new();
        let Some(entry) = self.entry() else { return errors };
        if !self.params.has_request_names() {
            return errors;
        }
        let reject_unexpected = !entry.has_rest && self.app.inner.config.reject_unexpected_param;
        // Names with a problem, each reported once (a name may come several times, or from
        // JSON and the query string both); a set, made at the first problem (its hasher's
        // seed costs a request without one), so that a body of many unexpected members costs
        // linear time.
        let mut reported: Option<std::collections::HashSet<&str>> = None;
        let mut first_report = |name| reported.get_or_insert_default().insert(name);
        // Listed first, as upstream reports them with the path arguments; the unexpected names
        // after them, and after the arguments' own errors (`ParamErrors::set_unexpected`).
        let mut unexpected = Vec::new();
        let mut total = 0;
        let source = if self.params.is_json() { "json" } else { "http" };
        for name in self.params.all_request_names() {
            if entry.def.args.iter().any(|a| a.in_path && same_name(a.name, name)) {
                if first_report(name) {
                    errors.push(format!("parameter \"{name}\" is both in path and request"));
                }
            } else if reject_unexpected
                && !entry.accepted.iter().any(|a| same_name(a, name))
                && !self.app.inner.auth_params.iter().any(|a| same_name(a, name))
                && first_report(name)
            {
                // Only as many messages as a 400 lists; the others are counted.
                total += 1;
                if unexpected.len() < ParamErrors::MAX_LISTED {
                    unexpected.push(format!("unexpected {source} parameter \"{name}\""));
                }
            }
        }
        if total > 0 {
            errors.set_unexpected(unexpected, total);
        }
        errors
    }

    /// Reads the request parameters for an authentication scheme, once. A body that cannot
    /// be read (invalid JSON, too large, stalled, ...) leaves the query string alone, so that
    /// credentials sent there still count, and nothing of the body, not even the fields a
    /// multipart body gave before its error; the error waits in `params_error` for the
    /// parameter step ([`load_params`](Self::load_params)), after a 401 or 403 has had its
    /// turn. FlaskSimpleAuth skips such a scheme instead, which turns credentials sent in the
    /// query into a 401.
    pub(crate) async fn read_params(&mut self) {
        if self.params_loaded {
            return;
        }
        let Some(body) = self.parse_query_take_body() else { return };
        // Boxed: the body-reading future (JSON, forms, multipart) is large, and keeping it
        // inline would make every route's handler future as large, bodies or not.
        if let Err(e) = Box::pin(self.read_body(body)).await {
            self.params.form = Default::default();
            self.params.files = Vec::new();
            self.params.json = None;
            self.params_error = Some(Box::new(e));
        }
    }

    /// The body, while no one has taken it (its mutex, like the finalizers', is never
    /// locked: a poisoned one is used as it is).
    fn body_slot(&mut self) -> &mut Option<ReqBody> {
        self.body.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Parses the query string, and takes the body if there is one to read.
    fn parse_query_take_body(&mut self) -> Option<ReqBody> {
        self.params_loaded = true;
        if let Some(q) = self.parts.uri.query() {
            self.params.query = crate::params::Pairs::parse(q);
        }
        self.body_slot().take().filter(|b| !http_body::Body::is_end_stream(b))
    }

    async fn read_body(&mut self, body: ReqBody) -> Result<(), Error> {
        // Until the body is known to be read to its end (`collect`), or empty.
        self.body_cut = true;
        // A header's text has no other spaces than ASCII ones (`to_str`), which `trim_ascii`
        // takes away as `trim` would, without its Unicode tables.
        let length = self.parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim_ascii);
        if length == Some("0") {
            self.body_cut = false;
            return Ok(());
        }
        let max = self.app.inner.config.max_body_size;
        if let Some(len) = length.and_then(|v| v.parse::<u64>().ok())
            && len > max as u64
        {
            return Err(body_too_large(max));
        }
        // The header value is shared, not copied: the context stays free to change below.
        let ct_value = self.parts.headers.get(header::CONTENT_TYPE).cloned();
        let ct = ct_value.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
        // The media type, and its parameters after the first `;` (split by bytes: a `char`
        // pattern costs a searcher's set-up for a header of a few bytes).
        let (mime, ct_params) = match ct.bytes().position(|b| b == b';') {
            Some(i) => (ct[..i].trim_ascii(), &ct[i + 1..]),
            None => (ct.trim_ascii(), ""),
        };
        let is = |m: &str| mime.eq_ignore_ascii_case(m);
        if is("multipart/form-data") {
            // Boxed: the multipart reader's future is large, and JSON or form bodies are the
            // usual case.
            return Box::pin(self.read_multipart(body, ct, max)).await;
        }
        let bytes = self.collect(body, max).await?;
        if bytes.is_empty() {
            return Ok(());
        }
        let charset = match ct_params {
            "" => None,
            // A parameter's name is case-insensitive (RFC 9110); one with a space before or
            // after its `=` is no parameter, as for Werkzeug.
            _ => ct_params.split(';').find_map(|p| {
                let (name, value) = p.trim_ascii().split_once('=')?;
                let spaced = value.starts_with([' ', '\t']);
                (name.eq_ignore_ascii_case("charset") && !spaced).then_some(value)
            }),
        };
        if let Some(charset) = charset {
            let cs = charset.trim_matches('"').to_ascii_lowercase();
            if cs != "utf-8" && cs != "utf8" && cs != "us-ascii" && cs != "ascii" {
                return Err(Error::new(415, format!("unsupported charset: {cs}")));
            }
        }
        let m = mime.as_bytes();
        let json_suffix = m.len() >= 17
            && m[..12].eq_ignore_ascii_case(b"application/")
            && m[m.len() - 5..].eq_ignore_ascii_case(b"+json");
        if is("application/json") || json_suffix {
            let config = &self.app.inner.config;
            let (max_depth, max_params) = (config.max_json_depth, config.max_params);
            // A route taking the whole body (`JsonBody<T>`) has no parameters in it, and takes
            // a body of any kind (an array, ...).
            let whole = self.entry().is_some_and(|e| e.has_body);
            self.params.json =
                Some(crate::params::JsonObject::parse(bytes, max_depth, max_params, whole).map_err(|e| match e {
                    JsonBodyError::Invalid(e) => Error::bad_request(format!("invalid JSON body: {e}")),
                    JsonBodyError::NotObject => Error::bad_request("JSON body must be an object"),
                    JsonBodyError::TooDeep => Error::bad_request("JSON body nested too deeply"),
                    JsonBodyError::TooMany => too_many_params(max_params),
                })?);
            self.params.json_is_body = whole;
        } else if is("application/x-www-form-urlencoded") {
            let text = std::str::from_utf8(&bytes).map_err(|_| Error::bad_request("form body is not valid UTF-8"))?;
            let max_params = self.app.inner.config.max_params;
            if crate::params::Pairs::count(text) > max_params {
                return Err(too_many_params(max_params));
            }
            self.params.form = crate::params::Pairs::parse(text);
        }
        Ok(())
    }

    /// The whole body (see [`collect_limited`]), noting when its reading stops before its end.
    async fn collect(&mut self, body: ReqBody, max: usize) -> Result<Bytes, Error> {
        let collected = collect_limited(body, max, self.body_pace()).await;
        self.body_cut = collected.is_err();
        collected
    }

    /// Settles a request body left unread or read in part, once the request is answered
    /// over HTTP/1, where it stands between the connection and its next request: hyper
    /// reads on only what has already arrived, and otherwise closes the connection without
    /// saying so in the answer, so that a client sending its next request there sees it
    /// fail. As Go's server does, up to [`DRAIN_MAX`] bytes are read and thrown away, at the
    /// pace a body must keep, and the connection then serves the next request: a body of
    /// known length by a task of its own while the answer goes out (the task holds the
    /// request's count in its connection's activity, so that the connection watchdog leaves
    /// it to the body's pace); a body of unknown length (chunked), whose end alone tells
    /// whether it fits, before the answer, by [`drain_chunked_body`](Self::drain_chunked_body).
    /// The answer to a request whose body is larger, read in part (413, 408, a read error,
    /// a chunked body that did not fit), or not sent yet (`Expect: 100-continue`) says
    /// `Connection: close`. Called last, so that no after-request step can drop that header.
    #[inline]
    pub(crate) fn settle_body(&mut self, resp: &mut Response) {
        let cut = self.body_cut;
        if cut || self.body_slot().as_ref().is_some_and(|b| !b.is_end_stream()) {
            self.settle_unread_body(resp);
        }
    }

    #[cold]
    #[inline(never)]
    fn settle_unread_body(&mut self, resp: &mut Response) {
        let body = self.body_slot().take();
        match body {
            Some(body)
                if !self.body_cut
                    && !self.waits_for_continue()
                    && body.size_hint().exact().is_some_and(|n| n <= DRAIN_MAX) =>
            {
                let pace = self.body_pace();
                let served = self.served.take();
                tokio::spawn(async move {
                    let _ = drain_limited(body, DRAIN_MAX as usize, pace).await;
                    drop(served);
                });
            }
            _ => {
                resp.headers_mut().insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            }
        }
    }

    /// Whether the request's body is of unknown length (chunked) and left unread, on an
    /// HTTP/1 connection of the built-in server, where it is read before the answer goes out
    /// ([`settle_body`](Self::settle_body)).
    #[inline]
    pub(crate) fn has_chunked_body_unread(&mut self) -> bool {
        self.body_slot().as_ref().is_some_and(|b| !b.is_end_stream() && b.size_hint().exact().is_none())
            && !self.body_cut
            && self.served.as_ref().is_some_and(|served| served.is_http1())
            && !self.waits_for_continue()
    }

    /// Reads a chunked body left unread and throws it away, up to [`DRAIN_MAX`] bytes at a
    /// body's pace and for one `FSA_SERVER_HEADER_TIMEOUT` at most, so that a slow client
    /// does not hold its answer for long: a body that is longer, slower or broken off counts
    /// as cut short, and [`settle_body`](Self::settle_body) then has the answer say
    /// `Connection: close`.
    pub(crate) async fn drain_chunked_body(&mut self) {
        if let Some(body) = self.body_slot().take() {
            let pace = self.body_pace();
            let drained = drain_limited(body, DRAIN_MAX as usize, pace);
            let within = tokio::time::timeout(Duration::from_secs_f64(pace.idle), drained).await;
            self.body_cut = !matches!(within, Ok(Ok(())));
        }
    }

    /// Whether the client waits for `100 Continue` before it sends its body.
    fn waits_for_continue(&self) -> bool {
        self.parts.headers.get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
    }

    /// How slowly a request body may come before it is answered 408 (see [`Pace`]): the
    /// connection watchdog leaves alone a connection whose request runs, so that a handler
    /// may take its time; reading a body is the one part of a request that waits on the client.
    fn body_pace(&self) -> Pace {
        let config = &self.app.inner.config;
        Pace { idle: config.server_header_timeout, min_rate: config.server_body_min_rate }
    }

    async fn read_multipart(&mut self, body: ReqBody, ct: &str, max: usize) -> Result<(), Error> {
        let boundary =
            multer::parse_boundary(ct).map_err(|e| Error::bad_request(format!("invalid multipart body: {e}")))?;
        // The whole body first, then to multer in one piece: fed frame by frame, multer searches
        // its whole buffer again for a boundary or a part's header end at each frame, which a
        // client sending small frames makes quadratic (3 s of CPU for 16 MiB in 1 KiB frames).
        let whole = self.collect(body, max).await?;
        let stream = futures_util::stream::once(std::future::ready(Ok::<Bytes, std::io::Error>(whole)));
        // `collect_limited` has applied the size limit (413) and the body's pace (408).
        let mut mp = multer::Multipart::new(stream, boundary);
        let bad = |e: multer::Error| Error::bad_request(format!("invalid multipart body: {e}"));
        let max_params = self.app.inner.config.max_params;
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            if self.params.form.len() + self.params.files.len() == max_params {
                return Err(too_many_params(max_params));
            }
            let (name, filename) = field
                .headers()
                .get(header::CONTENT_DISPOSITION)
                .map(|v| disposition::form_data_names(&String::from_utf8_lossy(v.as_bytes())))
                .unwrap_or_default();
            let name = name.unwrap_or_default();
            // As written, as Werkzeug keeps it (multer's parsed form drops a type like `weird`).
            let content_type =
                field.headers().get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let content = field.bytes().await.map_err(bad)?;
            match filename {
                Some(filename) => self.params.files.push((name, UploadedFile { filename, content_type, content })),
                None => {
                    let text = String::from_utf8(content.to_vec())
                        .map_err(|_| Error::bad_request(format!("field \"{name}\" is not UTF-8")))?;
                    self.params.form.push(&name, &text);
                }
            }
        }
        Ok(())
    }

    /// Request parameters not declared by the route (for [`Kwargs`](crate::Kwargs)).
    pub fn undeclared_params(&self) -> BTreeMap<String, String> {
        // The route's arguments and the fields of its structs of parameters (`Fields<T>`).
        let declared = |n: &str| {
            self.entry().is_some_and(|e| {
                e.accepted.contains(&n) || e.def.args.iter().any(|a| a.name == n && a.kind != ArgKind::Rest)
            })
        };
        let auth = |n: &str| self.app.inner.auth_params.iter().any(|a| a == n);
        self.params
            .request_texts()
            .into_iter()
            .filter(|(name, _)| !declared(name) && !auth(name))
            .map(|(name, text)| (name.to_owned(), text.into_owned()))
            .collect()
    }

    /// Registers work to run once the handler's response (or error) is known, before the
    /// after-request hooks and before anything is sent: it gets the response status, e.g. to
    /// commit a per-request database transaction when it is below 400 and roll it back
    /// otherwise. Finalizers run in registration order; an error replaces the response by
    /// that error's response. Typically called by a [`Special`](crate::Special) argument.
    pub fn on_response<F, Fut>(&mut self, f: F)
    where
        F: FnOnce(http::StatusCode) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.finalizers_mut().push(Box::new(move |status| Box::pin(f(status))));
    }

    /// The finalizers registered so far ([`Context::on_response`]); the mutex is never
    /// locked (the context is borrowed mutably), so a poisoned one is used as it is.
    fn finalizers_mut(&mut self) -> &mut Vec<Finalizer> {
        self.finalizers.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the request registered finalizers.
    pub(crate) fn has_finalizers(&mut self) -> bool {
        !self.finalizers_mut().is_empty()
    }

    pub(crate) fn take_finalizers(&mut self) -> Vec<Finalizer> {
        std::mem::take(self.finalizers_mut())
    }

    /// Checks an object permission (generated code, after parameters).
    #[doc(hidden)]
    pub async fn object_perm<I>(&mut self, domain: &'static str, id: I, role: Option<&'static str>) -> Result<(), Error>
    where
        I: Debug + Send + Sync + 'static,
    {
        if self.auth.user.is_none() {
            self.get_user(true).await?.ok_or_else(|| Error::unauthorized("missing authentication"))?;
        }
        let login = self.auth.user.as_deref().ok_or_else(|| Error::unauthorized("missing authentication"))?;
        self.app.check_object_perm(domain, login, id, role).await
    }

    /// Runs the before-exec hooks (generated code): `Some` response answers instead of the
    /// handler.
    #[doc(hidden)]
    pub fn before_exec(&self) -> Option<Response> {
        self.app.inner.hooks.before_exec.iter().find_map(|h| h(self))
    }
}

/// Whether `ip` is a loopback address, counting an IPv4 one written as IPv6
/// (`::ffff:127.0.0.1`: how a dual-stack socket shows an IPv4 client).
pub(crate) fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// The 413 of a request body holding more than `FSA_MAX_PARAMS` parameters.
fn too_many_params(max: usize) -> Error {
    Error::new(413, format!("too many parameters in request body: more than {max}"))
}

/// A decoded path with its leading slashes as one, as the router takes `//x` for `/x`
/// (`App::route_slashes`, [`Context::path`]).
pub(crate) fn one_leading_slash(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// The 413 of a request body larger than `max` bytes.
fn body_too_large(max: usize) -> Error {
    Error::new(413, format!("request body larger than {max} bytes"))
}

/// The 408 of a request body that sent nothing for too long.
fn body_timeout() -> Error {
    Error::new(408, "request body timed out")
}

/// How slowly a request body may come: a body that sends nothing for `idle` seconds
/// (`FSA_SERVER_HEADER_TIMEOUT`), or that has come at less than `min_rate` bytes per second
/// in a stretch of more than `idle` seconds after its first piece (`FSA_SERVER_BODY_MIN_RATE`,
/// 0: no minimum), is answered 408. The rate is what stops a client that sends a byte now and then,
/// never idle for long, from holding its connection (and a connection slot) for ever.
#[derive(Clone, Copy)]
struct Pace {
    idle: f64,
    min_rate: u64,
}

impl Pace {
    /// Checks the pace of a body of which `read` bytes have been read, in the `window` that
    /// started at the instant and the count it holds (none before the body's first frame).
    #[inline]
    fn step(self, window: &mut Option<(std::time::Instant, usize)>, read: usize) -> Result<(), Error> {
        match *window {
            None => *window = Some((std::time::Instant::now(), read)),
            Some((t, before)) => {
                if self.check(read - before, t.elapsed().as_secs_f64())? {
                    *window = Some((std::time::Instant::now(), read));
                }
            }
        }
        Ok(())
    }

    /// `Err` when the `received` bytes of the window that started `elapsed` seconds ago are
    /// too few; `Ok(true)` when the window is over (longer than `idle`) and a new one starts.
    ///
    /// Windows, rather than an average since the body's start: a client that sent a large
    /// first piece quickly must still keep up the rate afterwards, instead of having bought
    /// a long trickle with it.
    fn check(self, received: usize, elapsed: f64) -> Result<bool, Error> {
        if self.min_rate == 0 || elapsed <= self.idle {
            return Ok(false);
        }
        if (received as f64) < self.min_rate as f64 * elapsed {
            let rate = self.min_rate;
            return Err(Error::new(408, format!("request body too slow: less than {rate} bytes per second")));
        }
        Ok(true)
    }
}

/// The body's next frame, or a 408 when the client sends nothing for `idle` seconds.
///
/// The body is polled first; the timer (a boxed tokio `Sleep`) is made only when no frame is
/// there yet, so a body that came with its head, the usual small body, costs no timer, and
/// the future stays a few words long.
fn next_frame(
    body: &mut ReqBody,
    idle: f64,
) -> impl Future<Output = Result<Option<Result<http_body::Frame<Bytes>, BoxError>>, Error>> + '_ {
    let mut timer: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(frame) = Pin::new(&mut *body).poll_frame(cx) {
            return Poll::Ready(Ok(frame));
        }
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_secs_f64(idle))));
        timer.as_mut().poll(cx).map(|()| Err(body_timeout()))
    })
}

/// Collects a body, refusing more than `max` bytes with a 413 without buffering them, and a
/// body that comes too slowly ([`Pace`]) with a 408.
async fn collect_limited(mut body: ReqBody, max: usize, pace: Pace) -> Result<Bytes, Error> {
    // A body in one frame (the usual small body) is kept as it is, without a copy.
    let mut first: Option<Bytes> = None;
    let mut out = bytes::BytesMut::new();
    // When the current pace window started, and the bytes held then: read only for a body
    // that is not whole in its first frame.
    let mut window: Option<(std::time::Instant, usize)> = None;
    while let Some(frame) = next_frame(&mut body, pace.idle).await? {
        let frame = frame.map_err(|_| Error::bad_request("cannot read request body"))?;
        if let Ok(data) = frame.into_data() {
            let held = first.as_ref().map_or(0, Bytes::len);
            if held + out.len() + data.len() > max {
                return Err(body_too_large(max));
            }
            if first.is_none() && out.is_empty() {
                first = Some(data);
            } else {
                if let Some(f) = first.take() {
                    out.extend_from_slice(&f);
                }
                out.extend_from_slice(&data);
            }
        }
        // hyper's body, once its `Content-Length` is read, says it has ended and would only
        // answer `None`: not asked again. Other bodies (a user's, given to `App::handle`) are
        // read to their `None`, whatever their `is_end_stream` says.
        if body.is_hyper() && body.is_end_stream() {
            break;
        }
        pace.step(&mut window, first.as_ref().map_or(0, Bytes::len) + out.len())?;
    }
    Ok(first.unwrap_or_else(|| out.freeze()))
}

/// Reads a body to its end and throws it away, under the limits of [`collect_limited`].
async fn drain_limited(mut body: ReqBody, max: usize, pace: Pace) -> Result<(), Error> {
    let mut total = 0;
    let mut window = None;
    while let Some(frame) = next_frame(&mut body, pace.idle).await? {
        let frame = frame.map_err(|_| Error::bad_request("cannot read request body"))?;
        total += frame.data_ref().map_or(0, Bytes::len);
        if total > max {
            return Err(body_too_large(max));
        }
        if body.is_hyper() && body.is_end_stream() {
            break;
        }
        pace.step(&mut window, total)?;
    }
    Ok(())
}
