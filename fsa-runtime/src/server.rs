//! The HTTP server (hyper 1 + hyper-util) and the `tower::Service` implementation.
//!
//! hyper 1 (the HTTP stack under axum, poem and salvo) serves HTTP/1.1 and HTTP/2 on one port
//! (HTTP/2 is recognised by its preface, or chosen by ALPN over TLS); graceful shutdown on
//! SIGINT/SIGTERM lets in-flight requests finish.
//!
//! A request's handler runs to its end over HTTP/1.1 even if the client shuts its side of the
//! connection or leaves meanwhile, as under Flask's WSGI servers: work is never dropped half
//! done (between two statements of a transaction, say); the answer is sent to a client that
//! only half-closed, and discarded for one that left. The connection cap bounds how much such
//! work can pile up. (hyper's HTTP/2 drops a stream's future when the client resets it.)
//!
//! Defences against slow or greedy clients, all set by directives (`docs/CONFIG.md`):
//! - a client must send its first bytes within `FSA_SERVER_HEADER_TIMEOUT` seconds (10), and
//!   a TLS handshake must end within the same delay; after that, a connection on which
//!   nothing happens for that delay (no request completed, no handler running, no piece of
//!   a response produced, no byte written) is closed, which cuts off clients sending a
//!   request head too slowly, idle keep-alive connections and clients that stopped reading
//!   (the per-connection watchdog of `server/connection.rs`, cheaper than a timer per
//!   request; HTTP/2 connections are told to go away first, and PINGs do not keep them;
//!   sockets take writes as the client reads, so that a slow reader is seen reading);
//! - a request body must not pause for that delay either, and once it has taken longer, must
//!   come at `FSA_SERVER_BODY_MIN_RATE` bytes per second (240) in every stretch of that
//!   delay after its first piece (408);
//! - at most `FSA_SERVER_MAX_CONNECTIONS` (1024) connections are served at once, later ones
//!   wait in the kernel's listen backlog;
//! - a request head still incomplete once `FSA_SERVER_MAX_HEADER_SIZE` bytes (64 KiB) have been
//!   read is refused (431); hyper reads in blocks, so a head of up to about twice that size
//!   can arrive complete in the block that crosses the limit and pass (HTTP/2's header list
//!   limit is exact). hyper answers this 431, its 400s (a malformed head) and 414s (a
//!   request target longer than it reads) itself, with an empty body, to which fsa adds the
//!   message in `FSA_ERROR_RESPONSE`'s format (`server/head_error.rs`);
//! - hyper decodes chunked bodies incrementally (an absurd chunk size is an error, never an
//!   allocation) and fsa stops reading a body at `FSA_MAX_BODY_SIZE` (413);
//! - over HTTP/1, a request body the app leaves unread (a 404, a refusal before the
//!   parameters are read) is read and thrown away, at a body's pace, up to 256 KiB, so that
//!   the connection serves the next request: while the answer goes out when its length is
//!   known, before the answer (for one `FSA_SERVER_HEADER_TIMEOUT` at most) when it is
//!   chunked; the answer to a request whose body is larger, slower, cut short (413, 408, a
//!   multipart body without its boundary) or not sent yet
//!   (`Expect: 100-continue`) says `Connection: close`, so that the client does not send
//!   its next request on a connection about to close (`Context::settle_body`);
//! - response header values are built with `HeaderValue`, which refuses CR and LF, so request
//!   data can never split a response header.
//!
//! HTTPS (feature `tls`): rustls through tokio-rustls with the `ring` provider.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::{TcpListener, TcpStream};

use crate::app::App;
use crate::context::ReqBody;
use crate::response::Response;

mod connection;
mod head_error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The peer address of a connection, as a request extension (set by [`App::serve`]; set it
/// yourself when serving the app through another server).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// Marks a request received over TLS, as a request extension.
#[derive(Clone, Copy, Debug)]
pub struct Tls;

impl<B> tower::Service<http::Request<B>> for App
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let peer = req.extensions().get::<PeerAddr>().map(|p| p.0);
        let tls = req.extensions().get::<Tls>().is_some();
        let req = req.map(ReqBody::new);
        ResponseFuture { pipeline: self.dispatch(req, peer, tls) }
    }
}

/// The future of one request served by the app as a `tower::Service` or by the built-in
/// server: the app's boxed pipeline ([`App::dispatch`]).
pub struct ResponseFuture {
    pipeline: crate::route::BoxFuture<'static, Response>,
}

impl Future for ResponseFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.pipeline.as_mut().poll(cx).map(Ok)
    }
}

