//! The door of the callback port: the accept loop and its limits. HTTP/1.1 over hyper with a
//! header-read timeout (which also ends a keep-alive connection idle for as long), at most
//! `keepalive_max` requests per connection, and a cap on open connections: a connection
//! beyond the cap evicts the oldest one that is not serving a request (a half-sent request, an
//! idle keep-alive), else it is closed at once. The request timeout and the in-flight cap are
//! layers of the router ([`super::router`]). The process's open-file limit is raised to its
//! hard limit at start, and the cap is lowered to fit under it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, Request, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tower::ServiceExt;

use crate::base::locks::lock;

/// File descriptors kept for everything but callers' connections (the store, WeCom, files).
const FD_RESERVE: u64 = 256;

/// The limits at the door (`FLOWBOT_HEADER_TIMEOUT`, `FLOWBOT_REQUEST_TIMEOUT`,
/// `FLOWBOT_MAX_CONNECTIONS`, `FLOWBOT_MAX_IN_FLIGHT`, `FLOWBOT_KEEPALIVE_MAX`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers must arrive within this; also the longest idle keep-alive.
    pub header_timeout: Duration,
    /// A request (its body read and its answer) must be done within this, else 408.
    pub request_timeout: Duration,
    /// Open connections at most (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// Requests being handled at most; beyond it the answer is an immediate 503 (`/healthz`
    /// is not counted).
    pub max_in_flight: usize,
    /// Requests served on one keep-alive connection; the last one is answered with
    /// `Connection: close`.
    pub keepalive_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_in_flight: 512,
            keepalive_max: 100,
        }
    }
}

/// The open connections, oldest first, and whether each is serving a request now.
#[derive(Clone, Default)]
pub struct Door {
    open: Arc<Mutex<BTreeMap<u64, Open>>>,
    next: Arc<AtomicU64>,
}

struct Open {
    serving: Arc<AtomicBool>,
    abort: AbortHandle,
}

impl Door {
    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        lock(&self.open).len()
    }

    /// Makes room for one more connection under `cap`: true when there is room (possibly by
    /// closing the oldest connection that serves no request), false when every open connection
    /// is serving one.
    fn make_room(&self, cap: usize) -> bool {
        let mut open = lock(&self.open);
        if open.len() < cap {
            return true;
        }
        let victim = open
            .iter()
            .find(|(_, c)| !c.serving.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match victim.and_then(|id| open.remove(&id)) {
            Some(conn) => {
                conn.abort.abort();
                true
            }
            None => false,
        }
    }
}

/// Removes its connection from the door when the connection's task ends (or is aborted).
struct Leaving {
    door: Door,
    id: u64,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        lock(&self.door.open).remove(&self.id);
    }
}

/// Clears a connection's "serving" mark when its request is answered (or dropped).
struct Serving(Arc<AtomicBool>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Raises the soft open-file limit to the hard one and returns the connection cap that fits
/// under it (`wanted`, or less with a warning).
pub fn fitting_cap(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            return wanted;
        }
    };
    let room = usize::try_from(limit.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    if room < wanted {
        tracing::warn!(
            open_file_limit = limit,
            wanted,
            cap = room.max(1),
            "FLOWBOT_MAX_CONNECTIONS lowered to fit the open-file limit (raise `ulimit -n`)"
        );
    }
    wanted.min(room).max(1)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then lets the
/// open connections finish their requests and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    door: Door,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut last_error_log: Option<Instant> = None;
    let mut refused = 0u64;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors or the like: say so now and then, and let the
                // timeouts free some before accepting again.
                if last_error_log.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "accept failed");
                    last_error_log = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if !door.make_room(limits.max_connections) {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    refused,
                    cap = limits.max_connections,
                    "connection refused: every open connection is serving a request"
                );
            }
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let id = door.next.fetch_add(1, Ordering::Relaxed);
        let serving = Arc::new(AtomicBool::new(false));
        let leaving = Leaving {
            door: door.clone(),
            id,
        };
        let connection = connection(
            stream,
            router.clone(),
            limits.clone(),
            serving.clone(),
            stop_rx.clone(),
        );
        // Held while spawning, so a connection that ends at once removes itself after this.
        let mut open = lock(&door.open);
        let abort = tasks.spawn(async move {
            let _leaving = leaving;
            connection.await;
        });
        open.insert(id, Open { serving, abort });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// One connection: HTTP/1.1 with the header timeout, requests counted for `keepalive_max`.
async fn connection(
    stream: TcpStream,
    router: Router,
    limits: Limits,
    serving: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
) {
    let served = Arc::new(AtomicUsize::new(0));
    let keepalive_max = limits.keepalive_max.max(1);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let router = router.clone();
        serving.store(true, Ordering::Relaxed);
        let mark = Serving(serving.clone());
        let count = served.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            let _mark = mark;
            let mut response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if count >= keepalive_max {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
