//! Response bodies and the conversions from handler return values.
//!
//! A handler may return anything implementing [`Responder`]: text (`&str`, `String`), `()`
//! (empty 200), [`Json`] of any `Serialize` value, a `(body, status)` tuple like Python's
//! `(body, status)` returns, a full [`Response`], or a `Result` of those with [`Error`].

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderValue, StatusCode, header};
use http_body::Frame;
use serde::Serialize;

use crate::error::Error;

/// The HTTP response type of fsa.
pub type Response = http::Response<Body>;

type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = Error> + Send>>;

/// A response body: either whole bytes or a stream of chunks.
pub struct Body(BodyInner);

enum BodyInner {
    Full(Option<Bytes>),
    /// Streams and other bodies that come in pieces: one variant, so that the common
    /// whole body's drop and poll stay a test and a few instructions.
    Pieces(BoxBody),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body(BodyInner::Full(None))
    }

    /// A streamed body.
    ///
    /// Served by the built-in server, a stream waiting for its next piece keeps its
    /// connection open as a running handler does, however long it waits; a client that left
    /// meanwhile is noticed at the next write. A long-lived stream (server-sent events) should
    /// send something now and then, as a comment line, so that a departed client frees its
    /// connection.
    pub fn from_stream(s: impl Stream<Item = Result<Bytes, Error>> + Send + 'static) -> Self {
        use futures_util::TryStreamExt;
        Self::from_body(http_body_util::StreamBody::new(s.map_ok(Frame::data)))
    }

    /// Any other body of bytes.
    pub(crate) fn from_body(b: impl http_body::Body<Data = Bytes, Error = Error> + Send + 'static) -> Self {
        Body(BodyInner::Pieces(Box::pin(b)))
    }

    /// Whether the body comes in pieces, rather than whole bytes at once.
    pub(crate) fn is_streamed(&self) -> bool {
        !matches!(self.0, BodyInner::Full(_))
    }

    /// Collects the whole body (for tests and hooks).
    pub async fn collect(self) -> Result<Bytes, Error> {
        match self.0 {
            BodyInner::Full(b) => Ok(b.unwrap_or_default()),
            BodyInner::Pieces(b) => {
                use http_body_util::BodyExt;
                Ok(BodyExt::collect(b).await?.to_bytes())
            }
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body(BodyInner::Full(if b.is_empty() { None } else { Some(b) }))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Bytes::from_static(s.as_bytes()).into()
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Bytes::from(v).into()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match &mut self.0 {
            BodyInner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            BodyInner::Pieces(b) => b.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            BodyInner::Full(b) => b.is_none(),
            BodyInner::Pieces(b) => b.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.0 {
            BodyInner::Full(b) => http_body::SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            BodyInner::Pieces(b) => b.size_hint(),
        }
    }
}

/// Marks a text response whose content type may be replaced by `FSA_DEFAULT_CONTENT_TYPE`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DefaultText;

/// Conversion of a handler's return value into a response.
///
/// Implemented for text, `()`, [`Json`], `(body, status)`, [`Response`] and `Result`s of those.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by an fsa route",
    note = "return text, `()`, `fsa::Json<T>`, `(body, status)`, a `Response`, or `fsa::Result` of those",
    note = "a number, a `serde_json::Value` or another serde value goes out as `fsa::Json(value)`; a status comes second, `(body, StatusCode::CREATED)`"
)]
pub trait Responder {
    /// Builds the response, or an error to be rendered in the configured error format.
    fn respond(self) -> Result<Response, Error>;
}

fn text_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r.extensions_mut().insert(DefaultText);
    r
}

impl Responder for &'static str {
    fn respond(self) -> Result<Response, Error> {
        Ok(text_response(self.into()))
    }
}

impl Responder for String {
    fn respond(self) -> Result<Response, Error> {
        Ok(text_response(self.into()))
    }
}

impl Responder for () {
    fn respond(self) -> Result<Response, Error> {
        Ok(text_response(Body::empty()))
    }
}

impl Responder for Response {
    fn respond(self) -> Result<Response, Error> {
        Ok(self)
    }
}

impl Responder for StatusCode {
    fn respond(self) -> Result<Response, Error> {
        let mut r = text_response(Body::empty());
        *r.status_mut() = self;
        Ok(r)
    }
}