/// A request served by the built-in server, counted in its connection's activity: a running
/// handler until its context is dropped, then its response body as it goes out
/// ([`connection::InFlight::watch`]). Held by the request's context.
pub(crate) type Served = connection::InFlight;

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl App {
    /// Serves on `addr` until SIGINT or SIGTERM, then finishes in-flight requests.
    ///
    /// With `FSA_TLS_CERT` and `FSA_TLS_KEY` (feature `tls`) the server speaks HTTPS only.
    /// The `FSA_LOGGING_LEVEL` subscriber, if any, was installed by the app's
    /// [`build`](crate::AppBuilder::build) (see [`init_logging`]); the address served is logged
    /// at `info`.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_listener(listener, shutdown_signal()).await
    }

    /// Serves connections from `listener` until `shutdown` completes, then lets in-flight
    /// requests finish (at most `FSA_SERVER_SHUTDOWN_TIMEOUT` seconds). HTTPS when
    /// `FSA_TLS_CERT` and `FSA_TLS_KEY` are set.
    pub async fn serve_listener(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let config = self.config();
        let tls = match (&config.tls_cert, &config.tls_key) {
            (None, None) => None,
            #[cfg(feature = "tls")]
            (Some(cert), Some(key)) => Some(tls::server_config(cert, key).map_err(std::io::Error::other)?),
            #[cfg(not(feature = "tls"))]
            (Some(_), Some(_)) => {
                return Err(std::io::Error::other("FSA_TLS_CERT/FSA_TLS_KEY need the `tls` feature of fsa"));
            }
            _ => return Err(std::io::Error::other("FSA_TLS_CERT and FSA_TLS_KEY go together")),
        };
        #[cfg(feature = "tls")]
        return serve_inner(self, listener, tls.map(tokio_rustls::TlsAcceptor::from), shutdown).await;
        #[cfg(not(feature = "tls"))]
        {
            let _: Option<()> = tls;
            serve_inner(self, listener, shutdown).await
        }
    }

    /// Serves HTTPS connections from `listener` with this rustls configuration until
    /// `shutdown` completes (see [`tls::server_config`] to load PEM files).
    #[cfg(feature = "tls")]
    pub async fn serve_tls_listener(
        self,
        listener: TcpListener,
        config: std::sync::Arc<tls::rustls::ServerConfig>,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        serve_inner(self, listener, Some(tokio_rustls::TlsAcceptor::from(config)), shutdown).await
    }
}

/// Installs a `tracing` formatting subscriber filtered by `FSA_LOGGING_LEVEL` (a
/// `tracing-subscriber` filter such as `info` or `fsa=debug,warn`), unless the level is unset
/// or the program already installed a global subscriber. In `FSA_MODE` `debug1`…`debug4` the
/// `fsa` target logs at `debug` (`trace` from `debug3`) whatever the level.
pub fn init_logging(config: &crate::Config) {
    let Some(level) = &config.logging_level else { return };
    let mut filter = level.clone();
    match config.mode {
        crate::Mode::Debug(n) if n >= 3 => filter.push_str(",fsa=trace"),
        crate::Mode::Debug(_) => filter.push_str(",fsa=debug"),
        _ => {}
    }
    let filter = match tracing_subscriber::EnvFilter::try_new(&filter) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fsa: invalid FSA_LOGGING_LEVEL {level:?}: {e}");
            return;
        }
    };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// The limits of [`App::serve_listener`], from the configuration.
#[derive(Clone)]
struct Limits {
    header_timeout: Duration,
    shutdown_timeout: Duration,
}

/// The HTTP/1.1 and HTTP/2 connection builders.
///
/// HTTP/1.1 has no hyper timer: the slow-header and idle timeouts are the connection
/// watchdog's ([`connection`]), which costs nothing per request. HTTP/2 has the same
/// watchdog, and keeps hyper's keep-alive pings, answered within the same delay, to find
/// peers that are gone.
fn builders(config: &crate::Config) -> (http1::Builder, http2::Builder<TokioExecutor>) {
    let header_timeout = Duration::from_secs_f64(config.server_header_timeout);
    let mut h1 = http1::Builder::new();
    // `half_close`: handlers run to their end whatever the client does (module docs). It also
    // spares hyper a read attempt while each request runs, which allocated a new 8 KiB read
    // buffer per request.
    h1.header_read_timeout(None)
        .half_close(true)
        .max_buf_size(config.server_max_header_size.max(crate::config::LEAST_HEADER_SIZE));
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .max_header_list_size(config.server_max_header_size as u32)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(header_timeout);
    (h1, h2)
}

