//! One connection's life: its idle and slow-header watchdog, and graceful shutdown.
//!
//! hyper's own `header_read_timeout` arms a timer for every request head: an allocation, a
//! timer-wheel insertion and removal and two clock reads per request, about a tenth of the
//! server's work on a small request. fsa keeps the same defence with one watchdog task per
//! connection instead, which wakes four times per `FSA_SERVER_HEADER_TIMEOUT` and looks at
//! counters that the connection bumps as it goes:
//!
//! - `progress`: requests answered and response body pieces produced; `in_flight`: handlers
//!   running, and streamed response bodies waiting for their next piece from the app;
//!   `sent`: bytes written to the socket (less the bytes read, over HTTP/2).
//! - A connection where no handler runs and none of the counters moved for the whole
//!   timeout is closed: a client that never completes a request head (slowloris), or an idle
//!   keep-alive connection, goes after between one and one and a quarter timeouts.
//! - A long handler, a slow request body being read by a handler, a streamed response whose
//!   app side pauses (server-sent events, long polling), and a response that is still being
//!   written keep the connection alive; a response that cannot write a single byte for a
//!   whole timeout (a client that stopped reading) does not. (The socket takes writes as
//!   the client reads, `TCP_NOTSENT_LOWAT`: see `pace_writes` in `server.rs`.)
//! - A streamed response waiting for the app is treated as a running handler is: it keeps
//!   its connection until the app's next piece even if the client has left meanwhile, since
//!   HTTP/1.1 does not read while it answers (see `server.rs`) and the departure shows at
//!   the next write. Long-lived streams should write something now and then, as server-sent
//!   events send a comment line as a heartbeat.
//! - HTTP/2 follows the same rules, with two differences. The server must answer some of a
//!   client's frames (a PING with its acknowledgement), which a client could send now and
//!   then to look busy: there, writes count only when the bytes written exceed the bytes
//!   read by 4 KiB in a quarter of the timeout, which those answers, never longer than the
//!   frames they answer, cannot do. Response bodies are handed to hyper in pieces of 16 KiB,
//!   each one progress, so that a response waiting for the client's flow-control window is
//!   seen moving. And an idle connection that has served a request is first told to go away
//!   (GOAWAY, so that the client opens a new one for its next request instead of losing
//!   it), and closed a timeout later if it is still there.
//!
//! The counters are atomics: HTTP/2 runs each stream's handler in its own task, and bumps
//! them with atomic adds. HTTP/1.1 runs its requests inside the connection's task, one
//! writer for each counter: a load and a store there, not a locked add (a locked add costs
//! tens of cycles, three of them per request).
//!
//! Graceful shutdown goes through the same watchdog: it flags the connection, wakes its task,
//! and the task calls hyper's `graceful_shutdown` (finish the requests in flight, then close).

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http_body::Body as _;
use http_body::Frame;
use hyper_util::server::graceful::GracefulConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use crate::error::{Error, ErrorFormat};
use crate::response::{Body, Response};

const RUN: u8 = 0;
const GRACEFUL: u8 = 1;
const CLOSE: u8 = 2;

/// The size of the pieces in which HTTP/2 response bodies are handed to hyper.
const H2_PIECE: usize = 16 * 1024;

/// The bytes an HTTP/2 connection must write, beyond those it read, in a quarter of the
/// timeout for its writes to count.
pub(crate) const H2_MIN_SENT: u64 = 4 * 1024;

/// What one connection has done, and what its watchdog asks of it.
#[derive(Default)]
pub(crate) struct Activity {
    /// Whether several tasks bump the counters (HTTP/2).
    shared: bool,
    progress: AtomicU32,
    in_flight: AtomicU32,
    sent: AtomicU64,
    state: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

impl Activity {
    /// The activity of a connection whose requests run in tasks of their own (HTTP/2), or
    /// inside the connection's task (HTTP/1.1).
    pub(crate) fn new(shared: bool) -> Self {
        Activity { shared, ..Activity::default() }
    }

