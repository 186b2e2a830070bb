//! Configuration: the `FSA_*` directives.
//!
//! Directives come, in increasing priority, from defaults, a TOML file named by the
//! `FSA_CONFIG` environment variable, `FSA_*` environment variables, and code
//! ([`Config::set`]). Every name is checked: an unknown `FSA_*` name is an error, because a
//! typo in a security setting must never silently fall back to a default.
//!
//! The `toml` crate parses the file and the structured values (lists, tables) given in
//! environment variables; fsa maps the names itself so that each directive keeps
//! FlaskSimpleAuth's name, default and meaning (see `docs/CONFIG.md`).

use std::collections::BTreeMap;
use std::fmt;

pub use toml::Value;

use crate::error::ErrorFormat;

/// A configuration mistake, reported when the app is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration error: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `?` on an [`Error`](crate::Error) in set-up code (hashing a first user's password before
/// `build()`, say) reports it as a configuration error.
///
/// ```
/// # async fn f() -> Result<(), fsa_runtime::ConfigError> {
/// let hasher = fsa_runtime::App::new().build()?;
/// let hash: String = hasher.hash_password_unchecked("hobbes").await?;
/// # let _ = hash; Ok(()) }
/// ```
impl From<crate::Error> for ConfigError {
    fn from(e: crate::Error) -> Self {
        ConfigError(e.to_string())
    }
}

/// `FSA_MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Mode {
    /// Production (default): no debug headers.
    #[default]
    Prod,
    /// Development: `FSA-Request`, `FSA-User` and `FSA-Delay` response headers.
    Dev,
    /// Debug levels 1 to 4: dev headers and more logs.
    Debug(u8),
}

/// Where tokens are carried (`FSA_TOKEN_CARRIER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Carrier {
    /// `Authorization: <FSA_TOKEN_NAME> <token>` (default, name `Bearer`).
    #[default]
    Bearer,
    /// A custom header (default name `Auth`).
    Header,
    /// A cookie (default name `auth`).
    Cookie,
    /// A request parameter (default name `AUTH`).
    Param,
}

/// Token format (`FSA_TOKEN_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    /// FlaskSimpleAuth's own readable format `realm:login:limit:signature`.
    Fsa,
    /// JSON Web Tokens.
    Jwt,
}