/// Waits (at most `timeout`) for the first bytes of a plain connection and tells whether it
/// starts with the HTTP/2 preface, without consuming them. A client that sends nothing, or
/// the preface too slowly, is dropped.
async fn sniff_h2(stream: &TcpStream, timeout: Duration) -> Option<bool> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let probe = async {
        let mut buf = [0u8; 24];
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            if buf[..n] != PREFACE[..n] {
                return Some(false);
            }
            if n == PREFACE.len() {
                return Some(true);
            }
            // A partial preface: the data stays readable, so poll again shortly, unless the
            // client has closed its side, when the rest can never come: HTTP/1 then answers
            // the bytes there are, where waiting would hold the connection until the timeout.
            if stream.ready(Interest::READABLE).await.ok()?.is_read_closed() {
                return Some(false);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(timeout, probe).await.ok().flatten()
}

/// The unsent bytes a connection's socket may hold before it stops taking writes
/// (`TCP_NOTSENT_LOWAT`, Linux).
const UNSENT_MAX: u32 = 64 * 1024;

/// Makes the socket take writes as the client reads, rather than in large gulps.
///
/// The kernel's send buffer grows to megabytes, and a socket whose buffer is full becomes
/// writable again only once a third of it has gone: for a client reading a large response
/// at a modest rate, no write could then happen for longer than the idle timeout, and the
/// watchdog ([`connection`]) would take a client still reading for one that stopped. With
/// at most `UNSENT_MAX` bytes not yet sent, a write happens each time the client has taken
/// that much (as HTTP/2 servers do to keep their streams' priorities meaningful): a client
/// reading faster than 64 KiB per `FSA_SERVER_HEADER_TIMEOUT` (6.5 KB/s with the default)
/// is always seen reading. Bytes already sent and not yet acknowledged are not limited.
/// Measured on loopback (1 GiB in 400 KB writes, both ends in one process, three rounds),
/// 64 KiB kept the throughput of the unlimited socket (3.2-3.4 against 2.9-3.1 GB/s) with
/// about twice the writes, where 16 KiB cost a fifth of it (2.3-2.4 GB/s).
/// Done with socket2, the crate tokio itself uses for socket options, whose API is safe.
fn pace_writes(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_notsent_lowat(UNSENT_MAX) {
        tracing::debug!(target: "fsa", "TCP_NOTSENT_LOWAT: {e}");
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// What every connection task needs from the server.
#[derive(Clone)]
struct Shared {
    app: App,
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
    limits: Limits,
    /// `FSA_ERROR_RESPONSE`, for hyper's own answers to unreadable HTTP/1 heads.
    errors: Arc<crate::error::ErrorFormat>,
    /// Turns true when shutdown starts.
    stop: tokio::sync::watch::Receiver<bool>,
}

impl Shared {
    /// `step`'s output, or `None` once shutdown starts: a connection still in its handshake
    /// (the TLS handshake, or the wait for its first bytes) has no request in flight, and
    /// must not hold the server's exit for up to `FSA_SERVER_HEADER_TIMEOUT`.
    async fn unless_stopped<T>(&self, step: impl Future<Output = T>) -> Option<T> {
        let mut stop = self.stop.clone();
        tokio::select! {
            out = step => Some(out),
            // Shutdown started, or the server is gone.
            _ = stop.wait_for(|stopping| *stopping) => None,
        }
    }

    /// Serves one connection (plain or TLS) whose protocol is known.
    async fn serve<S>(self, stream: S, peer: SocketAddr, is_h2: bool, tls: bool)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        if *self.stop.borrow() {
            // Shutdown started during the handshake.
            return;
        }
        let activity = Arc::new(connection::Activity::new(is_h2));
        let timeout = self.limits.header_timeout;
        if is_h2 {
            let io = TokioIo::new(connection::Watched::<_, true>::new(stream, activity.clone(), None));
            let conn = self.h2.serve_connection(io, service(self.app, peer, tls, activity.clone()));
            connection::drive(conn, activity, Some(connection::Idle::http2(timeout)), self.stop).await;
        } else {
            let errors = Some(self.errors.clone());
            let io = TokioIo::new(connection::Watched::<_, false>::new(stream, activity.clone(), errors));
            let conn = self.h1.serve_connection(io, service(self.app, peer, tls, activity.clone()));
            connection::drive(conn, activity, Some(connection::Idle::http1(timeout)), self.stop).await;
        }
    }
}

async fn serve_inner(
    app: App,
    listener: TcpListener,
    #[cfg(feature = "tls")] tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let config = app.config();
    if let Ok(addr) = listener.local_addr() {
        #[cfg(feature = "tls")]
        let scheme = if tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "tls"))]
        let scheme = "http";
        tracing::info!(target: "fsa", "listening on {scheme}://{addr}");
    }
    let limits = Limits {
        header_timeout: Duration::from_secs_f64(config.server_header_timeout),
        shutdown_timeout: Duration::from_secs_f64(config.server_shutdown_timeout),
    };
    let max_connections = config.server_max_connections;
    let (h1, h2) = builders(config);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let errors = Arc::new(app.config().error_response.clone());
    let shared = Shared { app, h1, h2, limits: limits.clone(), errors, stop };
    tokio::pin!(shutdown);
    loop {
        // At most FSA_SERVER_MAX_CONNECTIONS connections: wait for a free slot before accepting.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(target: "fsa", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        pace_writes(&stream);
        let shared = shared.clone();
        #[cfg(feature = "tls")]
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            #[cfg(feature = "tls")]
            if let Some(acceptor) = tls {
                let handshake = tokio::time::timeout(shared.limits.header_timeout, acceptor.accept(stream));
                let Some(Ok(Ok(stream))) = shared.unless_stopped(handshake).await else {
                    tracing::debug!(target: "fsa", "TLS handshake failed, timed out or cut by shutdown");
                    return;
                };
                let is_h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                shared.serve(stream, peer, is_h2, true).await;
                return;
            }
            let sniff = sniff_h2(&stream, shared.limits.header_timeout);
            let Some(Some(is_h2)) = shared.unless_stopped(sniff).await else { return };
            shared.serve(stream, peer, is_h2, false).await;
        });
    }
    // Connections finish their request in flight, then close; those still in their
    // handshake are dropped. Every connection holds a slot until it ends.
    stop_tx.send_replace(true);
    drop(listener);
    drop(shared);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = slots.acquire_many(all) => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(target: "fsa", "graceful shutdown timed out");
        }
    }
    Ok(())
}

