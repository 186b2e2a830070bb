//! The built-in server over real sockets: panics, slow and greedy clients, header and body
//! limits, CORS, graceful shutdown and TLS.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fsa::config::parse_env_value;
use fsa::prelude::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Safety net so that a broken server fails the test instead of hanging it (never asserted).
const PATIENCE: Duration = Duration::from_secs(30);

#[get("/open", authorize = "OPEN")]
fn open() -> &'static str {
    "open"
}

#[get("/boom", authorize = "OPEN")]
fn boom() -> &'static str {
    panic!("kaboom secret")
}

#[get("/who", authorize = "AUTH")]
fn who(user: CurrentUser) -> String {
    format!("hello {user}")
}

#[post("/echo", authorize = "OPEN")]
fn echo(x: String) -> String {
    x
}

static SLOW_STARTED: AtomicBool = AtomicBool::new(false);

#[get("/slow", authorize = "OPEN")]
async fn slow() -> &'static str {
    SLOW_STARTED.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    "slow done"
}

#[get("/nap/<ms>", authorize = "OPEN")]
async fn nap(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("napped {ms}")
}

static CHORES_DONE: AtomicUsize = AtomicUsize::new(0);

/// Work with a side effect at its end, as a handler committing a transaction would have.
#[get("/chore", authorize = "OPEN")]
async fn chore() -> &'static str {
    tokio::time::sleep(Duration::from_millis(300)).await;
    CHORES_DONE.fetch_add(1, Ordering::SeqCst);
    "chore done"
}

#[get("/stream", authorize = "OPEN")]
fn stream() -> fsa::JsonStream<std::ops::Range<i64>> {
    fsa::JsonStream::new(0..3)
}

/// A streamed response whose app side pauses between its two pieces, as server-sent events
/// or long polling do.
#[get("/drip/<ms>", authorize = "OPEN")]
fn drip(ms: u64) -> Response {
    let pieces = futures_util::stream::unfold(0, move |i| async move {
        match i {
            0 => Some((Ok(bytes::Bytes::from_static(b"first ")), 1)),
            1 => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Some((Ok(bytes::Bytes::from_static(b"second")), 2))
            }
            _ => None,
        }
    });
    Response::new(fsa::Body::from_stream(pieces))
}

#[get("/big", authorize = "OPEN")]
fn big() -> String {
    "x".repeat(512 * 1024)
}

const HUGE: usize = 5 * 1024 * 1024;

/// Larger than the kernel's send buffer on loopback grows to.
#[get("/huge", authorize = "OPEN")]
fn huge() -> String {
    "x".repeat(HUGE)
}

/// An app's own empty-bodied 400 that closes: as hyper writes its answers to unreadable heads.
#[get("/refuse", authorize = "OPEN")]
fn refuse() -> Response {
    let mut r = Response::new(fsa::Body::empty());
    *r.status_mut() = fsa::http::StatusCode::BAD_REQUEST;
    r.headers_mut().insert(fsa::http::header::CONNECTION, fsa::http::HeaderValue::from_static("close"));
    r
}

fn app(directives: &[(&str, &str)]) -> fsa::AppBuilder {
    let mut b = App::new()
        .config("FSA_AUTH", "fake")
        .routes(fsa::routes![open, boom, who, echo, slow, nap, chore, stream, drip, big, huge, refuse]);
    for (k, v) in directives {
        b = b.config(k, parse_env_value(v));
    }
    b
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(app: App) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve_listener(listener, async move {
            let _ = rx.await;
        }));
        Server { addr, stop: Some(tx), task }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(PATIENCE, self.task).await.expect("server stops").unwrap().unwrap();
    }
}

/// Sends raw bytes, reads until the server closes (or the safety net).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &[u8]) -> String {
    let _ = stream.write_all(request).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends raw request text on a new connection, reads until the server closes.
async fn raw(addr: SocketAddr, request: &str) -> String {
    exchange(TcpStream::connect(addr).await.unwrap(), request.as_bytes()).await
}

async fn get(addr: SocketAddr, path: &str, headers: &str) -> String {
    raw(addr, &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{headers}\r\n")).await
}

fn status(response: &str) -> u16 {
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn panicking_handler_then_more_requests() {
    let server = Server::start(app(&[("FSA_ERROR_RESPONSE", "json:error")]).build().unwrap()).await;
    let r = get(server.addr, "/boom", "").await;
    assert_eq!(status(&r), 500, "{r}");
    assert!(!r.contains("kaboom"), "{r}");
    assert!(r.contains("{\"error\":"), "{r}");
    let r = get(server.addr, "/open", "").await;
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.ends_with("open"), "{r}");
    // On one keep-alive connection: the panic answer, then the next request.
    let two = "GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    let r = raw(server.addr, two).await;
    assert!(r.starts_with("HTTP/1.1 500"), "{r}");
    assert!(r.contains("HTTP/1.1 200") && r.ends_with("open"), "{r}");
    server.stop().await;
}

/// HEAD over a real connection: GET's Content-Length, no body, and the connection goes on.
#[tokio::test]
async fn head_sends_the_length_and_keeps_the_connection() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let two = "HEAD /open HTTP/1.1\r\nHost: t\r\n\r\nGET /open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    let r = raw(server.addr, two).await;
    let (head, get) = r.split_once("\r\n\r\n").unwrap_or_default();
    assert!(head.starts_with("HTTP/1.1 200") && head.contains("content-length: 4"), "{r}");
    assert!(
        get.starts_with("HTTP/1.1 200") && get.contains("content-length: 4") && get.ends_with("\r\n\r\nopen"),
        "{r}"
    );
    server.stop().await;
}

