//! 统计 on the desk: the register entries the viewer may see counted by unit, platform and status
//! (as the chat's `统计` counts them, `register_view::counts`), drawn as bars, with the cases
//! waiting for a decision.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value as Json;

use super::Desk;
use super::access::Viewer;
use super::register::visible;
use crate::domain::records::register_view::{self, Scope};
use crate::domain::records::{ALL_CASES, CaseStatus};
use crate::runtime::exports;

/// Counts with each bar's width in percent of the largest.
fn bars(counts: Vec<Json>) -> Vec<Json> {
    let most = counts
        .iter()
        .filter_map(|c| c["count"].as_u64())
        .max()
        .unwrap_or(1)
        .max(1);
    counts
        .into_iter()
        .map(|mut c| {
            let count = c["count"].as_u64().unwrap_or(0);
            c["width"] = Json::from((count * 100).div_ceil(most));
            c
        })
        .collect()
}

/// `/desk/stats`.
pub(super) async fn page(State(desk): State<Arc<Desk>>, viewer: Viewer) -> Response {
    let (register, changing) = match visible(&desk, &viewer).await {
        Ok(v) => v,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    if !viewer.supervisor() && register.is_empty() {
        return desk.forbidden(&viewer);
    }
    let pending = match exports::load(&*desk.s.store, ALL_CASES).await {
        Ok(cases) => cases
            .iter()
            .filter(|c| c.status == CaseStatus::Pending && viewer.sees(c))
            .count(),
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    let entries = register_view::entries(&desk.s.scripts, &register, &Scope::All, &changing);
    let by = |label: fn(&register_view::Entry) -> &str| {
        super::ser(bars(register_view::counts(entries.iter().map(label))))
    };
    let ctx = minijinja::context! {
        total => entries.len(),
        pending => pending,
        by_unit => by(|e| e.unit.as_str()),
        by_platform => by(|e| e.platform.as_str()),
        by_status => by(|e| e.status.as_str()),
    };
    desk.page(StatusCode::OK, "stats.html", Some(&viewer), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest() {
        let counts = vec![
            serde_json::json!({"label": "团委", "count": 4}),
            serde_json::json!({"label": "工会", "count": 1}),
        ];
        let widths: Vec<u64> = bars(counts)
            .iter()
            .map(|b| b["width"].as_u64().unwrap())
            .collect();
        assert_eq!(widths, [100, 25]);
        assert!(bars(Vec::new()).is_empty());
    }
}