/// The hyper service of one connection: each request's handler and response body are
/// counted in the connection's [`Activity`](connection::Activity) for its watchdog.
fn service(
    app: App,
    peer: SocketAddr,
    tls: bool,
    activity: Arc<connection::Activity>,
) -> impl hyper::service::Service<
    http::Request<hyper::body::Incoming>,
    Response = Response,
    Error = Infallible,
    Future = ResponseFuture,
> + Clone
+ Send
+ 'static {
    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let served = activity.start();
        let (parts, body) = req.into_parts();
        ResponseFuture { pipeline: app.dispatch_parts(parts, ReqBody::incoming(body), Some(peer), tls, Some(served)) }
    })
}

/// HTTPS for the built-in server: rustls with the `ring` provider (no C toolchain beyond
/// ring's own), PEM files read through `rustls-pki-types`.
#[cfg(feature = "tls")]
pub mod tls {
    use std::sync::Arc;

    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    pub use tokio_rustls::rustls;

    use crate::config::ConfigError;

    /// A server configuration from a PEM certificate chain file and a PEM private key file,
    /// offering HTTP/2 and HTTP/1.1 through ALPN.
    pub fn server_config(cert_path: &str, key_path: &str) -> Result<Arc<rustls::ServerConfig>, ConfigError> {
        let cert = std::fs::read(cert_path).map_err(|e| ConfigError(format!("cannot read {cert_path}: {e}")))?;
        let key = std::fs::read(key_path).map_err(|e| ConfigError(format!("cannot read {key_path}: {e}")))?;
        server_config_from_pem(&cert, &key)
    }

    /// A server configuration from PEM text (certificate chain, then private key).
    pub fn server_config_from_pem(cert: &[u8], key: &[u8]) -> Result<Arc<rustls::ServerConfig>, ConfigError> {
        let certs = CertificateDer::pem_slice_iter(cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError(format!("invalid TLS certificate: {e}")))?;
        if certs.is_empty() {
            return Err(ConfigError("no certificate in the TLS certificate file".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| ConfigError(format!("invalid TLS key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError(format!("TLS: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ConfigError(format!("TLS certificate and key: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// A paced socket holds at most 64 KiB of unsent bytes. (That the server paces every
    /// connection it accepts is shown through a socket by a test that fails without it:
    /// `slow_steady_readers_of_large_responses_are_served_to_the_end`.)
    #[tokio::test]
    async fn accepted_sockets_take_writes_as_the_client_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let lowat = |s: &TcpStream| socket2::SockRef::from(s).tcp_notsent_lowat().unwrap();
        // Unset, the socket reads 0 (the kernel's net.ipv4.tcp_notsent_lowat then applies).
        assert_ne!(lowat(&stream), UNSENT_MAX, "the option would prove nothing here");
        pace_writes(&stream);
        assert_eq!(lowat(&stream), 64 * 1024);
        drop(client);
    }
}