/// HTTP/1.0 with keep-alive: a response of known length keeps the connection; a streamed one
/// ends by closing it, and says so.
#[tokio::test]
async fn http10_keep_alive_and_streamed_bodies() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let two = "GET /open HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /open HTTP/1.0\r\n\r\n";
    let r = raw(server.addr, two).await;
    assert_eq!(r.matches("HTTP/1.0 200").count(), 2, "{r}");
    let two = "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /open HTTP/1.0\r\n\r\n";
    let r = raw(server.addr, two).await;
    assert!(r.starts_with("HTTP/1.0 200") && r.to_lowercase().contains("connection: close"), "{r}");
    assert!(!r.to_lowercase().contains("keep-alive") && r.trim_end().ends_with("[0,1,2]"), "{r}");
    server.stop().await;
}

#[tokio::test]
async fn http2_prior_knowledge_is_recognised() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // The HTTP/2 preface, then an empty SETTINGS frame.
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").await.unwrap();
    let mut frame = [0u8; 9];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut frame)).await.unwrap().unwrap();
    assert_eq!(frame[3], 4, "the server's first frame is SETTINGS: {frame:?}");
    drop(stream);
    server.stop().await;
}

type H2Sender = hyper::client::conn::http2::SendRequest<String>;

/// An HTTP/2 client connection (prior knowledge) with a flow-control window of `window`
/// bytes, and the task driving it.
async fn h2_client_with(addr: SocketAddr, window: u32) -> (H2Sender, JoinHandle<Result<(), hyper::Error>>) {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (sender, conn) = hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .initial_stream_window_size(window)
        .initial_connection_window_size(window)
        .handshake(io)
        .await
        .unwrap();
    (sender, tokio::spawn(conn))
}

async fn h2_client(addr: SocketAddr) -> (H2Sender, JoinHandle<Result<(), hyper::Error>>) {
    h2_client_with(addr, 65535).await
}