/// All `FSA_*` directives, typed. Build with [`Config::default`], [`Config::from_env`] and
/// [`Config::set`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// `FSA_MODE`.
    pub mode: Mode,
    /// `FSA_LOGGING_LEVEL` (a tracing filter, e.g. `info`).
    pub logging_level: Option<String>,
    /// `FSA_SECURE`: refuse plain HTTP from non-loopback clients.
    pub secure: bool,
    /// `FSA_SERVER_ERROR`: status of internal errors.
    pub server_error: u16,
    /// `FSA_NOT_FOUND_ERROR`: status when an object permission hook says "not found".
    pub not_found_error: u16,
    /// `FSA_HANDLE_ALL_ERRORS`: format 404/405 and other routing errors too.
    pub handle_all_errors: bool,
    /// `FSA_KEEP_USER_ERRORS`: let handler panics propagate instead of answering 500.
    pub keep_user_errors: bool,
    /// `FSA_ERROR_RESPONSE`.
    pub error_response: ErrorFormat,
    /// `FSA_AUTH`: enabled schemes, as given.
    pub auth: Vec<String>,
    /// Whether `FSA_AUTH` was given as a scalar (then token and none are added around it).
    pub auth_is_scalar: bool,
    /// `FSA_AUTH_DEFAULT`: schemes for routes that name none.
    pub auth_default: Option<Vec<String>>,
    /// `FSA_REALM`.
    pub realm: String,
    /// `FSA_FAKE_LOGIN`.
    pub fake_login: String,
    /// `FSA_PARAM_USER`.
    pub param_user: String,
    /// `FSA_PARAM_PASS`.
    pub param_pass: String,
    /// `FSA_TOKEN_TYPE` (`None` disables tokens).
    pub token_type: Option<TokenType>,
    /// `FSA_TOKEN_ALGO` (`None`: blake2s for fsa, HS256 for jwt).
    pub token_algo: Option<String>,
    /// `FSA_TOKEN_CARRIER`.
    pub token_carrier: Carrier,
    /// `FSA_TOKEN_NAME` (`None`: the carrier's default name).
    pub token_name: Option<String>,
    /// `FSA_TOKEN_DELAY` in minutes.
    pub token_delay: f64,
    /// `FSA_TOKEN_GRACE` in minutes.
    pub token_grace: f64,
    /// `FSA_TOKEN_LENGTH`: signature bytes kept in fsa tokens.
    pub token_length: usize,
    /// `FSA_TOKEN_SECRET` (`None`: 256 random bits for this process).
    pub token_secret: Option<String>,
    /// `FSA_TOKEN_SIGN`: private key for public-key JWT algorithms.
    pub token_sign: Option<String>,
    /// `FSA_TOKEN_RENEWAL`: cookie renewal fraction of the delay.
    pub token_renewal: f64,
    /// `FSA_TOKEN_ISSUER`.
    pub token_issuer: Option<String>,
    /// `FSA_PASSWORD_SCHEME` (`None` disables password checks).
    pub password_scheme: Option<String>,
    /// `FSA_PASSWORD_OPTS`.
    pub password_opts: BTreeMap<String, Value>,
    /// `FSA_PASSWORD_LENGTH`: minimum length of new passwords.
    pub password_length: usize,
    /// `FSA_PASSWORD_RE`: regular expressions new passwords must all match.
    pub password_re: Vec<String>,
    /// `FSA_AUTHZ_GROUPS`: declared groups.
    pub authz_groups: Vec<Value>,
    /// `FSA_AUTHZ_SCOPES`: declared OAuth scopes.
    pub authz_scopes: Vec<String>,
    /// `FSA_DEFAULT_CONTENT_TYPE` for text responses.
    pub default_content_type: Option<String>,
    /// `FSA_JSON_STREAMING`.
    pub json_streaming: bool,
    /// `FSA_REJECT_UNEXPECTED_PARAM`.
    pub reject_unexpected_param: bool,
    /// `FSA_CACHE`: `ttl` (in process, default), `none`, `redis`.
    pub cache: String,
    /// `FSA_CACHE_SIZE`.
    pub cache_size: u64,
    /// `FSA_CACHE_OPTS` (e.g. `url`, `ttl`).
    pub cache_opts: BTreeMap<String, Value>,
    /// `FSA_CACHE_PREFIX`.
    pub cache_prefix: Option<String>,
    /// `FSA_CACHE_PASSWORDS` (fsa): cache successful password checks in process.
    pub cache_passwords: bool,
    /// `FSA_CACHE_USERS` (fsa): cache `get_user_pass` answers (stored password hashes).
    pub cache_users: bool,
    /// `FSA_CACHE_TOKENS` (fsa): cache token validations.
    pub cache_tokens: bool,
    /// `FSA_CACHE_GROUPS` (fsa): cache group membership answers.
    pub cache_groups: bool,
    /// `FSA_CACHE_PERMS` (fsa): cache object permission answers.
    pub cache_perms: bool,
    /// `FSA_401_REDIRECT`.
    pub redirect_401: Option<String>,
    /// `FSA_URL_NAME`.
    pub url_name: String,
    /// `FSA_CORS`.
    pub cors: bool,
    /// `FSA_CORS_OPTS`.
    pub cors_opts: BTreeMap<String, Value>,
    /// `FSA_MAX_BODY_SIZE` (fsa): request body limit in bytes (413 above).
    pub max_body_size: usize,
    /// `FSA_MAX_JSON_DEPTH` (fsa): maximum nesting of JSON request bodies (default 127, as
    /// deep as `serde_json` reads).
    pub max_json_depth: usize,
    /// `FSA_MAX_PARAMS` (fsa): the most parameters a request body may hold (form fields,
    /// multipart parts or top-level JSON members; 413 above), as Flask's `MAX_FORM_PARTS`
    /// bounds multipart parts: what a body of many tiny parameters costs in memory is then
    /// bounded, however large the body limit.
    pub max_params: usize,
    /// `FSA_HTTPD_HEADER` (fsa): header set by the fronting server for `httpd` auth.
    pub httpd_header: String,
    /// `FSA_TRUSTED_PROXIES` (fsa): peers allowed to set `httpd` and forwarded headers.
    pub trusted_proxies: Vec<String>,
    /// `FSA_ADD_HEADERS`: fixed headers added to every response.
    pub add_headers: BTreeMap<String, String>,
    /// `FSA_SERVER_HEADER_TIMEOUT` (fsa): seconds a client has to send its first bytes or end
    /// its TLS handshake; then the time after which a connection where nothing happens (no
    /// request completed, no handler running, no response piece produced, no byte written)
    /// is closed (HTTP/2: told to go away first); a request body may not pause for longer
    /// (408).
    pub server_header_timeout: f64,
    /// `FSA_SERVER_BODY_MIN_RATE` (fsa): bytes per second a request body must keep up, after
    /// its first piece, over every stretch of `FSA_SERVER_HEADER_TIMEOUT` (slower: 408); `0`
    /// turns it off.
    pub server_body_min_rate: u64,
    /// `FSA_SERVER_MAX_CONNECTIONS` (fsa): open connections served at once; further clients
    /// wait in the listen backlog.
    pub server_max_connections: usize,
    /// `FSA_SERVER_MAX_HEADER_SIZE` (fsa): bytes of request head buffered (larger heads get 431).
    pub server_max_header_size: usize,
    /// `FSA_SERVER_SHUTDOWN_TIMEOUT` (fsa): seconds granted to in-flight requests on shutdown.
    pub server_shutdown_timeout: f64,
    /// `FSA_TLS_CERT` (fsa, feature `tls`): PEM certificate chain file; with `FSA_TLS_KEY`,
    /// [`App::serve`](crate::App::serve) speaks HTTPS.
    pub tls_cert: Option<String>,
    /// `FSA_TLS_KEY` (fsa, feature `tls`): PEM private key file.
    pub tls_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Prod,
            logging_level: None,
            secure: true,
            server_error: 500,
            not_found_error: 404,
            handle_all_errors: true,
            keep_user_errors: false,
            error_response: ErrorFormat::Plain,
            auth: vec!["httpd".into()],
            auth_is_scalar: true,
            auth_default: None,
            realm: "fsa".into(),
            fake_login: "LOGIN".into(),
            param_user: "USER".into(),
            param_pass: "PASS".into(),
            token_type: Some(TokenType::Fsa),
            token_algo: None,
            token_carrier: Carrier::Bearer,
            token_name: None,
            token_delay: 60.0,
            token_grace: 0.0,
            token_length: 16,
            token_secret: None,
            token_sign: None,
            token_renewal: 0.0,
            token_issuer: None,
            password_scheme: Some("bcrypt".into()),
            password_opts: BTreeMap::new(),
            password_length: 0,
            password_re: Vec::new(),
            authz_groups: Vec::new(),
            authz_scopes: Vec::new(),
            default_content_type: None,
            json_streaming: true,
            reject_unexpected_param: true,
            cache: "ttl".into(),
            cache_size: 262_144,
            cache_opts: BTreeMap::new(),
            cache_prefix: None,
            cache_passwords: true,
            cache_users: true,
            cache_tokens: true,
            cache_groups: true,
            cache_perms: true,
            redirect_401: None,
            url_name: "URL".into(),
            cors: false,
            cors_opts: BTreeMap::new(),
            max_body_size: 16 * 1024 * 1024,
            max_json_depth: 127,
            max_params: 10_000,
            httpd_header: "X-Remote-User".into(),
            trusted_proxies: Vec::new(),
            add_headers: BTreeMap::new(),
            server_header_timeout: 10.0,
            server_max_connections: 1024,
            server_max_header_size: 64 * 1024,
            server_body_min_rate: 240,
            server_shutdown_timeout: 30.0,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// Directives of FlaskSimpleAuth that fsa deliberately does not implement, with the reason.
