//! The stand-in WeCom API of `flowbot bench --api-sink`: it accepts every call (a token for
//! `gettoken`, `errcode 0` otherwise) and times the bot's answers. A message sent to a member is
//! matched to that member's oldest unanswered callback (one conversation's replies come in its
//! callbacks' order), and the time from the callback's scheduled start to the reply reaching
//! this stand-in is recorded: callback to reply, end to end, queueing and delivery included.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;

use crate::base::locks::lock;

/// The callbacks waiting for an answer and the latencies of those answered.
#[derive(Default)]
pub struct Replies {
    waiting: Mutex<HashMap<String, VecDeque<Instant>>>,
    latency: Mutex<Option<Histogram<u64>>>,
    received: AtomicU64,
}

/// Percentiles of callback to reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplyLatency {
    pub replies: u64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Replies {
    /// A callback of `user` scheduled at `at` is about to be sent.
    pub fn expect(&self, user: &str, at: Instant) {
        lock(&self.waiting)
            .entry(user.to_owned())
            .or_default()
            .push_back(at);
    }

    /// Messages received so far (answers or not).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// A message to `user` arrived now.
    fn arrived(&self, user: &str) {
        self.received.fetch_add(1, Ordering::Relaxed);
        let sent = lock(&self.waiting)
            .get_mut(user)
            .and_then(VecDeque::pop_front);
        if let Some(sent) = sent {
            let micros = sent.elapsed().as_micros().max(1) as u64;
            let mut latency = lock(&self.latency);
            let hist = latency.get_or_insert_with(|| {
                Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
            });
            let _ = hist.record(micros);
        }
    }

    /// Callback to reply so far; `None` before the first reply.
    pub fn latency(&self) -> Option<ReplyLatency> {
        let latency = lock(&self.latency);
        let hist = latency.as_ref()?;
        let at = |q: f64| Duration::from_micros(hist.value_at_quantile(q));
        Some(ReplyLatency {
            replies: hist.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: Duration::from_micros(hist.max()),
        })
    }
}

/// Serves the stand-in on `addr`, recording into `replies`.
pub async fn serve(addr: &str, replies: Arc<Replies>) -> anyhow::Result<()> {
    use axum::routing::{any, get};
    let app = axum::Router::new()
        .route(
            "/cgi-bin/gettoken",
            get(|| async { axum::Json(serde_json::json!({"errcode":0,"errmsg":"ok","access_token":"bench-token","expires_in":7200})) }),
        )
        .fallback(any(move |body: axum::body::Bytes| {
            let replies = replies.clone();
            async move {
                let sent: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
                let to = sent.as_ref().and_then(|v| v.get("touser")?.as_str());
                if let Some(to) = to {
                    for user in to.split('|') {
                        replies.arrived(user);
                    }
                }
                axum::Json(serde_json::json!({"errcode":0,"errmsg":"ok","msgid":"bench"}))
            }
        }));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("api sink on {addr}"))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}
