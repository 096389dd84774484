//! `/metrics`: the Prometheus text of [`crate::runtime::metrics`], the store's gauges sampled at
//! the scrape; 503 when the store does not answer.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::base::log_safe::log_safe;
use crate::runtime::metrics;

pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    match metrics::render(state.store.as_ref(), state.clock.now_ms()).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %log_safe(&e.to_string()), "metrics not sampled: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}
