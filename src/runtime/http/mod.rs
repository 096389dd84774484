//! The HTTP edge: `/wecom/callback` (GET URL verification, POST receive), `/healthz`, `/readyz`,
//! `/metrics` (Prometheus).
//! Handlers never wait on WeCom's API: a callback is verified, decrypted, deduped and queued,
//! then answered at once.

mod callback;
mod health;
mod query;
mod scrape;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::sync::Notify;

use crate::adapters::store::Store;
use crate::adapters::wecom::crypto::CallbackCrypto;
use crate::base::clock::Clock;

/// WeCom refuses nothing larger, and neither do we: bigger bodies get 413.
pub const MAX_CALLBACK_BODY: usize = 64 * 1024;

/// What the callback needs to accept messages for one app.
#[derive(Debug)]
pub struct CallbackSettings {
    pub crypto: CallbackCrypto,
    /// Refuse timestamps further than this from now (replay guard).
    pub replay_window: Duration,
    /// Keep dedupe keys this long.
    pub dedupe_ttl: Duration,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// `None` when no WeCom credentials are configured: the callback then answers 503.
    pub callback: Option<Arc<CallbackSettings>>,
    /// Woken after each enqueue so that an idle worker picks the event up at once.
    pub new_events: Arc<Notify>,
    /// The replay window and the enqueue time are judged on it.
    pub clock: Clock,
}

/// The bot's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/wecom/callback",
            get(callback::verify_url).post(callback::receive),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(scrape::metrics))
        .layer(DefaultBodyLimit::max(MAX_CALLBACK_BODY))
        .with_state(state)
}