async fn h2_get(sender: &mut H2Sender, path: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let req = http::Request::get(format!("http://test{path}")).body(String::new()).unwrap();
    let response = tokio::time::timeout(PATIENCE, sender.send_request(req)).await.unwrap().unwrap();
    let status = response.status().as_u16();
    let body = tokio::time::timeout(PATIENCE, response.into_body().collect()).await.unwrap().unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// An idle HTTP/2 connection is asked to go away, then closed, even though its client
/// answers the server's PINGs.
#[tokio::test]
async fn idle_http2_connections_are_closed() {
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let (mut sender, conn) = h2_client(server.addr).await;
    assert_eq!(h2_get(&mut sender, "/open").await, (200, "open".into()));
    let ended = tokio::time::timeout(Duration::from_secs(8), conn).await;
    assert!(ended.is_ok(), "the idle HTTP/2 connection was kept open");
    assert!(sender.is_closed());
    server.stop().await;
}

/// One HTTP/2 frame: a 9-byte header (length, type, flags, stream), then the payload.
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut frame = vec![len[1], len[2], len[3], kind, flags];
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Reads one HTTP/2 frame: its type, flags, stream and payload (`None` at the end of the
/// connection).
async fn h2_read_frame<R: AsyncRead + Unpin>(stream: &mut R) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    stream.read_exact(&mut head).await.ok()?;
    let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.ok()?;
    Some((head[3], head[4], u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff, payload))
}

/// HTTP/2: a client that keeps sending PINGs after its request does not keep its idle
/// connection, though the server writes an acknowledgement for each of them.
#[tokio::test]
async fn pinging_http2_clients_are_not_kept() {
    const HEADERS: u8 = 1;
    const PING: u8 = 6;
    const GOAWAY: u8 = 7;
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let (mut rd, mut wr) = TcpStream::connect(server.addr).await.unwrap().into_split();
    // The preface, an empty SETTINGS, then GET /open on stream 1 (END_STREAM | END_HEADERS):
    // HPACK :method GET, :scheme http (static entries 2 and 6), :path (entry 4) as a literal.
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(h2_frame(4, 0, 0, &[]));
    hello.extend(h2_frame(HEADERS, 0x5, 1, b"\x82\x86\x04\x05/open"));
    wr.write_all(&hello).await.unwrap();
    let answered = async {
        loop {
            match h2_read_frame(&mut rd).await {
                Some((HEADERS, flags, stream, _)) => return Some((flags & 0x4, stream)),
                Some(_) => {}
                None => return None,
            }
        }
    };
    let answered = tokio::time::timeout(PATIENCE, answered).await.unwrap();
    assert_eq!(answered, Some((0x4, 1)), "the response's HEADERS on stream 1");
    // A PING every 50 ms (80 per second each way), for longer than the server allows.
    let pinger = tokio::spawn(async move {
        for n in 0u64..200 {
            if wr.write_all(&h2_frame(PING, 0, 0, &n.to_be_bytes())).await.is_err() {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        200
    });
    let watch = async {
        let mut acks = 0;
        let mut goaway = false;
        while let Some((kind, flags, _, payload)) = h2_read_frame(&mut rd).await {
            acks += usize::from(kind == PING && flags & 1 == 1);
            // Its error code (after the last stream's id) says NO_ERROR: a polite close.
            goaway |= kind == GOAWAY && payload.get(4..8) == Some(&[0, 0, 0, 0]);
        }
        (acks, goaway)
    };
    let (acks, goaway) = tokio::time::timeout(Duration::from_secs(8), watch)
        .await
        .expect("a client sending PINGs kept its idle HTTP/2 connection");
    assert!(acks >= 10, "the server answered the PINGs: {acks} acknowledgements");
    assert!(goaway, "the server asked the client to go away (NO_ERROR) before closing");
    let sent = pinger.await.unwrap();
    assert!(sent < 200, "the pings ended with the connection");
    server.stop().await;
}

/// HTTP/2: a response read slowly through a small flow-control window keeps its
/// connection while it progresses; one the client stopped reading does not.
#[tokio::test]
async fn slow_http2_readers_are_kept_and_stalled_ones_closed() {
    use http_body_util::BodyExt;
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let (mut sender, _conn) = h2_client_with(server.addr, 16 * 1024).await;
    let req = || http::Request::get("http://test/big").body(String::new()).unwrap();
    let response = tokio::time::timeout(PATIENCE, sender.send_request(req())).await.unwrap().unwrap();
    let mut body = response.into_body();
    let mut read = 0;
    while let Some(frame) = tokio::time::timeout(PATIENCE, body.frame()).await.unwrap() {
        read += frame.expect("the slow reader was cut off").into_data().map_or(0, |d| d.len());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(read, 512 * 1024);

    let (mut sender, conn) = h2_client_with(server.addr, 16 * 1024).await;
    let response = tokio::time::timeout(PATIENCE, sender.send_request(req())).await.unwrap().unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(8), conn).await;
    assert!(ended.is_ok(), "a connection whose client stopped reading was kept open");
    drop(response);
    server.stop().await;
}

/// A client socket with a small receive buffer that reads at most 16 KiB every 5 ms: a
/// slow link (at most 3.2 MiB/s), never idle.
struct SlowLink {
    io: TcpStream,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl SlowLink {
    async fn connect(addr: SocketAddr) -> SlowLink {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        SlowLink { io: socket.connect(addr).await.unwrap(), pause: None }
    }
}

impl AsyncRead for SlowLink {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if let Some(pause) = self.pause.as_mut() {
            std::task::ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let mut piece = [0u8; 16 * 1024];
        let mut small = tokio::io::ReadBuf::new(&mut piece[..buf.remaining().min(16 * 1024)]);
        std::task::ready!(std::pin::Pin::new(&mut self.io).poll_read(cx, &mut small))?;
        buf.put_slice(small.filled());
        self.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(5))));
        std::task::Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for SlowLink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A client reading a large response steadily but slowly is served to the end, over
/// HTTP/1.1 and HTTP/2 (with a window as large as browsers give), even though the kernel's
/// send buffer, once full, would take no write for longer than the timeout.
#[tokio::test]
async fn slow_steady_readers_of_large_responses_are_served_to_the_end() {
    use http_body_util::BodyExt;
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "0.5")]).build().unwrap()).await;
    let mut link = SlowLink::connect(server.addr).await;
    link.write_all(b"GET /huge HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), link.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "HTTP/1.1: no end after 60 s");
    let body_len = out.len() - out.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
    assert_eq!(body_len, HUGE, "HTTP/1.1: the response was cut");

    let io = hyper_util::rt::TokioIo::new(SlowLink::connect(server.addr).await);
    let (mut sender, conn) = hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .initial_stream_window_size(1 << 30)
        .initial_connection_window_size(1 << 30)
        .handshake::<_, String>(io)
        .await
        .unwrap();
    let _conn = tokio::spawn(conn);
    let req = http::Request::get("http://test/huge").body(String::new()).unwrap();
    let response = tokio::time::timeout(PATIENCE, sender.send_request(req)).await.unwrap().unwrap();
    let mut body = response.into_body();
    let mut read = 0;
    while let Some(frame) = tokio::time::timeout(PATIENCE, body.frame()).await.unwrap() {
        read += frame.expect("HTTP/2: the response was cut").into_data().map_or(0, |d| d.len());
    }
    assert_eq!(read, HUGE);
    server.stop().await;
}

