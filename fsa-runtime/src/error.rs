//! Errors that become HTTP responses.
//!
//! [`Error`] is the Rust counterpart of FlaskSimpleAuth's `ErrorResponse`: a status, a
//! client-facing message and optional headers. Every error the framework produces (401, 403,
//! 400 parameter errors, 404/405 routing errors, 500s) goes through one formatter chosen by
//! `FSA_ERROR_RESPONSE` (see [`ErrorFormat`]), so clients always see one error shape.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::response::{Body, Response};

/// Result type of handlers and hooks: `Ok` value or an [`Error`] answered to the client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A client-facing error: HTTP status, message and extra headers (upstream `ErrorResponse`).
///
/// ```
/// use fsa_runtime::Error;
/// let e = Error::new(418, "I am a teapot");
/// assert_eq!(e.status().as_u16(), 418);
/// assert_eq!(e.message(), "I am a teapot");
/// ```
#[derive(Clone)]
#[doc(alias = "ErrorResponse")]
pub struct Error {
    status: StatusCode,
    message: Cow<'static, str>,
    /// Boxed: most errors have neither, and an error is part of every `Result` a request's
    /// futures carry (40 bytes rather than 96).
    extra: Option<Box<ErrorExtra>>,
    /// Internal errors keep their cause for the logs, never for the client.
    internal: bool,
}

/// The rarer parts of an [`Error`].
#[derive(Clone, Default)]
struct ErrorExtra {
    headers: Vec<(HeaderName, HeaderValue)>,
    content_type: Option<HeaderValue>,
}

impl Error {
    /// An error with this status (out-of-range codes become 500) and message.
    pub fn new(status: impl TryInto<StatusCode>, message: impl Into<Cow<'static, str>>) -> Self {
        let status = status.try_into().unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Error { status, message: message.into(), extra: None, internal: false }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// An internal error: logged with its cause, answered with a generic message and the
    /// configured `FSA_SERVER_ERROR` status.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(target: "fsa", "internal error: {cause}");
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        e.internal = true;
        e
    }

    /// Adds a header to the error response (e.g. `Retry-After`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra.get_or_insert_default().headers.push((name, value));
        self
    }

    /// Forces the content type of this error's body, bypassing `FSA_ERROR_RESPONSE`.
    pub fn with_content_type(mut self, ct: HeaderValue) -> Self {
        self.extra.get_or_insert_default().content_type = Some(ct);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether this is an internal (server) error whose details stay in the logs.
    pub fn is_internal(&self) -> bool {
        self.internal
    }

    pub(crate) fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    /// Builds the response in the given format.
    pub fn into_response(self, format: &ErrorFormat) -> Response {
        let (headers, content_type) = match self.extra {
            Some(extra) => (extra.headers, extra.content_type),
            None => (Vec::new(), None),
        };
        let (ct, body) = match (content_type, format) {
            (Some(ct), _) => (ct, Body::from(Bytes::from(self.message.into_owned()))),
            (None, ErrorFormat::Plain) => (
                HeaderValue::from_static("text/plain; charset=utf-8"),
                Body::from(Bytes::from(self.message.into_owned())),
            ),
            (None, format) => {
                let (content_type, body) = format.render(&self.message);
                (HeaderValue::from_static(content_type), Body::from(body))
            }
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = self.status;
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
        for (k, v) in headers {
            resp.headers_mut().append(k, v);
        }
        resp
    }
}

/// Appends `text` as a JSON string written the way Python's `json.dumps` writes it, as
/// FlaskSimpleAuth's error bodies are (`{"error": "I am a teapot"}`): `serde_json`'s string
/// with the characters beyond ASCII and DEL escaped too
/// ([`push_python_ascii`](crate::response::push_python_ascii)).
fn python_json_string(text: &str, out: &mut String) {
    // A string always serializes.
    if let Ok(quoted) = serde_json::to_string(text) {
        crate::response::push_python_ascii(out, &quoted);
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}, {:?})", self.status.as_u16(), self.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

/// `?` on an I/O error (a file, a socket) answers an internal error: the cause is logged, the
/// client sees `internal error`, as Flask answers an uncaught `OSError`.
///
/// ```
/// use fsa_runtime::Error;
/// fn read_banner() -> fsa_runtime::Result<String> {
///     Ok(std::fs::read_to_string("/no/such/banner.txt")?)
/// }
/// let e: Error = read_banner().unwrap_err();
/// assert_eq!((e.status().as_u16(), e.message(), e.is_internal()), (500, "internal error", true));
/// ```
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e)
    }
}

/// `?` on garde's validation of a value the handler holds or builds (`item.validate()?`)
/// answers a 400 listing every complaint, as the validation of a parameter or of a
/// [`JsonBody`](crate::JsonBody) does: `age: lower than 18; login: length is lower than 1`.
impl From<garde::Report> for Error {
    fn from(report: garde::Report) -> Self {
        Error::bad_request(crate::params::garde_report(&report))
    }
}

/// `?` on a poisoned lock (`mutex.lock()?`) answers an internal error: another request
/// panicked while holding it.
impl<T> From<std::sync::PoisonError<T>> for Error {
    fn from(e: std::sync::PoisonError<T>) -> Self {
        Error::internal(e)
    }
}