pub const LEFT_OUT: &[(&str, &str)] = &[
    ("FSA_LOCAL", "per-request state is carried by the request context; no thread-local storage is used"),
    ("FSA_HTTP_AUTH_OPTS", "Flask-HTTPAuth schemes are not ported; use a custom scheme"),
    ("FSA_CACHED_OPTS", "cachetools' decorator options have no equivalent; use FSA_CACHE_OPTS"),
    ("FSA_JSON_CONVERTER", "implement serde::Serialize for the type instead"),
    ("FSA_JSON_ALLSTR", "serde serialization is typed; implement Serialize"),
    ("FSA_GET_USER_PASS", "register hooks in code: App::get_user_pass"),
    ("FSA_AUTHENTICATION", "register hooks in code: App::authentication"),
    ("FSA_GROUP_CHECK", "register hooks in code: App::group_check"),
    ("FSA_USER_IN_GROUP", "register hooks in code: App::user_in_group"),
    ("FSA_OBJECT_PERMS", "register hooks in code: App::object_perms"),
    ("FSA_CAST", "register casts in code: App::cast or implement fsa::Scalar"),
    ("FSA_SPECIAL_PARAMETER", "implement fsa::Special for the type"),
    ("FSA_BEFORE_REQUEST", "register hooks in code: App::before_request"),
    ("FSA_BEFORE_EXEC", "register hooks in code: App::before_exec"),
    ("FSA_AFTER_REQUEST", "register hooks in code: App::after_request"),
    ("FSA_PASSWORD_QUALITY", "register hooks in code: App::password_quality"),
    ("FSA_PASSWORD_CHECK", "register hooks in code: App::password_check"),
    ("FSA_PATH_CHECK", "register hooks in code: App::path_check"),
];

fn type_err(name: &str, expected: &str, v: &Value) -> ConfigError {
    ConfigError(format!("{name} expects {expected}, got {v}"))
}

fn as_bool(name: &str, v: &Value) -> Result<bool, ConfigError> {
    match v {
        Value::Boolean(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
        _ => Err(type_err(name, "a boolean", v)),
    }
}

fn as_str(name: &str, v: &Value) -> Result<String, ConfigError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(type_err(name, "a string", v)),
    }
}

fn as_opt_str(name: &str, v: &Value) -> Result<Option<String>, ConfigError> {
    match v {
        Value::String(s) if s.is_empty() || s == "None" || s == "none" => Ok(None),
        _ => as_str(name, v).map(Some),
    }
}

fn as_f64(name: &str, v: &Value) -> Result<f64, ConfigError> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        Value::String(s) => s.trim().parse().map_err(|_| type_err(name, "a number", v)),
        _ => Err(type_err(name, "a number", v)),
    }
}

fn as_u64(name: &str, v: &Value) -> Result<u64, ConfigError> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        Value::String(s) => s.trim().parse().map_err(|_| type_err(name, "a non-negative integer", v)),
        _ => Err(type_err(name, "a non-negative integer", v)),
    }
}