    /// Adds `delta` (wrapping) to `counter`.
    fn add(&self, counter: &AtomicU32, delta: u32) {
        if self.shared {
            counter.fetch_add(delta, Ordering::Relaxed);
        } else {
            counter.store(counter.load(Ordering::Relaxed).wrapping_add(delta), Ordering::Relaxed);
        }
    }

    /// A request's handler starts; the returned guard marks it done when dropped.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight {
        self.add(&self.in_flight, 1);
        InFlight(self.clone())
    }

    fn step(&self) {
        self.add(&self.progress, 1);
    }

    /// Whether an HTTP/1.1 connection has not begun its first request: no handler started,
    /// nothing written. hyper's graceful shutdown keeps such a connection until its first
    /// request head is complete (it counts as busy until a first request is answered), which a
    /// client that sent part of a head, or nothing, can put off until the header timeout.
    fn before_first_request(&self) -> bool {
        !self.shared && self.in_flight.load(Ordering::Relaxed) == 0 && self.sent.load(Ordering::Relaxed) == 0
    }

    fn snapshot(&self) -> (u32, u64) {
        (self.progress.load(Ordering::Relaxed), self.sent.load(Ordering::Relaxed))
    }

    fn signal(&self, state: u8) {
        self.state.fetch_max(state, Ordering::SeqCst);
        let waker = self.waker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(w) = waker.as_ref() {
            w.wake_by_ref();
        }
    }
}

/// A running handler (see [`Activity::start`]).
pub(crate) struct InFlight(Arc<Activity>);

impl InFlight {
    /// The size of the pieces response bodies are handed to hyper in: [`H2_PIECE`] over
    /// HTTP/2, whole over HTTP/1.1.
    fn piece(&self) -> usize {
        if self.0.shared { H2_PIECE } else { usize::MAX }
    }

    /// Whether the request came over HTTP/1 (its connection runs one request at a time).
    #[inline]
    pub(crate) fn is_http1(&self) -> bool {
        !self.0.shared
    }

    /// Whether the handler's response body goes out in more than one piece: streamed, or
    /// longer than a piece.
    fn needs_watching(&self, body: &Body) -> bool {
        body.is_streamed() || (self.0.shared && body.size_hint().exact().is_some_and(|n| n > H2_PIECE as u64))
    }

    /// Watches the body of the handler's response (see [`WatchedBody`]) where the response
    /// is built, so that it is not moved once more. Bodies that go out at once are left as
    /// they are.
    #[inline]
    pub(crate) fn watch(&self, response: &mut Response) {
        if self.needs_watching(response.body()) {
            self.watch_body(response);
        }
    }

    #[cold]
    #[inline(never)]
    fn watch_body(&self, response: &mut Response) {
        let inner = std::mem::take(response.body_mut());
        let watched = WatchedBody { inner, rest: None, piece: self.piece(), activity: self.0.clone(), waiting: false };
        *response.body_mut() = Body::from_body(watched);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.add(&a.in_flight, u32::MAX);
        a.step();
    }
}

/// A response body on its way out, as its connection's watchdog sees it: every piece
/// produced is progress, and while the body waits for the app to produce its next piece it
/// counts as a running handler. While it waits for the client (hyper does not ask for the
/// next piece), nothing moves, and the connection is closed after the timeout.
pub(crate) struct WatchedBody {
    inner: Body,
    /// The part of a piece longer than `piece` still to hand over.
    rest: Option<Bytes>,
    piece: usize,
    activity: Arc<Activity>,
    /// The last poll of `inner` was pending: counted in `in_flight`.
    waiting: bool,
}

impl WatchedBody {
    fn wait(&mut self, waiting: bool) {
        if self.waiting != waiting {
            self.waiting = waiting;
            let a = &self.activity;
            a.add(&a.in_flight, if waiting { 1 } else { u32::MAX });
        }
    }