impl<T: Responder> Responder for Option<T> {
    /// `None` is an empty 200 body, as when a Python route returns `None`.
    fn respond(self) -> Result<Response, Error> {
        match self {
            Some(t) => t.respond(),
            None => ().respond(),
        }
    }
}

impl<T: Responder, E: Into<Error>> Responder for Result<T, E> {
    fn respond(self) -> Result<Response, Error> {
        self.map_err(Into::into)?.respond()
    }
}

impl<T: Responder> Responder for (T, StatusCode) {
    fn respond(self) -> Result<Response, Error> {
        let mut r = self.0.respond()?;
        *r.status_mut() = self.1;
        Ok(r)
    }
}

impl<T: Responder> Responder for (T, u16) {
    fn respond(self) -> Result<Response, Error> {
        let status = StatusCode::from_u16(self.1).map_err(Error::internal)?;
        (self.0, status).respond()
    }
}

/// A JSON response body for any `Serialize` value (upstream `jsonify`).
///
/// The body is the JSON text followed by a newline, with `Content-Type: application/json`.
///
/// ```
/// use fsa_runtime::{Json, Responder};
/// let r = Json(vec![1, 2]).respond().unwrap();
/// assert_eq!(r.headers()["content-type"], "application/json");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> Responder for Json<T> {
    fn respond(self) -> Result<Response, Error> {
        Ok(json_response(json_body(&self.0)?))
    }
}

/// Texts up to this size are written into the per-thread buffer of [`json_body`] and copied
/// out; larger ones are handed over without a copy.
const JSON_COPY_MAX: usize = 4096;

/// Appends the JSON text `json`, as `serde_json` writes it, to `out` with the characters that
/// Python's `json.dumps` also escapes by default (`ensure_ascii`) escaped: each one beyond
/// ASCII, and DEL, as `\uXXXX` (a UTF-16 surrogate pair beyond the Basic Multilingual Plane).
/// `serde_json` already writes quotes, backslashes and control characters as Python does, and
/// these characters can only stand inside strings, so escaping them afterwards is exact.
pub(crate) fn push_python_ascii(out: &mut String, json: &str) {
    use std::fmt::Write;
    for c in json.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                // Writing to a `String` cannot fail.
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
}

/// The JSON text of `value` and a newline, as a body. The text is written into a reused
/// per-thread buffer and copied out at its exact size: one allocation per response, where a
/// growing vector handed to `Bytes` costs two (the vector and `Bytes`' shared header, as its
/// length is not its capacity). A text over [`JSON_COPY_MAX`] bytes takes the buffer with it,
/// and so does a failed one, so that the buffer never stays larger than that for long.
pub(crate) fn json_body<T: Serialize + ?Sized>(value: &T) -> Result<Body, Error> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let write = |out: &mut Vec<u8>| -> Result<(), Error> {
        serde_json::to_writer(&mut *out, value).map_err(Error::internal)?;
        out.push(b'\n');
        Ok(())
    };
    BUFFER.with(|cell| {
        // Busy only if a `Serialize` implementation builds a JSON response itself.
        let Ok(mut buffer) = cell.try_borrow_mut() else {
            let mut out = Vec::with_capacity(64);
            write(&mut out)?;
            return Ok(Body::from(out));
        };
        buffer.clear();
        let written = write(&mut buffer);
        if written.is_err() || buffer.len() > JSON_COPY_MAX {
            let text = std::mem::take(&mut *buffer);
            return written.map(|()| Body::from(text));
        }
        Ok(Body::from(Bytes::copy_from_slice(&buffer)))
    })
}

pub(crate) fn json_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Shortcut for `Json(value)`, named like upstream's `fsa.jsonify`.
pub fn jsonify<T: Serialize>(value: T) -> Json<T> {
    Json(value)
}

/// A JSON array streamed item by item from an iterator, without building it in memory
/// (upstream `jsonify(generator)` with `FSA_JSON_STREAMING`).
///
/// ```
/// use fsa_runtime::JsonStream;
/// let squares = JsonStream::new((0..4).map(|i| i * i));
/// # let _ = squares;
/// ```
pub struct JsonStream<I>(I);

