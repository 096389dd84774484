//! Liveness (`/healthz`: the process serves) and readiness (`/readyz`: the store takes a write
//! now, through `Store::ping_write`; a full disk, a read-only file or a Redis refusing writes
//! answers 503, as the callback would).

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use crate::base::log_safe::log_safe;

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping_write(state.clock.now_ms()).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %log_safe(&e.to_string()), "readiness check failed: the store cannot take a write");
            (StatusCode::SERVICE_UNAVAILABLE, "store cannot take a write")
        }
    }
}