    /// Hands over at most `piece` bytes of `data`, keeping the rest for the next poll.
    fn cut(&mut self, mut data: Bytes) -> Frame<Bytes> {
        if data.len() > self.piece {
            self.rest = Some(data.split_off(self.piece));
        }
        Frame::data(data)
    }
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if let Some(rest) = this.rest.take() {
            this.activity.step();
            return Poll::Ready(Some(Ok(this.cut(rest))));
        }
        let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) else {
            this.wait(true);
            return Poll::Pending;
        };
        this.wait(false);
        this.activity.step();
        Poll::Ready(frame.map(|r| {
            r.map(|frame| match frame.into_data() {
                Ok(data) => this.cut(data),
                Err(frame) => frame,
            })
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let rest = self.rest.as_ref().map_or(0, |r| r.len() as u64);
        let inner = self.inner.size_hint();
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(rest));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(rest));
        }
        hint
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.wait(false);
    }
}

/// The connection's socket, counting in `sent` the bytes written, less the bytes read when
/// `NET` (HTTP/2: the frames the server must answer a client's control frames with, PING
/// acknowledgements and the like, are no longer than those, so that a client cannot keep
/// its connection busy with them).
///
/// Over HTTP/1 it also gives hyper's own answers to a request head hyper cannot read a body
/// in the app's error format ([`head_error`](super::head_error)).
pub(crate) struct Watched<S, const NET: bool> {
    io: S,
    activity: Arc<Activity>,
    /// HTTP/1: the error format hyper's own answers are given a body in.
    errors: Option<Arc<ErrorFormat>>,
    /// `progress` at the previous write: a write made while it has not moved follows no
    /// handler's answer.
    progress_seen: u32,
    /// An answer written in place of one of hyper's (see [`Watched::replace`]).
    replacing: Option<Replacement>,
}

/// The answer written in place of one of hyper's, how much of it is written, and the length
/// of hyper's write it stands for.
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

impl<S, const NET: bool> Watched<S, NET> {
    /// The socket of an HTTP/2 connection (`NET`), or of an HTTP/1 one whose hyper answers
    /// to unreadable heads get a body in `errors` (`None`: written as hyper writes them).
    pub(crate) fn new(io: S, activity: Arc<Activity>, errors: Option<Arc<ErrorFormat>>) -> Self {
        Watched { io, activity, errors, progress_seen: 0, replacing: None }
    }

    /// Adds `n` to `sent`. One writer, the connection's task: a load and a store, not a
    /// locked add.
    fn count(&self, n: u64) {
        let sent = &self.activity.sent;
        sent.store(sent.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    fn wrote(&self, r: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = r {
            self.count(*n as u64);
        }
    }

    /// Whether this write may be one of hyper's answers to a head it cannot read (see
    /// [`head_error`](super::head_error)): over HTTP/1, no handler answered since the previous
    /// write (hyper writes an app's answer only after its handler ended, which moves
    /// `progress`).
    #[inline]
    fn after_no_handler(&mut self) -> bool {
        if self.errors.is_none() {
            return false;
        }
        let progress = self.activity.progress.load(Ordering::Relaxed);
        let quiet = progress == self.progress_seen;
        self.progress_seen = progress;
        quiet
    }

    /// Whether `buf` is one of hyper's answers to a head it cannot read, now replaced.
    fn replace(&mut self, buf: &[u8]) -> bool {
        let Some(format) = &self.errors else { return false };
        if !super::head_error::may_be(buf) {
            return false;
        }
        self.replacing = replacement(buf, format);
        self.replacing.is_some()
    }
}

/// The one piece of `bufs` that is not empty, or nothing: hyper writes its answer to an
/// unreadable head as one piece.
fn only_piece<'a>(bufs: &'a [std::io::IoSlice<'_>]) -> &'a [u8] {
    let mut pieces = bufs.iter().filter(|b| !b.is_empty());
    match (pieces.next(), pieces.next()) {
        (Some(piece), None) => piece,
        _ => &[],
    }
}

/// The replacement of `buf` if it is one of hyper's answers to a head it cannot read.
#[cold]
#[inline(never)]
fn replacement(buf: &[u8], format: &ErrorFormat) -> Option<Replacement> {
    let bytes = super::head_error::rewrite(buf, format)?;
    Some(Replacement { bytes, written: 0, stands_for: buf.len() })
}

impl<S: AsyncWrite + Unpin, const NET: bool> Watched<S, NET> {
    /// Writes the replacement to its end, then tells hyper that its own write is done.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let Some(mut r) = self.replacing.take() else { return Poll::Ready(Ok(0)) };
        while r.written < r.bytes.len() {
            let n = match Pin::new(&mut self.io).poll_write(cx, &r.bytes[r.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.replacing = Some(r);
                    return Poll::Pending;
                }
            };
            r.written += n;
            self.count(n as u64);
        }
        Poll::Ready(Ok(r.stands_for))
    }
}

impl<S: AsyncRead + Unpin, const NET: bool> AsyncRead for Watched<S, NET> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if NET && matches!(r, Poll::Ready(Ok(()))) {
            self.count((before as u64).wrapping_sub(buf.filled().len() as u64));
        }
        r
    }
}