fn as_list(name: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
    match v {
        Value::Array(a) => a.iter().map(|x| as_str(name, x)).collect(),
        Value::String(s) => Ok(s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
        _ => Err(type_err(name, "a list of strings", v)),
    }
}

fn as_table(name: &str, v: &Value) -> Result<BTreeMap<String, Value>, ConfigError> {
    match v {
        Value::Table(t) => Ok(t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Value::String(s) if s.is_empty() => Ok(BTreeMap::new()),
        // An inline TOML table, as in environment variables, so that code can write the
        // options as a literal: `.config("FSA_CACHE_OPTS", r#"{ host = "cache", port = 6379 }"#)`.
        Value::String(s) if s.trim_start().starts_with('{') => match parse_env_value(s) {
            Value::Table(t) => Ok(t.into_iter().collect()),
            _ => Err(type_err(name, "a table (invalid inline TOML table)", v)),
        },
        Value::String(s) => {
            // A URL is accepted as the whole option set (e.g. FSA_CACHE_OPTS=redis://...).
            Ok(BTreeMap::from([("url".to_owned(), Value::String(s.clone()))]))
        }
        _ => Err(type_err(name, "a table", v)),
    }
}

/// Parses an environment variable's text: TOML arrays, tables, quoted strings, booleans and
/// numbers are recognized, anything else is a string.
///
/// ```
/// use fsa_runtime::config::parse_env_value;
/// use toml::Value;
/// assert_eq!(parse_env_value("12"), Value::Integer(12));
/// assert_eq!(parse_env_value(r#""12""#), Value::String("12".into()));
/// assert_eq!(parse_env_value("acme"), Value::String("acme".into()));
/// ```
pub fn parse_env_value(text: &str) -> Value {
    let t = text.trim();
    if (t.starts_with('[') || t.starts_with('{') || t.starts_with('"') || t.starts_with('\''))
        && let Ok(v) = format!("v = {t}").parse::<toml::Table>()
        && let Some(v) = v.get("v")
    {
        return v.clone();
    }
    match t {
        "true" | "True" => return Value::Boolean(true),
        "false" | "False" => return Value::Boolean(false),
        _ => {}
    }
    if let Ok(i) = t.parse::<i64>() {
        return Value::Integer(i);
    }
    if t.contains('.')
        && let Ok(f) = t.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_owned())
}

/// The environment variables of fsa's own tooling that start with `FSA_` but are no
/// directives (besides every `FSA_TEST_*`): `FSA_CODEGEN_DEBUG` prints what the route macros
/// generate, `FSA_BLESS` rewrites the macros' expansion snapshots.
const TOOLING: &[&str] = &["FSA_CODEGEN_DEBUG", "FSA_BLESS"];

impl Config {
    /// Defaults, then the TOML file named by `FSA_CONFIG`, then `FSA_*` environment variables
    /// (read by [`parse_env_value`]; a directive that takes text takes a value that reads as a
    /// number or a boolean as it was written, `FSA_REALM=2024`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut c = Config::default();
        if let Ok(path) = std::env::var("FSA_CONFIG") {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError(format!("cannot read {path}: {e}")))?;
            c.merge_toml(&text)?;
        }
        let mut vars: Vec<(String, String)> =
            std::env::vars().filter(|(k, _)| k.starts_with("FSA_") && k != "FSA_CONFIG").collect();
        vars.sort();
        for (k, v) in vars {
            // Variables of fsa's own tooling are not directives.
            if k.starts_with("FSA_TEST_") || TOOLING.contains(&k.as_str()) {
                continue;
            }
            let value = parse_env_value(&v);
            let scalar = matches!(value, Value::Integer(_) | Value::Float(_) | Value::Boolean(_));
            match c.set(&k, value) {
                // A directive that takes text takes a value that reads as a number or a
                // boolean as it was written: `FSA_TOKEN_SECRET=0123…`, `FSA_REALM=2024`.
                Err(_) if scalar && c.set(&k, Value::String(v.trim().to_owned())).is_ok() => {}
                result => result?,
            }
        }
        Ok(c)
    }

    /// Applies the directives of a TOML document (top-level `FSA_*` keys).
    pub fn merge_toml(&mut self, text: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e| ConfigError(format!("invalid TOML: {e}")))?;
        for (k, v) in table {
            self.set(&k, v)?;
        }
        Ok(())
    }

    /// Sets one directive by its `FSA_*` name.
    ///
    /// ```
    /// use fsa_runtime::Config;
    /// let mut c = Config::default();
    /// c.set("FSA_AUTH", "basic").unwrap();
    /// assert!(c.set("FSA_AUHT", "basic").is_err());
    /// ```
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> Result<(), ConfigError> {
        let v = value.into();
        let n = name;
        match name {
            "FSA_MODE" => {
                self.mode = match as_str(n, &v)?.as_str() {
                    "prod" => Mode::Prod,
                    "dev" => Mode::Dev,
                    "debug" | "debug1" => Mode::Debug(1),
                    "debug2" => Mode::Debug(2),
                    "debug3" => Mode::Debug(3),
                    "debug4" => Mode::Debug(4),
                    _ => return Err(type_err(n, "prod, dev or debug1..debug4", &v)),
                }
            }
            "FSA_LOGGING_LEVEL" => {
                // Python's numeric levels (logging.DEBUG = 10, …) map to tracing levels.
                let level = match &v {
                    Value::Integer(i) if *i <= 10 => Some("debug".to_owned()),
                    Value::Integer(i) if *i <= 20 => Some("info".to_owned()),
                    Value::Integer(i) if *i <= 30 => Some("warn".to_owned()),
                    Value::Integer(_) => Some("error".to_owned()),
                    _ => as_opt_str(n, &v)?.map(|l| if l.eq_ignore_ascii_case("warning") { "warn".into() } else { l }),
                };
                if let Some(l) = &level {
                    check_logging_level(l)?;
                }
                self.logging_level = level;
            }
            "FSA_ALLOW_DEPRECATION" => {
                as_bool(n, &v)?;
            }
            "FSA_SECURE" => self.secure = as_bool(n, &v)?,
            "FSA_SERVER_ERROR" => self.server_error = STATUS.read(n, &v)? as u16,
            "FSA_NOT_FOUND_ERROR" => self.not_found_error = STATUS.read(n, &v)? as u16,
            "FSA_HANDLE_ALL_ERRORS" => self.handle_all_errors = as_bool(n, &v)?,
            "FSA_KEEP_USER_ERRORS" => self.keep_user_errors = as_bool(n, &v)?,
            "FSA_ERROR_RESPONSE" => {
                let s = as_str(n, &v)?;
                self.error_response =
                    ErrorFormat::parse(&s).ok_or_else(|| type_err(n, "plain, json or json:<key>", &v))?;
            }
            "FSA_AUTH" => {
                self.auth_is_scalar = !matches!(v, Value::Array(_));
                self.auth = as_list(n, &v)?;
                if self.auth_is_scalar && self.auth.len() != 1 {
                    self.auth_is_scalar = false;
                }
            }
            "FSA_AUTH_DEFAULT" => {
                self.auth_default = match &v {
                    Value::String(s) if s.is_empty() || s == "None" => None,
                    _ => Some(as_list(n, &v)?),
                }
            }
            "FSA_REALM" => self.realm = as_str(n, &v)?,
            "FSA_FAKE_LOGIN" => self.fake_login = as_str(n, &v)?,
            "FSA_PARAM_USER" => self.param_user = as_str(n, &v)?,
            "FSA_PARAM_PASS" => self.param_pass = as_str(n, &v)?,
            "FSA_TOKEN_TYPE" => {
                self.token_type = match as_opt_str(n, &v)?.as_deref() {
                    None => None,
                    Some("fsa") => Some(TokenType::Fsa),
                    Some("jwt") => Some(TokenType::Jwt),
                    Some(_) => return Err(type_err(n, "fsa, jwt or none", &v)),
                }
            }
            "FSA_TOKEN_ALGO" => {
                // `none` is kept so that the token manager refuses unsigned JWTs explicitly.
                self.token_algo = match &v {
                    Value::String(s) if s.eq_ignore_ascii_case("none") => Some(s.clone()),
                    _ => as_opt_str(n, &v)?,
                }
            }
            "FSA_TOKEN_CARRIER" => {
                self.token_carrier = match as_str(n, &v)?.as_str() {
                    "bearer" => Carrier::Bearer,
                    "header" => Carrier::Header,
                    "cookie" => Carrier::Cookie,
                    "param" => Carrier::Param,
                    _ => return Err(type_err(n, "bearer, header, cookie or param", &v)),
                }
            }
            "FSA_TOKEN_NAME" => self.token_name = as_opt_str(n, &v)?,
            "FSA_TOKEN_DELAY" => self.token_delay = MINUTES.read(n, &v)?,
            "FSA_TOKEN_GRACE" => self.token_grace = MINUTES.read(n, &v)?,
            "FSA_TOKEN_LENGTH" => self.token_length = as_u64(n, &v)? as usize,
            "FSA_TOKEN_SECRET" => self.token_secret = as_opt_str(n, &v)?,
            "FSA_TOKEN_SIGN" => self.token_sign = as_opt_str(n, &v)?,
            "FSA_TOKEN_RENEWAL" => self.token_renewal = FRACTION.read(n, &v)?,
            "FSA_TOKEN_ISSUER" => self.token_issuer = as_opt_str(n, &v)?,
            "FSA_PASSWORD_SCHEME" => self.password_scheme = as_opt_str(n, &v)?,
            "FSA_PASSWORD_OPTS" => self.password_opts = as_table(n, &v)?,
            "FSA_PASSWORD_LENGTH" => self.password_length = as_u64(n, &v)? as usize,
            "FSA_PASSWORD_RE" => self.password_re = as_list(n, &v)?,
            "FSA_AUTHZ_GROUPS" => {
                self.authz_groups = match v {
                    Value::Array(a) => a,
                    Value::String(s) => s.split(',').map(|x| Value::String(x.trim().to_owned())).collect(),
                    other => return Err(type_err(n, "a list of groups", &other)),
                }
            }
            "FSA_AUTHZ_SCOPES" => self.authz_scopes = as_list(n, &v)?,
            "FSA_DEFAULT_CONTENT_TYPE" => self.default_content_type = as_opt_str(n, &v)?,
            "FSA_JSON_STREAMING" => self.json_streaming = as_bool(n, &v)?,
            "FSA_REJECT_UNEXPECTED_PARAM" => self.reject_unexpected_param = as_bool(n, &v)?,
            "FSA_CACHE" => {
                let s = as_opt_str(n, &v)?.unwrap_or_else(|| "none".into());
                match s.as_str() {
                    "none" | "ttl" | "lru" | "tlru" | "dict" | "redis" => self.cache = s,
                    _ => return Err(type_err(n, "ttl, lru, none or redis", &v)),
                }
            }
            "FSA_CACHE_SIZE" => self.cache_size = as_u64(n, &v)?,
            "FSA_CACHE_OPTS" => self.cache_opts = as_table(n, &v)?,
            "FSA_CACHE_PREFIX" => self.cache_prefix = as_opt_str(n, &v)?,
            "FSA_CACHE_PASSWORDS" => self.cache_passwords = as_bool(n, &v)?,
            "FSA_CACHE_USERS" => self.cache_users = as_bool(n, &v)?,
            "FSA_CACHE_TOKENS" => self.cache_tokens = as_bool(n, &v)?,
            "FSA_CACHE_GROUPS" => self.cache_groups = as_bool(n, &v)?,
            "FSA_CACHE_PERMS" => self.cache_perms = as_bool(n, &v)?,
            "FSA_401_REDIRECT" => self.redirect_401 = as_opt_str(n, &v)?,
            "FSA_URL_NAME" => self.url_name = as_str(n, &v)?,
            "FSA_CORS" => self.cors = as_bool(n, &v)?,
            "FSA_CORS_OPTS" => self.cors_opts = as_table(n, &v)?,
            "FSA_MAX_BODY_SIZE" => self.max_body_size = as_u64(n, &v)? as usize,
            "FSA_MAX_JSON_DEPTH" => self.max_json_depth = as_u64(n, &v)? as usize,
            "FSA_MAX_PARAMS" => self.max_params = as_u64(n, &v)? as usize,
            "FSA_HTTPD_HEADER" => self.httpd_header = as_str(n, &v)?,
            "FSA_TRUSTED_PROXIES" => self.trusted_proxies = as_list(n, &v)?,
            "FSA_ADD_HEADERS" => {
                self.add_headers = as_table(n, &v)?
                    .into_iter()
                    .map(|(k, v)| as_str(n, &v).map(|s| (k, s)))
                    .collect::<Result<_, _>>()?
            }
            "FSA_SERVER_HEADER_TIMEOUT" => self.server_header_timeout = DELAY.read(n, &v)?,
            "FSA_SERVER_BODY_MIN_RATE" => self.server_body_min_rate = as_u64(n, &v)?,
            "FSA_SERVER_MAX_CONNECTIONS" => self.server_max_connections = (as_u64(n, &v)? as usize).max(1),
            "FSA_SERVER_MAX_HEADER_SIZE" => {
                self.server_max_header_size = (as_u64(n, &v)? as usize).max(LEAST_HEADER_SIZE)
            }
            "FSA_SERVER_SHUTDOWN_TIMEOUT" => self.server_shutdown_timeout = DELAY.read(n, &v)?,
            "FSA_TLS_CERT" => self.tls_cert = as_opt_str(n, &v)?,
            "FSA_TLS_KEY" => self.tls_key = as_opt_str(n, &v)?,
            _ => {
                if let Some((_, why)) = LEFT_OUT.iter().find(|(k, _)| *k == name) {
                    return Err(ConfigError(format!("{name} is not supported by fsa: {why}")));
                }
                return Err(ConfigError(format!("unexpected FSA_* directive: {name}")));
            }
        }
        Ok(())
    }

    /// The token algorithm in use, with its per-type default.
    pub fn token_algo(&self) -> &str {
        match (&self.token_algo, self.token_type) {
            (Some(a), _) => a,
            (None, Some(TokenType::Jwt)) => "HS256",
            _ => "blake2s",
        }
    }

    /// The token carrier's name, with its per-carrier default.
    pub fn token_name(&self) -> &str {
        match (&self.token_name, self.token_carrier) {
            (Some(n), _) => n,
            (None, Carrier::Bearer) => "Bearer",
            (None, Carrier::Header) => "Auth",
            (None, Carrier::Cookie) => "auth",
            (None, Carrier::Param) => "AUTH",
        }
    }
}