/// Many HTTP/2 streams at once on one connection, each with a body cut into pieces: every
/// body arrives whole, and the connection serves on afterwards.
#[tokio::test]
async fn concurrent_http2_streams_get_whole_bodies() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let (sender, _conn) = h2_client(server.addr).await;
    let gets = (0..40).map(|_| {
        let mut sender = sender.clone();
        tokio::spawn(async move { h2_get(&mut sender, "/big").await })
    });
    for get in gets {
        let (status, body) = get.await.unwrap();
        assert_eq!((status, body.len()), (200, 512 * 1024));
        assert!(body.bytes().all(|b| b == b'x'));
    }
    let mut sender = sender.clone();
    assert_eq!(h2_get(&mut sender, "/open").await, (200, "open".into()));
    server.stop().await;
}

/// A streamed response whose app side pauses for longer than the timeout keeps its
/// connection, over HTTP/1.1 and HTTP/2.
#[tokio::test]
async fn pausing_streamed_responses_are_kept() {
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let r = get(server.addr, "/drip/2500", "").await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("\r\n6\r\nsecond\r\n0\r\n\r\n"), "{r}");
    let (mut sender, _conn) = h2_client(server.addr).await;
    assert_eq!(h2_get(&mut sender, "/drip/2500").await, (200, "first second".into()));
    server.stop().await;
}

#[tokio::test]
async fn partial_http2_preface_then_close_is_not_held() {
    // A header timeout beyond the test's patience: only seeing the client's close ends this.
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "600")]).build().unwrap()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nS").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the connection was held until the header timeout");
    // HTTP/1 had those bytes: a request line of version 2.0, which it refuses.
    let out = String::from_utf8_lossy(&out);
    assert!(out.is_empty() || out.starts_with("HTTP/1.1 4") || out.starts_with("HTTP/1.1 5"), "{out}");
    server.stop().await;
}

/// Sends `start`, then one byte every `every` (at most 60), until the server answers or
/// closes; returns the first bytes of its answer (empty when it closed without one).
async fn trickle(addr: SocketAddr, start: &[u8], every: Duration) -> String {
    let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().into_split();
    let reader = tokio::spawn(async move {
        let mut out = vec![0u8; 4096];
        let n = rd.read(&mut out).await.unwrap_or(0);
        String::from_utf8_lossy(&out[..n]).into_owned()
    });
    wr.write_all(start).await.unwrap();
    let mut sent = 0;
    while sent < 60 && !reader.is_finished() {
        tokio::time::sleep(every).await;
        if wr.write_all(b"a").await.is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 60, "the slow client was never cut off");
    tokio::time::timeout(PATIENCE, reader).await.unwrap().unwrap()
}

#[tokio::test]
async fn slow_header_client_is_cut_off() {
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "2")]).build().unwrap()).await;
    let out = trickle(server.addr, b"GET /open HTTP/1.1\r\nX-Slow: ", Duration::from_secs(1)).await;
    assert!(!out.contains("200 OK"), "{out}");
    // A client that sends nothing at all is dropped too.
    let r = exchange(TcpStream::connect(server.addr).await.unwrap(), b"").await;
    assert_eq!(r, "");
    assert_eq!(status(&get(server.addr, "/open", "").await), 200);
    server.stop().await;
}

/// Reads one response (headers and a short body) from a keep-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await.unwrap().unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// A request body that stops short while the client keeps the connection open: a 408 once it
/// has sent nothing for `FSA_SERVER_HEADER_TIMEOUT`, whatever the body's framing or type.
#[tokio::test]
async fn stalled_request_body_is_a_408() {
    // A minimum rate of one byte per second, which the slow body at the end keeps.
    let directives = [("FSA_SERVER_HEADER_TIMEOUT", "1"), ("FSA_SERVER_BODY_MIN_RATE", "1")];
    let server = Server::start(app(&directives).build().unwrap()).await;
    let heads = [
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nx=ab",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"x\"\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nab",
    ];
    for head in heads {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        // The client keeps the connection open and sends nothing more.
        let r = read_response(&mut stream).await;
        assert!(r.starts_with("HTTP/1.1 408"), "{head}: {r}");
        assert!(r.contains("request body timed out"), "{r}");
    }
    // A body that comes whole is answered as ever.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\nx=ab")
        .await
        .unwrap();
    let r = read_response(&mut stream).await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("ab"), "{r}");
    // A slow body that keeps coming, above the minimum rate, is read to its end, even when it
    // takes longer in all than the timeout: the delay counts from the last piece received.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\n\r\nx=")
        .await
        .unwrap();
    for piece in ["ab", "cd"] {
        tokio::time::sleep(Duration::from_millis(700)).await;
        stream.write_all(piece.as_bytes()).await.unwrap();
    }
    let r = read_response(&mut stream).await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("abcd"), "{r}");
    server.stop().await;
}

