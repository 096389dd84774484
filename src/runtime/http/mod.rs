//! The HTTP edge: `/wecom/callback` (GET URL verification, POST receive), `/healthz`, `/readyz`,
//! `/metrics` (Prometheus), and the department's desk under `/desk` when it is on
//! ([`crate::runtime::desk`]).
//! Handlers never wait on WeCom's API: a callback is verified, decrypted, deduped and queued,
//! then answered at once.

mod callback;
mod door;
mod health;
mod query;
mod scrape;

pub use door::{Door, Limits, fitting_cap, serve};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::sync::Notify;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;

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
    /// The department's desk, when bot.toml has `[desk]` and WeCom credentials are set.
    pub desk: Option<Arc<crate::runtime::desk::Desk>>,
}

/// The bot's routes. The callback and `/readyz` share the in-flight cap (beyond it: an
/// immediate 503) and the request timeout (408); `/healthz` and `/metrics` answer outside both,
/// so that a flood never makes the process look dead and can be watched while it lasts.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let guarded = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            (StatusCode::SERVICE_UNAVAILABLE, "busy, try again")
        }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(
            limits.max_in_flight.max(1),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    let mut routes = Router::new()
        .route(
            "/wecom/callback",
            get(callback::verify_url).post(callback::receive),
        )
        .route("/readyz", get(health::readyz));
    if let Some(desk) = &state.desk {
        routes = routes.merge(crate::runtime::desk::router(desk.clone()));
    }
    routes
        .route_layer(guarded)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(scrape::metrics))
        .layer(DefaultBodyLimit::max(MAX_CALLBACK_BODY))
        .with_state(state)
}