/// The longest delay a directive may give, in seconds (about 31 years): every delay becomes a
/// `std::time::Duration` and a deadline on the tokio clock, which a finite but huge number of
/// seconds would overflow (a panic at start-up or in a request), so it is refused here.
pub(crate) const MAX_SECONDS: f64 = 1e9;

/// Whether `s` seconds is a delay fsa takes: positive, finite, at most [`MAX_SECONDS`].
pub(crate) fn is_delay(s: f64) -> bool {
    s.is_finite() && s > 0.0 && s <= MAX_SECONDS
}

/// The least `FSA_SERVER_MAX_HEADER_SIZE`, in bytes: a smaller value is raised to it (hyper
/// reads a request head in a buffer of at least this size).
pub(crate) const LEAST_HEADER_SIZE: usize = 8192;

/// What a numeric directive's value must be: the test, and what the error says is expected.
/// [`Config::set`] applies it to the value read, [`Config::check`] to the field, so that both
/// refuse the same values with the same words.
struct Rule<T> {
    holds: fn(T) -> bool,
    expects: &'static str,
}

impl<T: Copy> Rule<T> {
    /// `x` if it holds, else the error that names the directive, what it expects and what it
    /// got (`got`: the value as written, or the field).
    fn apply(&self, name: &str, x: T, got: &dyn fmt::Display) -> Result<T, ConfigError> {
        if (self.holds)(x) { Ok(x) } else { Err(ConfigError(format!("{name} expects {}, got {got}", self.expects))) }
    }
}