/// A body that never stops long enough for the idle timer, but comes at a trickle: a 408 once
/// it has taken longer than the header timeout at less than `FSA_SERVER_BODY_MIN_RATE`.
#[tokio::test]
async fn trickled_request_body_is_a_408() {
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nx=";
    let r = trickle(server.addr, head.as_bytes(), Duration::from_millis(300)).await;
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
    assert!(r.contains("request body too slow: less than 240 bytes per second"), "{r}");
    // A large first piece does not buy a long trickle afterwards: the rate holds in every
    // stretch of the timeout, not on average since the start (5,000 bytes would have bought
    // twenty seconds).
    let head = format!("{}{}", head.replace("100\r\n", "10000\r\n"), "a".repeat(4998));
    let r = trickle(server.addr, head.as_bytes(), Duration::from_millis(300)).await;
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
    server.stop().await;
}

/// A request body the app does not read (a 404, a refusal before the parameters) is read
/// and thrown away when it is no larger than 256 KiB (after the answer, or before it when
/// chunked, for one header timeout at most), so that the connection serves the next
/// request; a larger one, one whose reading failed (413), or one
/// the client waits to be asked for (`Expect: 100-continue`) is answered with `Connection:
/// close`, so that the client does not send another request on a connection about to close.
#[tokio::test]
async fn unread_request_bodies_are_drained_or_the_connection_closed() {
    // A header timeout beyond PATIENCE: a drain that went on past its 256 KiB would fail the
    // test instead of ending in a 408. An after-request hook that drops the Connection
    // header: the server's own comes after it.
    let directives = [("FSA_MAX_BODY_SIZE", "300000"), ("FSA_SERVER_HEADER_TIMEOUT", "60")];
    let unclosed = app(&directives).after_request(|_, resp| {
        resp.headers_mut().remove("connection");
    });
    let server = Server::start(unclosed.build().unwrap()).await;
    let post = |path: &str, size: usize, extra: &str| {
        let mut request =
            format!("POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n{extra}\r\n").into_bytes();
        request.extend(std::iter::repeat_n(b'x', size));
        request
    };
    let chunked = |size: usize, end: &str| {
        let mut request = b"POST /nope HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        request.extend(format!("{size:x}\r\n").bytes().chain(std::iter::repeat_n(b'x', size)));
        request.extend_from_slice(end.as_bytes());
        request
    };
    let next = b"GET /open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".as_slice();
    // The body, and the next request, arrive as the client writes them (in one go here). A
    // chunked body is read before the answer, which keeps the connection when the body ends
    // within 256 KiB and otherwise says it closes (the client sends no more than the server
    // reads then, so that the close is not a reset).
    for (label, request, keeps) in [
        ("100000", [post("/nope", 100_000, ""), next.to_vec()].concat(), true),
        ("256 KiB", [post("/nope", 256 * 1024, ""), next.to_vec()].concat(), true),
        ("chunked 100000", [chunked(100_000, "\r\n0\r\n\r\n"), next.to_vec()].concat(), true),
        ("chunked 256 KiB + 1", chunked(256 * 1024 + 1, ""), false),
    ] {
        let (mut rd, mut wr) = TcpStream::connect(server.addr).await.unwrap().into_split();
        let writer = tokio::spawn(async move { wr.write_all(&request).await });
        let mut out = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, rd.read_to_end(&mut out)).await.unwrap();
        writer.await.unwrap().unwrap();
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 404"), "{label}: {out}");
        let first_head = out.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert_eq!(!first_head.contains("connection: close"), keeps, "{label}: {out}");
        let served = out.contains("HTTP/1.1 200") && out.ends_with("open");
        assert_eq!(served, keeps, "{label}: the next request: {out}");
    }
    // Larger, refused as too large, or waiting for 100-continue: the answer says the
    // connection closes.
    for (path, size, extra, want) in [
        ("/nope", 256 * 1024 + 1, "", 404),
        ("/echo", 300_001, "Content-Type: application/x-www-form-urlencoded\r\n", 413),
        ("/nope", 1000, "Expect: 100-continue\r\n", 404),
        ("/echo", 1000, "Content-Type: multipart/form-data\r\n", 400),
    ] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let request = post(path, size, extra);
        let head = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        stream.write_all(&request[..head]).await.unwrap();
        let r = read_response(&mut stream).await;
        assert_eq!(status(&r), want, "{path} {size}: {r}");
        assert!(r.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{path} {size}: {r}");
    }
    // A chunked body the client sends once asked: answered at once, and the connection closes.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /nope HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let r = read_response(&mut stream).await;
    assert_eq!(status(&r), 404, "{r}");
    assert!(r.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{r}");
    server.stop().await;
    // A body drained at a modest pace, for longer than the header timeout after the answer:
    // the drain keeps the connection as a running request would. Chunked, it is drained
    // before the answer, for one header timeout at most, so that a slow client does not hold
    // its answer for long: the answer then says the connection closes.
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let size = 200 * 1024;
    let known = format!("POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n");
    let chunked = format!("POST /nope HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{size:x}\r\n");
    let slow = [(known, "", true), (chunked, "\r\n0\r\n\r\n", false)].map(|(head, tail, keeps)| {
        tokio::spawn(async move {
            let (mut rd, mut wr) = TcpStream::connect(server.addr).await.unwrap().into_split();
            let writer = tokio::spawn(async move {
                wr.write_all(head.as_bytes()).await?;
                for _ in 0..10 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    wr.write_all(&[b'x'; 20 * 1024]).await?;
                }
                wr.write_all(tail.as_bytes()).await?;
                wr.write_all(b"GET /open HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await
            });
            let mut out = Vec::new();
            let _ = tokio::time::timeout(PATIENCE, rd.read_to_end(&mut out)).await.unwrap();
            // Where the server closes, the rest of the body may meet a closed socket.
            let written = writer.await.unwrap();
            assert!(written.is_ok() || !keeps, "{written:?}");
            (String::from_utf8_lossy(&out).into_owned(), keeps)
        })
    });
    for task in slow {
        let (out, keeps) = task.await.unwrap();
        assert!(out.starts_with("HTTP/1.1 404"), "{out}");
        let first_head = out.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
        assert_eq!(!first_head.contains("connection: close"), keeps, "{out}");
        let served = out.contains("HTTP/1.1 200") && out.ends_with("open");
        assert_eq!(served, keeps, "the request after a slow body: {out}");
    }
    server.stop().await;
}