impl<I> JsonStream<I> {
    /// Streams the items of `iter` as a JSON array.
    pub fn new(iter: I) -> Self {
        JsonStream(iter)
    }
}

impl<I> Responder for JsonStream<I>
where
    I: IntoIterator + Send + 'static,
    I::IntoIter: Send + 'static,
    I::Item: Serialize,
{
    fn respond(self) -> Result<Response, Error> {
        let mut first = true;
        let mut done = false;
        let mut iter = self.0.into_iter();
        let stream = futures_util::stream::poll_fn(move |_| {
            if done {
                return Poll::Ready(None);
            }
            let mut chunk = Vec::with_capacity(256);
            if first {
                chunk.push(b'[');
            }
            // Batch a few items per chunk to keep frames reasonably sized.
            for _ in 0..64 {
                match iter.next() {
                    Some(item) => {
                        if !first {
                            chunk.push(b',');
                        }
                        first = false;
                        if let Err(e) = serde_json::to_writer(&mut chunk, &item) {
                            done = true;
                            return Poll::Ready(Some(Err(Error::internal(e))));
                        }
                    }
                    None => {
                        if first {
                            first = false;
                        }
                        chunk.extend_from_slice(b"]\n");
                        done = true;
                        break;
                    }
                }
            }
            Poll::Ready(Some(Ok(Bytes::from(chunk))))
        });
        let mut r = json_response(Body::from_stream(stream));
        r.extensions_mut().insert(StreamedJson);
        Ok(r)
    }
}

/// Marks a [`JsonStream`] response, collected into one body when `FSA_JSON_STREAMING` is off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamedJson;

/// With `FSA_JSON_STREAMING = false`, builds a streamed JSON array as one body (with its
/// `Content-Length`) before answering.
pub(crate) async fn unstream(resp: Response, streaming: bool) -> Result<Response, Error> {
    if streaming || resp.extensions().get::<StreamedJson>().is_none() {
        return Ok(resp);
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = body.collect().await?;
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Python's `json.dumps({"s": "\x7f é 𝄞"}, separators=(",", ":"))`, as the fsa tokens
    /// and JSON error bodies need it.
    #[test]
    fn python_ascii_escapes_what_python_escapes() {
        let text = serde_json::to_string(&serde_json::json!({"s": "\u{7f} \u{e9} \u{1d11e}\n"})).expect("JSON");
        let mut out = String::new();
        push_python_ascii(&mut out, &text);
        assert_eq!(out, r#"{"s":"\u007f \u00e9 \ud834\udd1e\n"}"#);
    }
    use futures_util::FutureExt;

    fn text(r: Result<Response, Error>) -> String {
        let body = r.unwrap().into_body().collect().now_or_never().unwrap().unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    /// Serialized as the text of a JSON response built while serializing.
    struct Nested;

    impl Serialize for Nested {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&text(Json([1, 2]).respond()))
        }
    }

    /// Fails half-way through a long text.
    struct Failing;

    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{Error as _, SerializeSeq};
            let mut seq = s.serialize_seq(None)?;
            seq.serialize_element(&"x".repeat(JSON_COPY_MAX * 4))?;
            Err(S::Error::custom("failing"))
        }
    }

    #[test]
    fn json_bodies_whatever_their_size_and_order() {
        let long = "x".repeat(JSON_COPY_MAX * 2);
        assert_eq!(text(Json(serde_json::json!({"a": [1, "b"]})).respond()), "{\"a\":[1,\"b\"]}\n");
        assert_eq!(text(Json(&long).respond()), format!("\"{long}\"\n"));
        assert_eq!(text(Json(1).respond()), "1\n", "a short text after a long one");
        assert_eq!(text(Json("a somewhat longer text").respond()), "\"a somewhat longer text\"\n");
        assert_eq!(text(Json(2).respond()), "2\n", "nothing left of the previous text");
        assert_eq!(text(Json(Nested).respond()), "\"[1,2]\\n\"\n", "a response built while serializing");
        assert_eq!(text(Json(vec![0u8; JSON_COPY_MAX]).respond()).len(), JSON_COPY_MAX * 2 + 2);
        assert_eq!(Json(Failing).respond().err().map(|e| e.status()), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(text(Json(3).respond()), "3\n", "nothing left of a failed text");
    }
}