impl<S: AsyncWrite + Unpin, const NET: bool> AsyncWrite for Watched<S, NET> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_some() || (self.after_no_handler() && self.replace(buf)) {
            return self.poll_replacement(cx);
        }
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_some() || (self.after_no_handler() && self.replace(only_piece(bufs))) {
            return self.poll_replacement(cx);
        }
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// When the watchdog finds a connection idle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Idle {
    /// How long nothing may happen.
    pub(crate) timeout: Duration,
    /// The bytes `sent` must grow by in a quarter of the timeout for writing to count.
    pub(crate) min_sent: u64,
    /// Whether an idle connection that has served a request is first asked to go away
    /// (HTTP/2's GOAWAY), and closed only when idle for another timeout.
    pub(crate) polite: bool,
}

impl Idle {
    /// HTTP/1.1: any byte written counts; an idle connection is closed.
    pub(crate) fn http1(timeout: Duration) -> Self {
        Idle { timeout, min_sent: 1, polite: false }
    }

    /// HTTP/2: see the module docs.
    pub(crate) fn http2(timeout: Duration) -> Self {
        Idle { timeout, min_sent: H2_MIN_SENT, polite: true }
    }
}

/// Watches one connection: closes it when idle (when `idle` is set), and asks it to shut
/// down gracefully when `stop` turns true.
async fn watchdog(activity: Arc<Activity>, idle: Option<Idle>, mut stop: watch::Receiver<bool>) {
    // At least a millisecond, so that an absurdly small timeout cannot make the dog spin.
    let tick = idle.map(|i| (i.timeout / 4).max(Duration::from_millis(1)));
    let min_sent = idle.map_or(1, |i| i.min_sent);
    let mut polite = idle.is_some_and(|i| i.polite);
    let first = activity.snapshot();
    let mut last = first;
    let mut quiet = 0;
    let mut stopping = *stop.borrow();
    if stopping {
        activity.signal(GRACEFUL);
    }
    loop {
        let sleep = async {
            match tick {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            changed = stop.changed(), if !stopping => {
                // A closed channel means the server is gone: shut down too.
                if changed.is_err() || *stop.borrow() {
                    stopping = true;
                    activity.signal(GRACEFUL);
                }
                continue;
            }
        }
        let now = activity.snapshot();
        let busy = now.0 != last.0
            || (now.1.wrapping_sub(last.1) as i64) >= min_sent as i64
            || activity.in_flight.load(Ordering::Relaxed) > 0;
        last = now;
        if busy {
            quiet = 0;
            continue;
        }
        quiet += 1;
        if quiet < 4 {
            continue;
        }
        // Polite only to a client that has been served: a silent one is just closed.
        if polite && now.0 != first.0 && !stopping {
            tracing::debug!(target: "fsa", "asking an idle connection to go away");
            polite = false;
            quiet = 0;
            activity.signal(GRACEFUL);
            continue;
        }
        tracing::debug!(target: "fsa", "closing an idle or slow connection");
        activity.signal(CLOSE);
        return;
    }
}

/// Serves `conn` until it ends, is found idle (see [`Idle`]), or is closed by the server's
/// shutdown (`stop` turning true), then stops its watchdog.
pub(crate) async fn drive<C>(conn: C, activity: Arc<Activity>, idle: Option<Idle>, stop: watch::Receiver<bool>)
where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    let dog = tokio::spawn(watchdog(activity.clone(), idle, stop));
    let mut conn = std::pin::pin!(conn);
    let mut registered: Option<Waker> = None;
    let mut shutting = false;
    let result = std::future::poll_fn(|cx| {
        // The waker first, then the state: a signal in between still wakes this task.
        if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let mut slot = activity.waker.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *slot = Some(cx.waker().clone());
            registered = slot.clone();
        }
        match activity.state.load(Ordering::SeqCst) {
            RUN => {}
            CLOSE => return Poll::Ready(Ok(())),
            _ if !shutting => {
                shutting = true;
                conn.as_mut().graceful_shutdown();
            }
            _ => {}
        }
        let polled = conn.as_mut().poll(cx);
        // Shutting down, and this poll read no complete first request (one would have started
        // its handler): nothing is in flight, the connection goes now.
        if shutting && polled.is_pending() && activity.before_first_request() {
            return Poll::Ready(Ok(()));
        }
        polled
    })
    .await;
    dog.abort();
    if let Err(e) = result {
        tracing::debug!(target: "fsa", "connection error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HTTP/2's counters, bumped from several threads at once, lose no update.
    #[test]
    fn shared_counters_add_up_across_threads() {
        let a = Arc::new(Activity::new(true));
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..10_000 {
                        drop(a.start());
                    }
                });
            }
        });
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0);
        assert_eq!(a.snapshot().0, 40_000);
    }

    #[test]
    fn handlers_count_as_activity_until_done() {
        let a = Arc::new(Activity::default());
        let before = a.snapshot();
        let guard = a.start();
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 1);
        assert_eq!(a.snapshot(), before, "a request counts as served when its handler ends");
        drop(guard);
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0);
        assert_ne!(a.snapshot(), before);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_closed_after_the_timeout_and_a_busy_one_is_not() {
        let (_tx, rx) = watch::channel(false);
        let idle = Arc::new(Activity::default());
        let dog = tokio::spawn(watchdog(idle.clone(), Some(Idle::http1(Duration::from_secs(4))), rx.clone()));
        tokio::time::sleep(Duration::from_millis(3900)).await;
        assert_eq!(idle.state.load(Ordering::SeqCst), RUN, "closed before the timeout");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(idle.state.load(Ordering::SeqCst), CLOSE);
        assert!(dog.is_finished());

        let busy = Arc::new(Activity::default());
        let guard = busy.start();
        let dog = tokio::spawn(watchdog(busy.clone(), Some(Idle::http1(Duration::from_secs(4))), rx));
        tokio::time::sleep(Duration::from_secs(20)).await;
        assert_eq!(busy.state.load(Ordering::SeqCst), RUN, "a running handler keeps its connection");
        drop(guard);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(busy.state.load(Ordering::SeqCst), CLOSE);
        assert!(dog.is_finished());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_asks_for_a_graceful_close() {
        let (tx, rx) = watch::channel(false);
        let a = Arc::new(Activity::default());
        let _guard = a.start();
        let _dog = tokio::spawn(watchdog(a.clone(), None, rx));
        tokio::task::yield_now().await;
        assert_eq!(a.state.load(Ordering::SeqCst), RUN);
        tx.send_replace(true);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(a.state.load(Ordering::SeqCst), GRACEFUL);
    }

    /// A streamed body that waits for the app counts as a running handler; one that waits
    /// for the client (nobody polls it) does not; each piece is progress.
    #[tokio::test]
    async fn a_streamed_body_counts_while_the_app_produces_it() {
        use futures_util::StreamExt;
        use http_body_util::BodyExt;
        let a = Arc::new(Activity::default());
        let guard = a.start();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, Error>>();
        let stream = tokio_stream_of(rx).boxed();
        let mut body = watched(&guard, Body::from_stream(stream));
        drop(guard);
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0);
        let before = a.snapshot();
        // Nothing to send yet: the body waits for the app.
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut body).poll_frame(&mut cx).is_pending());
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 1, "waiting for the app is work in flight");
        tx.send(Ok(Bytes::from_static(b"piece"))).unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "piece");
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0, "a piece handed over: waiting for the client");
        assert_ne!(a.snapshot(), before, "a piece is progress");
        assert!(Pin::new(&mut body).poll_frame(&mut cx).is_pending());
        drop(body);
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0, "a dropped body no longer counts");
    }

    fn tokio_stream_of(
        mut rx: tokio::sync::mpsc::UnboundedReceiver<Result<Bytes, Error>>,
    ) -> impl futures_util::Stream<Item = Result<Bytes, Error>> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    /// HTTP/2 bodies go out in pieces, with their length known from the start.
    #[tokio::test]
    async fn a_long_body_is_cut_into_pieces() {
        use http_body_util::BodyExt;
        let a = Arc::new(Activity::new(true));
        let guard = a.start();
        let long = Bytes::from(vec![7u8; 2 * H2_PIECE + 5]);
        let short = watched(&guard, Body::from(Bytes::from_static(b"short")));
        assert!(!short.is_streamed(), "a short body goes as it is");
        let mut body = watched(&guard, Body::from(long.clone()));
        assert_eq!(body.size_hint().exact(), Some(long.len() as u64));
        let mut sizes = Vec::new();
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            sizes.push(data.len());
            out.extend_from_slice(&data);
            assert_eq!(body.size_hint().exact(), Some((long.len() - out.len()) as u64));
            assert_eq!(body.is_end_stream(), out.len() == long.len());
        }
        assert_eq!(sizes, [H2_PIECE, H2_PIECE, 5]);
        assert_eq!(out, long);
        // HTTP/1.1 (no pieces) leaves whole bodies alone.
        let h1 = Arc::new(Activity::new(false));
        assert!(!watched(&h1.start(), Body::from(long)).is_streamed());
    }

    /// The body of a response with `body`, as `guard` leaves it.
    fn watched(guard: &InFlight, body: Body) -> Body {
        let mut response = Response::new(body);
        guard.watch(&mut response);
        response.into_body()
    }

    /// HTTP/2: answering a client's PINGs (a few bytes now and then) is not activity; a
    /// connection that has served a request is asked to go away, then closed.
    #[tokio::test(start_paused = true)]
    async fn http2_control_frames_do_not_keep_a_connection_and_goaway_comes_first() {
        let (_tx, rx) = watch::channel(false);
        let a = Arc::new(Activity::default());
        let dog = tokio::spawn(watchdog(a.clone(), Some(Idle::http2(Duration::from_secs(4))), rx.clone()));
        tokio::task::yield_now().await;
        drop(a.start());
        for _ in 0..5 {
            a.sent.fetch_add(17, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(a.state.load(Ordering::SeqCst), GRACEFUL, "asked to go away first");
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(a.state.load(Ordering::SeqCst), CLOSE);
        assert!(dog.is_finished());

        // A response still being written (4 KiB in each quarter of the timeout) keeps it.
        let b = Arc::new(Activity::default());
        let _dog = tokio::spawn(watchdog(b.clone(), Some(Idle::http2(Duration::from_secs(4))), rx.clone()));
        for _ in 0..20 {
            b.sent.fetch_add(H2_MIN_SENT, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(900)).await;
        }
        assert_eq!(b.state.load(Ordering::SeqCst), RUN);

        // A client that never completed a request is closed without ceremony.
        let c = Arc::new(Activity::default());
        let dog = tokio::spawn(watchdog(c.clone(), Some(Idle::http2(Duration::from_secs(4))), rx));
        tokio::time::sleep(Duration::from_millis(5100)).await;
        assert_eq!(c.state.load(Ordering::SeqCst), CLOSE);
        assert!(dog.is_finished());
    }

    /// HTTP/2's socket counts the bytes written less the bytes read: an answer no longer
    /// than the frame it answers leaves `sent` where it was; a response moves it.
    #[tokio::test]
    async fn http2_sockets_count_what_they_send_beyond_what_they_read() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let a = Arc::new(Activity::default());
        let (server, mut client) = tokio::io::duplex(1 << 16);
        let mut io = Watched::<_, true>::new(server, a.clone(), None);
        let ping = [0u8; 17];
        client.write_all(&ping).await.unwrap();
        let mut buf = [0u8; 17];
        io.read_exact(&mut buf).await.unwrap();
        io.write_all(&ping).await.unwrap();
        assert_eq!(a.snapshot().1, 0, "a PING and its acknowledgement");
        io.write_all(&[1u8; 5000]).await.unwrap();
        assert_eq!(a.snapshot().1, 5000);
        // HTTP/1.1's socket counts the bytes written alone.
        let b = Arc::new(Activity::default());
        let (server, mut client) = tokio::io::duplex(1 << 16);
        let mut io = Watched::<_, false>::new(server, b.clone(), None);
        client.write_all(&ping).await.unwrap();
        io.read_exact(&mut buf).await.unwrap();
        io.write_all(&ping).await.unwrap();
        assert_eq!(b.snapshot().1, 17);
    }

    /// hyper's answer to an unreadable head, replaced through a socket that takes a few bytes
    /// at a time: written whole, counted in `sent`, and hyper told its own write is done; a
    /// vectored write in several pieces, or one after a handler's answer, goes as it is.
    #[tokio::test]
    async fn replacements_survive_partial_writes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let hyper = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let a = Arc::new(Activity::default());
        let (server, mut client) = tokio::io::duplex(7);
        let mut io = Watched::<_, false>::new(server, a.clone(), Some(Arc::new(ErrorFormat::Plain)));
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.unwrap();
            String::from_utf8(out).unwrap()
        });
        let n = std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, hyper)).await.unwrap();
        assert_eq!(n, hyper.len());
        // A handler answered: its write goes as it is, though of the same form.
        drop(a.start());
        let n = std::future::poll_fn(|cx| Pin::new(&mut io).poll_write(cx, hyper)).await.unwrap();
        assert!(n <= 7);
        io.write_all(&hyper[n..]).await.unwrap();
        // Two pieces of a vectored write: as they are.
        let pieces = [std::io::IoSlice::new(&hyper[..10]), std::io::IoSlice::new(&hyper[10..])];
        let n = std::future::poll_fn(|cx| Pin::new(&mut io).poll_write_vectored(cx, &pieces)).await.unwrap();
        io.write_all(&hyper[n..]).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        let replaced = "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n\
                        content-length: 22\r\n\r\nmalformed request head";
        let hyper = std::str::from_utf8(hyper).unwrap();
        assert_eq!(reader.await.unwrap(), format!("{replaced}{hyper}{hyper}"));
        assert_eq!(a.snapshot().1, (replaced.len() + 2 * hyper.len()) as u64);
    }
}