#[tokio::test]
async fn busy_connections_are_kept_and_idle_ones_closed() {
    let server = Server::start(app(&[("FSA_SERVER_HEADER_TIMEOUT", "1")]).build().unwrap()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // A handler running longer than the timeout keeps its connection.
    stream.write_all(b"GET /nap/2500 HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let r = read_response(&mut stream).await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("napped 2500"), "{r}");
    // Requests closer together than the timeout keep it too, for longer than the timeout.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        stream.write_all(b"GET /open HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
        let r = read_response(&mut stream).await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
    // Then, idle: the server closes it.
    let mut rest = Vec::new();
    let n = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await.expect("idle connection closed");
    assert_eq!(n.unwrap_or(0), 0, "nothing more is sent on an idle connection");
    server.stop().await;
}

#[tokio::test]
async fn handlers_run_to_their_end_whatever_the_client_does() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    // A client that shuts its side down after its request still gets the answer.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /nap/300 HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    stream.shutdown().await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out)).await.unwrap().unwrap();
    let r = String::from_utf8_lossy(&out);
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("napped 300"), "{r}");
    // A client that leaves while its request runs: the handler is not cut off half-way.
    let before = CHORES_DONE.load(Ordering::SeqCst);
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET /chore HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    let done = async {
        while CHORES_DONE.load(Ordering::SeqCst) == before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), done).await.expect("the handler ran to its end");
    // And the server goes on serving.
    let r = get(server.addr, "/open", "").await;
    assert_eq!(status(&r), 200, "{r}");
    server.stop().await;
}

#[tokio::test]
async fn oversized_header_is_refused() {
    let server = Server::start(app(&[("FSA_SERVER_MAX_HEADER_SIZE", "16384")]).build().unwrap()).await;
    let big = format!("X-Big: {}\r\n", "a".repeat(100_000));
    let r = get(server.addr, "/open", &big).await;
    assert!(status(&r) == 431 || r.is_empty(), "{r}");
    assert!(!r.contains("200 OK"));
    assert_eq!(status(&get(server.addr, "/open", "X-Small: a\r\n").await), 200);
    server.stop().await;
}