impl<T: Copy + fmt::Display> Rule<T> {
    /// Whether the field `x` of the directive `name` holds, as an error if it does not.
    fn check(&self, name: &str, x: T) -> Result<(), ConfigError> {
        self.apply(name, x, &x).map(drop)
    }
}

impl Rule<f64> {
    /// The number `v` written for the directive `name`, if it holds.
    fn read(&self, name: &str, v: &Value) -> Result<f64, ConfigError> {
        self.apply(name, as_f64(name, v)?, v)
    }
}

impl Rule<u64> {
    /// The count `v` written for the directive `name`, if it holds.
    fn read(&self, name: &str, v: &Value) -> Result<u64, ConfigError> {
        self.apply(name, as_u64(name, v)?, v)
    }
}

/// A delay in seconds (`FSA_SERVER_HEADER_TIMEOUT`, `FSA_SERVER_SHUTDOWN_TIMEOUT`).
const DELAY: Rule<f64> = Rule { holds: is_delay, expects: "a positive number of seconds, at most 1e9" };

/// A token's life in minutes (`FSA_TOKEN_DELAY`, `FSA_TOKEN_GRACE`): finite, not negative, at
/// most [`MAX_SECONDS`] (an expiry is a count of seconds from now, which a larger one overflows).
const MINUTES: Rule<f64> = Rule {
    holds: |m| m.is_finite() && m >= 0.0 && m * 60.0 <= MAX_SECONDS,
    expects: "a number of minutes, from 0 to 1e9 seconds",
};