/// `?` on a blocking task that panicked or was cancelled (`spawn_blocking(..).await?`)
/// answers an internal error.
impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::internal(e)
    }
}

/// How framework errors are rendered (`FSA_ERROR_RESPONSE`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ErrorFormat {
    /// `plain`: `text/plain` body holding the message (default).
    #[default]
    Plain,
    /// `json`: the message as a JSON string.
    Json,
    /// `json:<key>`: a JSON object `{"<key>": message}`.
    ///
    /// Both JSON forms are written byte for byte as FlaskSimpleAuth writes them (Python's
    /// `json.dumps`): `{"error": "no such user: caf\u00e9"}`, a space after the colon,
    /// characters beyond ASCII escaped, no final newline.
    JsonKey(String),
}

impl ErrorFormat {
    /// Parses `plain`, `json` or `json:<key>`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "plain" => Some(Self::Plain),
            "json" => Some(Self::Json),
            _ => s.strip_prefix("json:").filter(|k| !k.is_empty()).map(|k| Self::JsonKey(k.to_owned())),
        }
    }

    /// The content type and the body of `message` in this format.
    pub(crate) fn render(&self, message: &str) -> (&'static str, String) {
        match self {
            Self::Plain => ("text/plain; charset=utf-8", message.to_owned()),
            Self::Json => {
                let mut out = String::with_capacity(message.len() + 2);
                python_json_string(message, &mut out);
                ("application/json", out)
            }
            Self::JsonKey(key) => {
                let mut out = String::with_capacity(key.len() + message.len() + 8);
                out.push('{');
                python_json_string(key, &mut out);
                out.push_str(": ");
                python_json_string(message, &mut out);
                out.push('}');
                ("application/json", out)
            }
        }
    }
}

/// Shortcut for `Err(Error::new(status, message))`, like upstream `fsa.err`.
pub fn err<T>(status: u16, message: impl Into<Cow<'static, str>>) -> Result<T> {
    Err(Error::new(status, message))
}

/// `Err(Error::new(status, message))` unless `ok`, like upstream `fsa.checkVal`: a guard that
/// reads as one line in a handler.
///
/// ```
/// use fsa_runtime::check_val;
/// fn withdraw(balance: i64, amount: i64) -> fsa_runtime::Result<i64> {
///     check_val(amount > 0, 400, "amount must be positive")?;
///     check_val(amount <= balance, 403, "insufficient funds")?;
///     Ok(balance - amount)
/// }
/// assert_eq!(withdraw(10, 3).unwrap(), 7);
/// assert_eq!(withdraw(10, 0).unwrap_err().status().as_u16(), 400);
/// assert_eq!(withdraw(10, 30).unwrap_err().message(), "insufficient funds");
/// ```
#[doc(alias = "checkVal")]
pub fn check_val(ok: bool, status: u16, message: impl Into<Cow<'static, str>>) -> Result<()> {
    if ok { Ok(()) } else { err(status, message) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error is part of every `Result` the request's futures carry: its rarer parts stay
    /// boxed, and they still reach the response.
    #[test]
    fn an_error_is_small_and_keeps_its_extras() {
        assert!(std::mem::size_of::<Error>() <= 40, "Error is {} bytes", std::mem::size_of::<Error>());
        let e = Error::new(429, "slow down")
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("3"))
            .with_content_type(HeaderValue::from_static("text/x-test"));
        let resp = e.clone().into_response(&ErrorFormat::Json);
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/x-test");
        let plain = Error::bad_request("no").into_response(&ErrorFormat::Json);
        assert_eq!(plain.headers()[header::CONTENT_TYPE], "application/json");
        assert!(plain.headers().get(header::RETRY_AFTER).is_none());
    }

    /// The bytes of FlaskSimpleAuth 36's error bodies for the same messages
    /// (`FSA_ERROR_RESPONSE` `json:error` and `json`): Python's `json.dumps`.
    #[tokio::test]
    async fn json_errors_are_written_as_python_writes_them() {
        let mut out = String::new();
        python_json_string("I am a \"teapot\" \u{e9} \u{2603} \u{1d11e}\n\t/\u{1}\u{7f}\\", &mut out);
        assert_eq!(out, r#""I am a \"teapot\" \u00e9 \u2603 \ud834\udd1e\n\t/\u0001\u007f\\""#);
        let mut out = String::new();
        python_json_string("\u{8}\u{c}\r~ ", &mut out);
        assert_eq!(out, r#""\b\f\r~ ""#);
        let key = ErrorFormat::JsonKey("error".to_owned());
        let resp = Error::new(418, "I am a teapot").into_response(&key);
        let body = resp.into_body().collect().await.expect("a full body");
        assert_eq!(&body[..], br#"{"error": "I am a teapot"}"#);
        let resp = Error::new(418, "x \u{e9}").into_response(&ErrorFormat::Json);
        assert_eq!(&resp.into_body().collect().await.expect("a full body")[..], br#""x \u00e9""#);
    }
}