/// The body of a response, after its head.
fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[tokio::test]
async fn unreadable_heads_are_answered_in_the_error_format() {
    let directives = [("FSA_ERROR_RESPONSE", "json:error"), ("FSA_SERVER_MAX_HEADER_SIZE", "16384")];
    let server = Server::start(app(&directives).build().unwrap()).await;
    let json = |r: &str, status_line: &str, message: &str| {
        assert!(r.starts_with(status_line), "{r}");
        let expected = format!("{{\"error\": \"{message}\"}}");
        assert_eq!(body(r), expected, "{r}");
        let length = format!("\r\ncontent-length: {}\r\n", expected.len());
        assert!(r.contains("\r\ncontent-type: application/json\r\n") && r.contains(&length), "{r}");
        assert!(r.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{r}");
    };
    // A control character in the target, a header name with a space: hyper's 400s.
    let r = raw(server.addr, "GET /op\x01en HTTP/1.1\r\nHost: t\r\n\r\n").await;
    json(&r, "HTTP/1.1 400 Bad Request\r\n", "malformed request head");
    let r = raw(server.addr, "GET /open HTTP/1.1\r\nHost: t\r\nBad Header: y\r\n\r\n").await;
    json(&r, "HTTP/1.1 400 Bad Request\r\n", "malformed request head");
    // After an answered request on the same connection, too.
    let r = raw(server.addr, "GET /open HTTP/1.1\r\nHost: t\r\n\r\nGET /op\x01en HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let (first, second) = r.split_at(r.find("open").expect("first answer") + 4);
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    json(second, "HTTP/1.1 400 Bad Request\r\n", "malformed request head");
    // A head still incomplete at FSA_SERVER_MAX_HEADER_SIZE, all of it read (no reset).
    let start = "GET /open HTTP/1.1\r\nHost: t\r\nX-Big: ";
    let head = format!("{start}{}", "a".repeat(16384 - start.len()));
    assert_eq!(head.len(), 16384);
    let r = raw(server.addr, &head).await;
    json(&r, "HTTP/1.1 431 Request Header Fields Too Large\r\n", "request head too large");
    // The app's own empty 400 that closes is written as the app made it.
    let r = get(server.addr, "/refuse", "").await;
    assert!(r.starts_with("HTTP/1.1 400 Bad Request\r\n") && r.contains("content-length: 0\r\n"), "{r}");
    assert_eq!(body(&r), "", "{r}");
    server.stop().await;
    // A target longer than hyper reads, in the default (plain) format.
    let server = Server::start(app(&[]).build().unwrap()).await;
    let r = raw(server.addr, &format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000))).await;
    assert!(r.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{r}");
    assert!(r.contains("\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 23\r\n"), "{r}");
    assert_eq!(body(&r), "request target too long");
    server.stop().await;
}

#[tokio::test]
async fn absurd_chunk_sizes_are_refused() {
    let server = Server::start(app(&[("FSA_MAX_BODY_SIZE", "1024")]).build().unwrap()).await;
    let head = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    // A chunk size overflowing 64 bits: a protocol error.
    let r = exchange(
        TcpStream::connect(server.addr).await.unwrap(),
        format!("{head}fffffffffffffffffff\r\nx=1").as_bytes(),
    )
    .await;
    assert!(!r.contains("200 OK"), "{r}");
    // A huge declared chunk: read as a stream, refused past FSA_MAX_BODY_SIZE.
    let body = format!("{head}7fffffffffff\r\nx={}", "a".repeat(4096));
    let r = raw(server.addr, &body).await;
    assert_eq!(status(&r), 413, "{r}");
    // A sane chunked body still works.
    let r = raw(server.addr, &format!("{head}5\r\nx=abc\r\n0\r\n\r\n")).await;
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.ends_with("abc"), "{r}");
    server.stop().await;
}

/// Slashes as Werkzeug has them, on paths sent as they are (hyper reads `//open` as a path).
#[tokio::test]
async fn doubled_slashes_over_a_socket() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let r = get(server.addr, "//open", "").await;
    assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("open"), "{r}");
    let r = get(server.addr, "/nap//5?y=1", "").await;
    assert_eq!(status(&r), 308, "{r}");
    assert!(r.to_lowercase().contains("location: http://test/nap/5?y=1\r\n"), "{r}");
    server.stop().await;
}

#[tokio::test]
async fn crlf_is_never_echoed_into_headers() {
    let server = Server::start(app(&[("FSA_MODE", "dev")]).build().unwrap()).await;
    let r = get(server.addr, "/who?LOGIN=eve%0d%0aX-Injected:%201", "").await;
    assert_eq!(status(&r), 200, "{r}");
    let head = r.split("\r\n\r\n").next().unwrap();
    assert!(!head.to_lowercase().contains("\r\nx-injected"), "{r}");
    assert!(head.to_lowercase().contains("\r\nfsa-request: get /who\r\n"), "{r}");
    // The login, control characters written %XX, in its development header.
    assert!(head.to_lowercase().contains("\r\nfsa-user: eve%0d%0ax-injected: 1 (fake)\r\n"), "{r}");
    // A login beyond ASCII is written as its UTF-8 bytes, not dropped.
    let r = get(server.addr, "/who?LOGIN=caf%C3%A9", "").await;
    assert!(r.contains("\r\nfsa-user: café (fake)\r\n"), "{r}");
    server.stop().await;
}