/// A fraction of a token's life (`FSA_TOKEN_RENEWAL`): finite, not negative.
const FRACTION: Rule<f64> =
    Rule { holds: |f| f.is_finite() && f >= 0.0, expects: "a fraction of the token's life, not negative" };

/// A status code fsa answers with, 100 to 599 (`FSA_SERVER_ERROR`, `FSA_NOT_FOUND_ERROR`).
const STATUS: Rule<u64> = Rule { holds: |n| (100..=599).contains(&n), expects: "an HTTP status code" };

/// Refuses an `FSA_LOGGING_LEVEL` that is not a level, or a filter tracing cannot read.
fn check_logging_level(level: &str) -> Result<(), ConfigError> {
    const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];
    let bare = |d: &str| !d.contains('=') && !LEVELS.iter().any(|x| d.trim().eq_ignore_ascii_case(x));
    if let Some(d) = level.split(',').find(|d| bare(d)) {
        return Err(ConfigError(format!("FSA_LOGGING_LEVEL: {d:?} is not a level (trace, debug, info, warn, error)")));
    }
    tracing_subscriber::EnvFilter::try_new(level)
        .map(drop)
        .map_err(|e| ConfigError(format!("FSA_LOGGING_LEVEL: invalid level or filter {level:?}: {e}")))
}

