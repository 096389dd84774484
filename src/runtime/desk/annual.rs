//! 年审 on the desk: the annual review campaign's progress per unit, a stacked bar each (SVG
//! drawn by the server), and its accounts with their outcome, for the units the viewer
//! supervises (or the accounts whose report is due from them). Read with
//! `process::annual_review::results`, as `年审 进度` and `导出 年审` read it. Only when bot.toml
//! has `[campaigns.annual_review]`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::Value;
use serde::Deserialize;

use super::Desk;
use super::access::Viewer;
use crate::domain::annual::Outcome;
use crate::domain::annual::results::{AccountResult, outcome_text};
use crate::process::annual_review::results;

/// The colour of an outcome's part of a bar.
fn colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Missing => "#c8ccd2",
        Outcome::Submitted => "#9dbdea",
        Outcome::Approved => "#4a86d8",
        Outcome::Passed => "#2e9e5b",
        Outcome::Rectifying => "#e6a23c",
        Outcome::Failed => "#c0392b",
        Outcome::NotFiled => "#6b6f76",
    }
}

/// One unit's bar: its parts (`x`, `width` in percent, colour) in [`Outcome::ALL`]'s order.
fn bar(rows: &[&AccountResult]) -> Vec<Value> {
    let total = rows.len().max(1) as f64;
    let mut x = 0.0;
    Outcome::ALL
        .iter()
        .filter_map(|o| {
            let n = rows.iter().filter(|r| r.outcome == *o).count();
            (n > 0).then(|| {
                let width = n as f64 * 100.0 / total;
                let part =
                    minijinja::context! { x => x, width => width, colour => colour(*o), n => n };
                x += width;
                part
            })
        })
        .collect()
}

#[derive(Deserialize)]
pub(super) struct Year {
    year: Option<i32>,
}

/// `/desk/annual` (`?year=` for an earlier campaign).
pub(super) async fn page(
    State(desk): State<Arc<Desk>>,
    viewer: Viewer,
    Query(q): Query<Year>,
) -> Response {
    let scripts = &desk.s.scripts;
    let store = &*desk.s.store;
    if scripts.annual_review.is_none() {
        return desk.message(StatusCode::NOT_FOUND, Some(&viewer), "not_found");
    }
    let year = match results::year_of(store, q.year).await {
        Ok(y) => y,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    let mut rows = match year {
        Some(year) => match results::load(store, year).await {
            Ok(rows) => rows,
            Err(e) => return desk.unavailable(&e.to_string()),
        },
        None => Vec::new(),
    };
    rows.retain(|r| viewer.supervises(&r.unit) || r.due.contains(&viewer.userid));
    if !viewer.supervisor() && rows.is_empty() {
        return desk.forbidden(&viewer);
    }
    let mut by_unit: BTreeMap<(&str, &str), Vec<&AccountResult>> = BTreeMap::new();
    for r in &rows {
        by_unit.entry((&r.unit_name, &r.unit)).or_default().push(r);
    }
    let units: Vec<Value> = by_unit
        .iter()
        .map(|((name, _), rows)| {
            let filed = rows.iter().filter(|r| r.outcome.filed()).count();
            minijinja::context! { name => *name, total => rows.len(), filed => filed, bar => bar(rows) }
        })
        .collect();
    let legend: Vec<Value> = Outcome::ALL
        .iter()
        .map(|o| minijinja::context! { text => outcome_text(scripts, *o), colour => colour(*o) })
        .collect();
    let accounts: Vec<Value> = rows
        .iter()
        .map(|r| {
            minijinja::context! {
                unit => r.unit_name.clone(), register_number => r.register_number.clone(),
                name => r.account_name.clone(), due => r.due_names.clone(),
                report => r.report.clone(), outcome => outcome_text(scripts, r.outcome),
            }
        })
        .collect();
    let ctx = minijinja::context! { year => year, units => units, legend => legend, accounts => accounts };
    desk.page(StatusCode::OK, "annual.html", Some(&viewer), ctx)
}