#[tokio::test]
async fn connection_cap() {
    let server = Server::start(
        app(&[("FSA_SERVER_MAX_CONNECTIONS", "1"), ("FSA_SERVER_HEADER_TIMEOUT", "20")]).build().unwrap(),
    )
    .await;
    // First connection: served, then kept alive (idle).
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first.write_all(b"GET /open HTTP/1.1\r\nHost: t\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Second connection: waits for the first to go.
    let second = tokio::spawn(get(server.addr, "/open", ""));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "second connection served beyond the cap");
    drop(first);
    let r = tokio::time::timeout(PATIENCE, second).await.unwrap().unwrap();
    assert_eq!(status(&r), 200, "{r}");
    server.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let server = Server::start(app(&[]).build().unwrap()).await;
    let addr = server.addr;
    let pending = tokio::spawn(get(addr, "/slow", ""));
    while !SLOW_STARTED.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
    let r = pending.await.unwrap();
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.ends_with("slow done"), "{r}");
    // The listener is closed.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_connection_that_sent_nothing() {
    // Long timeouts: only the shutdown itself may end the silent connection's wait.
    let slow = [("FSA_SERVER_HEADER_TIMEOUT", "60"), ("FSA_SERVER_SHUTDOWN_TIMEOUT", "60")];
    let server = Server::start(app(&slow).build().unwrap()).await;
    let silent = TcpStream::connect(server.addr).await.unwrap();
    // Served meanwhile, so that the silent connection is accepted and waiting.
    assert_eq!(status(&get(server.addr, "/open", "").await), 200);
    // Within the harness's patience, where the timeouts above would take twice that.
    server.stop().await;
    drop(silent);
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_first_request_head_left_unfinished() {
    let slow = [("FSA_SERVER_HEADER_TIMEOUT", "60"), ("FSA_SERVER_SHUTDOWN_TIMEOUT", "60")];
    let server = Server::start(app(&slow).build().unwrap()).await;
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"GET /open HTTP/1.1\r\nHost: t\r\n").await.unwrap();
    // Served meanwhile, so that the partial head has been read.
    assert_eq!(status(&get(server.addr, "/open", "").await), 200);
    // Within the harness's patience, where the timeouts above would take twice that.
    server.stop().await;
    // Closed without an answer: nothing of a request had begun.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, partial.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?} {:?}", String::from_utf8_lossy(&rest));
}

#[tokio::test]
async fn cors_over_the_socket() {
    let cors = [("FSA_CORS", "true"), ("FSA_CORS_OPTS", r#"{origins = ["http://client.example"]}"#)];
    let server = Server::start(app(&cors).build().unwrap()).await;
    let pre = "Origin: http://client.example\r\nAccess-Control-Request-Method: GET\r\n";
    let req = format!("OPTIONS /who HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{pre}\r\n");
    let r = raw(server.addr, &req).await.to_lowercase();
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.contains("access-control-allow-origin: http://client.example"), "{r}");
    assert!(r.contains("access-control-allow-methods:") && r.contains("get"), "{r}");
    let r = get(server.addr, "/open", "Origin: http://other.example\r\n").await.to_lowercase();
    assert_eq!(status(&r), 200);
    assert!(!r.contains("access-control-allow-origin"), "{r}");
    server.stop().await;
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_from_configured_certificate() {
    use std::sync::Arc;
    use tokio_rustls::rustls;

    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("fsa-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, key.cert.pem()).unwrap();
    std::fs::write(&key_path, key.signing_key.serialize_pem()).unwrap();
    let tls_app = app(&[
        ("FSA_TLS_CERT", cert_path.to_str().unwrap()),
        ("FSA_TLS_KEY", key_path.to_str().unwrap()),
        ("FSA_MODE", "dev"),
    ])
    .after_request(|ctx, resp| {
        let v = if ctx.is_tls() { "yes" } else { "no" };
        resp.headers_mut().insert("x-tls", http::HeaderValue::from_static(v));
    })
    .build()
    .unwrap();
    let server = Server::start(tls_app).await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(key.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let r = exchange(tls, b"GET /who?LOGIN=calvin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status(&r), 200, "{r}");
    assert!(r.to_lowercase().contains("x-tls: yes"), "{r}");
    assert!(r.ends_with("hello calvin"), "{r}");
    // Plain HTTP on the TLS port gets no answer.
    let r = get(server.addr, "/open", "").await;
    assert!(!r.contains("200 OK"), "{r}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);

    // The same through the API, with PEM text.
    let tls =
        fsa::server::tls::server_config_from_pem(key.cert.pem().as_bytes(), key.signing_key.serialize_pem().as_bytes())
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app(&[]).build().unwrap().serve_tls_listener(listener, tls, async move {
        let _ = stopped.await;
    }));
    let tls = connector
        .connect(rustls_pki_types::ServerName::try_from("localhost").unwrap(), TcpStream::connect(addr).await.unwrap());
    let r = exchange(tls.await.unwrap(), b"GET /open HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status(&r), 200, "{r}");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    assert!(fsa::server::tls::server_config_from_pem(b"not pem", b"nope").is_err());

    // Mismatched files are an error when serving starts.
    let bad =
        app(&[("FSA_TLS_CERT", "/nonexistent/cert.pem"), ("FSA_TLS_KEY", "/nonexistent/key.pem")]).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    assert!(bad.serve_listener(listener, std::future::pending()).await.is_err());
}
