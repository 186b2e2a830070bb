//! One connection's life: its idle and slow-header watchdog, and graceful shutdown.
//!
//! hyper's own `header_read_timeout` arms a timer for every request head: an allocation, a
//! timer-wheel insertion and removal and two clock reads per request, about a tenth of the
//! server's work on a small request. fsa keeps the same defence with one watchdog task per
//! connection instead, which wakes four times per `FSA_SERVER_HEADER_TIMEOUT` and looks at
//! counters that the connection bumps as it goes:
//!
//! - `served`: requests answered; `in_flight`: handlers running; `writes`: socket writes.
//! - A connection where no handler runs and none of the counters moved for the whole
//!   timeout is closed: a client that never completes a request head (slowloris), or an idle
//!   keep-alive connection, goes after between one and one and a quarter timeouts.
//! - A long handler, a slow request body being read by a handler, and a response that is
//!   still being written keep the connection alive; a response that cannot write a single
//!   byte for a whole timeout (a client that stopped reading) does not.
//!
//! The counters are plain relaxed loads and stores: on HTTP/1.1, hyper runs the service
//! future inside the connection's task, so each counter has one writer.
//!
//! Graceful shutdown goes through the same watchdog: it flags the connection, wakes its task,
//! and the task calls hyper's `graceful_shutdown` (finish the request in flight, then close).

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hyper_util::server::graceful::GracefulConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

const RUN: u8 = 0;
const GRACEFUL: u8 = 1;
const CLOSE: u8 = 2;

/// What one connection has done, and what its watchdog asks of it.
#[derive(Default)]
pub(crate) struct Activity {
    served: AtomicU32,
    in_flight: AtomicU32,
    writes: AtomicU32,
    state: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

/// Bumps a counter that has a single writer (the connection's task).
fn bump(counter: &AtomicU32) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

impl Activity {
    /// A request's handler starts; the returned guard marks it done when dropped.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight {
        bump(&self.in_flight);
        InFlight(self.clone())
    }

    fn snapshot(&self) -> (u32, u32) {
        (self.served.load(Ordering::Relaxed), self.writes.load(Ordering::Relaxed))
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

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.in_flight.store(a.in_flight.load(Ordering::Relaxed).wrapping_sub(1), Ordering::Relaxed);
        bump(&a.served);
    }
}

/// The connection's socket, counting the writes that made progress.
pub(crate) struct Watched<S> {
    io: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub(crate) fn new(io: S, activity: Arc<Activity>) -> Self {
        Watched { io, activity }
    }

    fn wrote(&self, r: &Poll<std::io::Result<usize>>) {
        if matches!(r, Poll::Ready(Ok(n)) if *n > 0) {
            bump(&self.activity.writes);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
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

/// Watches one connection: closes it when idle for `timeout` (when `timeout` is set), and
/// asks it to shut down gracefully when `stop` turns true.
async fn watchdog(activity: Arc<Activity>, timeout: Option<Duration>, mut stop: watch::Receiver<bool>) {
    // At least a millisecond, so that an absurdly small timeout cannot make the dog spin.
    let tick = timeout.map(|t| (t / 4).max(Duration::from_millis(1)));
    let mut last = activity.snapshot();
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
        if now != last || activity.in_flight.load(Ordering::Relaxed) > 0 {
            last = now;
            quiet = 0;
            continue;
        }
        quiet += 1;
        if quiet >= 4 {
            tracing::debug!(target: "fsa", "closing an idle or slow connection");
            activity.signal(CLOSE);
            return;
        }
    }
}

/// Serves `conn` until it ends, is found idle for `timeout`, or is closed by the server's
/// shutdown (`stop` turning true), then stops its watchdog.
pub(crate) async fn drive<C>(conn: C, activity: Arc<Activity>, timeout: Option<Duration>, stop: watch::Receiver<bool>)
where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    let dog = tokio::spawn(watchdog(activity.clone(), timeout, stop));
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
        conn.as_mut().poll(cx)
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
        let dog = tokio::spawn(watchdog(idle.clone(), Some(Duration::from_secs(4)), rx.clone()));
        tokio::time::sleep(Duration::from_millis(3900)).await;
        assert_eq!(idle.state.load(Ordering::SeqCst), RUN, "closed before the timeout");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(idle.state.load(Ordering::SeqCst), CLOSE);
        assert!(dog.is_finished());

        let busy = Arc::new(Activity::default());
        let guard = busy.start();
        let dog = tokio::spawn(watchdog(busy.clone(), Some(Duration::from_secs(4)), rx));
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
}
