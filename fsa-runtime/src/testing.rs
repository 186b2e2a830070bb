//! An in-process test client: requests go straight to the app, no socket.
//!
//! ```
//! # async fn demo(app: fsa_runtime::App) {
//! let resp = app.test_client().get("/me").basic("calvin", "hobbes").send().await;
//! assert_eq!(resp.status(), 200);
//! # }
//! ```

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;

use crate::app::App;
use crate::context::ReqBody;

/// A client sending requests to an [`App`] in process.
#[derive(Clone, Debug)]
pub struct TestClient {
    app: App,
}

impl TestClient {
    pub(crate) fn new(app: App) -> Self {
        TestClient { app }
    }

    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest {
        TestRequest {
            app: self.app.clone(),
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            peer: Some(SocketAddr::from(([127, 0, 0, 1], 40000))),
            tls: false,
        }
    }

    /// A GET request.
    pub fn get(&self, uri: &str) -> TestRequest {
        self.request(Method::GET, uri)
    }
    /// A POST request.
    pub fn post(&self, uri: &str) -> TestRequest {
        self.request(Method::POST, uri)
    }
    /// A PUT request.
    pub fn put(&self, uri: &str) -> TestRequest {
        self.request(Method::PUT, uri)
    }
    /// A PATCH request.
    pub fn patch(&self, uri: &str) -> TestRequest {
        self.request(Method::PATCH, uri)
    }
    /// A DELETE request.
    pub fn delete(&self, uri: &str) -> TestRequest {
        self.request(Method::DELETE, uri)
    }
}

/// A request being built; `.send().await` (or `.await`) sends it.
#[derive(Debug)]
pub struct TestRequest {
    app: App,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    peer: Option<SocketAddr>,
    tls: bool,
}

impl TestRequest {
    /// Adds a header, its value sent as the UTF-8 bytes of `value` (as clients send text
    /// beyond ASCII).
    ///
    /// # Panics
    ///
    /// On a name or a value that HTTP does not allow (a space in the name, a control character
    /// such as a line break in the value): no client could send that request.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.header_bytes(name, value.as_bytes())
    }

    /// Adds a header whose value is raw bytes, which need not be UTF-8 (Latin-1 text, say).
    ///
    /// ```
    /// # async fn demo(app: fsa_runtime::App) {
    /// let resp = app.test_client().get("/hello").header_bytes("x-name", b"Jos\xe9").await;
    /// # let _ = resp;
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// As [`header`](Self::header).
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        let n = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("invalid test request: header name {name:?}: {e}"));
        let v = HeaderValue::from_bytes(value).unwrap_or_else(|e| {
            panic!("invalid test request: header {name}: {:?}: {e}", String::from_utf8_lossy(value))
        });
        self.headers.append(n, v);
        self
    }

    /// HTTP Basic credentials.
    pub fn basic(self, login: &str, password: &str) -> Self {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
        self.header("authorization", &format!("Basic {enc}"))
    }

    /// A bearer token.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A cookie.
    pub fn cookie(self, name: &str, value: &str) -> Self {
        self.header("cookie", &format!("{name}={value}"))
    }

    /// Appends query parameters.
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Self {
        let enc: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.uri.push(if self.uri.contains('?') { '&' } else { '?' });
        self.uri.push_str(&enc);
        self
    }

    /// A JSON body.
    pub fn json(mut self, value: &impl serde::Serialize) -> Self {
        self.body = Bytes::from(serde_json::to_vec(value).unwrap_or_default());
        self.header("content-type", "application/json")
    }

    /// An url-encoded form body.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let enc: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.body = Bytes::from(enc);
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// A raw body with its content type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &str) -> Self {
        self.body = body.into();
        self.header("content-type", content_type)
    }

    /// The client address (default `127.0.0.1`): an IP address, with a port or without.
    ///
    /// # Panics
    ///
    /// On text that is no address, which would otherwise leave the default in place unnoticed.
    pub fn peer(mut self, addr: &str) -> Self {
        let peer =
            addr.parse().ok().or_else(|| addr.parse::<std::net::IpAddr>().ok().map(|ip| SocketAddr::new(ip, 40000)));
        self.peer = Some(peer.unwrap_or_else(|| panic!("invalid test request: peer address {addr:?}")));
        self
    }

    /// Marks the request as received over TLS.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Sends the request.
    pub async fn send(self) -> TestResponse {
        let mut req = http::Request::builder().method(self.method).uri(&self.uri);
        if let Some(h) = req.headers_mut() {
            *h = self.headers;
            if !self.body.is_empty() {
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
            }
        }
        let body = ReqBody::new(http_body_util::Full::new(self.body).map_err(|e| match e {}));
        let req = match req.body(body) {
            Ok(r) => r,
            Err(e) => panic!("invalid test request: {e}"),
        };
        let resp = self.app.handle(req, self.peer, self.tls).await;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap_or_default();
        TestResponse { status: parts.status, headers: parts.headers, body }
    }
}

impl IntoFuture for TestRequest {
    type Output = TestResponse;
    type IntoFuture = Pin<Box<dyn Future<Output = TestResponse> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A response received by the [`TestClient`].
#[derive(Clone, Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }
    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }
    /// The body as bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    ///
    /// # Panics
    ///
    /// When the body is not JSON, with the status and the body in the message, so that a test
    /// expecting JSON fails there rather than comparing a stand-in value.
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_slice(&self.body) {
            Ok(value) => value,
            Err(e) => panic!("the response ({}) is not JSON: {e}; its body: {:?}", self.status, self.text()),
        }
    }
}