impl Config {
    /// Checks the values [`set`](Self::set) checks, for settings written to the fields
    /// directly (`AppBuilder::configure`), which the build runs through it: a negative delay
    /// or a status code out of range is a `ConfigError` there too, not a panic when serving.
    /// The limits `set` raises to their least (`FSA_SERVER_MAX_CONNECTIONS` 1,
    /// `FSA_SERVER_MAX_HEADER_SIZE` 8192) are raised the same way.
    pub(crate) fn check(&mut self) -> Result<(), ConfigError> {
        let errors: Vec<String> = [
            DELAY.check("FSA_SERVER_HEADER_TIMEOUT", self.server_header_timeout),
            DELAY.check("FSA_SERVER_SHUTDOWN_TIMEOUT", self.server_shutdown_timeout),
            MINUTES.check("FSA_TOKEN_DELAY", self.token_delay),
            MINUTES.check("FSA_TOKEN_GRACE", self.token_grace),
            FRACTION.check("FSA_TOKEN_RENEWAL", self.token_renewal),
            STATUS.check("FSA_SERVER_ERROR", self.server_error.into()),
            STATUS.check("FSA_NOT_FOUND_ERROR", self.not_found_error.into()),
            self.logging_level.as_deref().map_or(Ok(()), check_logging_level),
        ]
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.0))
        .collect();
        self.server_max_connections = self.server_max_connections.max(1);
        self.server_max_header_size = self.server_max_header_size.max(LEAST_HEADER_SIZE);
        if errors.is_empty() { Ok(()) } else { Err(ConfigError(errors.join("\n"))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_as_inline_toml_text() {
        let mut c = Config::default();
        c.set("FSA_CACHE_OPTS", r#"{ host = "cache.acme.example", port = 6379 }"#).unwrap();
        assert_eq!(c.cache_opts.get("host").and_then(Value::as_str), Some("cache.acme.example"));
        assert_eq!(c.cache_opts.get("port").and_then(Value::as_integer), Some(6379));
        c.set("FSA_CACHE_OPTS", "redis://cache:6379/2").unwrap();
        assert_eq!(c.cache_opts.get("url").and_then(Value::as_str), Some("redis://cache:6379/2"));
        let err = c.set("FSA_CACHE_OPTS", "{ host = ").unwrap_err();
        assert!(err.0.contains("FSA_CACHE_OPTS"), "{}", err.0);
    }

    #[test]
    fn delays_are_positive_and_bounded() {
        let mut c = Config::default();
        c.set("FSA_SERVER_HEADER_TIMEOUT", 0.5).unwrap();
        c.set("FSA_SERVER_SHUTDOWN_TIMEOUT", "1e9").unwrap();
        for bad in [Value::from(0), Value::from(-1), Value::from(1e300), Value::from("inf"), Value::from("NaN")] {
            for name in ["FSA_SERVER_HEADER_TIMEOUT", "FSA_SERVER_SHUTDOWN_TIMEOUT"] {
                let e = c.set(name, bad.clone()).unwrap_err();
                assert!(e.0.contains(name) && e.0.contains("seconds, at most 1e9"), "{bad}: {}", e.0);
            }
        }
        // The words say the bound the test applies.
        assert!(
            DELAY.expects.ends_with(&format!("{MAX_SECONDS:e}"))
                && MINUTES.expects.contains(&format!("{MAX_SECONDS:e}"))
        );
        // Every delay accepted converts without a panic.
        assert!(std::time::Duration::try_from_secs_f64(MAX_SECONDS).is_ok());
        assert_eq!((c.server_header_timeout, c.server_shutdown_timeout), (0.5, 1e9));
    }

    #[test]
    fn set_and_check_refuse_in_the_same_words() {
        type Write = fn(&mut Config);
        let fields: [(&str, Write); 7] = [
            ("FSA_SERVER_HEADER_TIMEOUT", |c| c.server_header_timeout = -1.0),
            ("FSA_SERVER_SHUTDOWN_TIMEOUT", |c| c.server_shutdown_timeout = -1.0),
            ("FSA_TOKEN_DELAY", |c| c.token_delay = -1.0),
            ("FSA_TOKEN_GRACE", |c| c.token_grace = -1.0),
            ("FSA_TOKEN_RENEWAL", |c| c.token_renewal = -1.0),
            ("FSA_SERVER_ERROR", |c| c.server_error = 1000),
            ("FSA_NOT_FOUND_ERROR", |c| c.not_found_error = 1000),
        ];
        for (name, write) in fields {
            let bad = if name.ends_with("_ERROR") { Value::from(1000) } else { Value::from(-1) };
            let by_set = Config::default().set(name, bad).unwrap_err().0;
            let mut c = Config::default();
            write(&mut c);
            let by_check = c.check().unwrap_err().0;
            assert_eq!(by_set, by_check, "{name}");
        }
        assert!(Config::default().check().is_ok());
    }

    #[test]
    fn body_min_rate_is_a_count_of_bytes() {
        let mut c = Config::default();
        assert_eq!(c.server_body_min_rate, 240);
        c.set("FSA_SERVER_BODY_MIN_RATE", 0).unwrap();
        assert_eq!(c.server_body_min_rate, 0, "0 turns the minimum off");
        c.set("FSA_SERVER_BODY_MIN_RATE", "1000").unwrap();
        assert_eq!(c.server_body_min_rate, 1000);
        for bad in [Value::from(-1), Value::from("fast"), Value::from(2.5)] {
            let e = c.set("FSA_SERVER_BODY_MIN_RATE", bad.clone()).unwrap_err();
            assert!(e.0.contains("FSA_SERVER_BODY_MIN_RATE"), "{bad}: {}", e.0);
        }
        assert_eq!(c.server_body_min_rate, 1000);
    }

    #[test]
    fn unknown_directive_is_an_error() {
        let mut c = Config::default();
        let e = c.set("FSA_TOKEN_SECERT", "x").unwrap_err();
        assert!(e.0.contains("FSA_TOKEN_SECERT"));
        assert!(c.set("FSA_LOCAL", "thread").unwrap_err().0.contains("not supported"));
        // Hooks are registered in code, and the directive that would name them says where.
        let e = c.set("FSA_OBJECT_PERMS", "{}").unwrap_err().0;
        assert!(e.contains("FSA_OBJECT_PERMS is not supported by fsa") && e.contains("App::object_perms"), "{e}");
    }

    #[test]
    fn env_values_are_typed() {
        assert_eq!(parse_env_value("true"), Value::Boolean(true));
        assert_eq!(parse_env_value("12"), Value::Integer(12));
        assert_eq!(parse_env_value("[\"a\", \"b\"]"), Value::Array(vec!["a".into(), "b".into()]));
        assert_eq!(parse_env_value("basic"), Value::String("basic".into()));
    }

    #[test]
    fn toml_file_directives() {
        let mut c = Config::default();
        c.merge_toml("FSA_AUTH = [\"token\", \"basic\"]\nFSA_TOKEN_DELAY = 10\nFSA_ERROR_RESPONSE = \"json:error\"")
            .unwrap();
        assert_eq!(c.auth, vec!["token", "basic"]);
        assert!(!c.auth_is_scalar);
        assert_eq!(c.token_delay, 10.0);
        assert_eq!(c.error_response, ErrorFormat::JsonKey("error".into()));
        assert!(c.merge_toml("FSA_NOPE = 1").is_err());
    }
}
