//! 舆情 on the desk: the incidents still open (`incidents:open`, as `舆情 列表` reads them) with
//! their age and who holds them, oldest first, for the department (all), a unit's leaders (their
//! unit's) and the reporter (their own). Handling stays in chat. Only when bot.toml has
//! `[incidents]`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::Value;

use super::Desk;
use super::access::Viewer;
use crate::domain::incidents::{self, Incident};

/// `/desk/incidents`.
pub(super) async fn page(State(desk): State<Arc<Desk>>, viewer: Viewer) -> Response {
    let s = &desk.s;
    if s.scripts.incidents.is_none() {
        return desk.message(StatusCode::NOT_FOUND, Some(&viewer), "not_found");
    }
    let numbers = match s.store.cases_in(incidents::OPEN).await {
        Ok(n) => n,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    let mut open: Vec<Incident> = Vec::new();
    for number in numbers {
        match s.load_body::<Incident>(&number).await {
            Ok(Some((incident, _))) => open.push(incident),
            Ok(None) => {}
            Err(e) => return desk.unavailable(&e.to_string()),
        }
    }
    open.retain(|i| {
        i.reporter == viewer.userid
            || match &i.unit {
                Some(unit) => viewer.supervises(unit),
                None => viewer.supervises(""),
            }
    });
    if !viewer.supervisor() && open.is_empty() {
        return desk.forbidden(&viewer);
    }
    open.sort_by_key(|i| i.reported_ms);
    let now = s.clock.now_ms();
    let mut items: Vec<Value> = Vec::new();
    for i in &open {
        let holder = match &i.acknowledged_by {
            Some(userid) => match s.name_of(userid).await {
                Ok(name) => Some(name),
                Err(e) => return desk.unavailable(&e.to_string()),
            },
            None => None,
        };
        let hours = (now - i.reported_ms).max(0) / 3_600_000;
        let minutes = (now - i.reported_ms).max(0) / 60_000 % 60;
        items.push(minijinja::context! {
            number => i.number.clone(), unit => i.unit_name.clone(), account => i.account.clone(),
            what => i.what.clone(), reported => s.local_time(i.reported_ms),
            age => desk.word("age_value", minijinja::context! { days => hours / 24, hours => hours % 24 }),
            minutes => minutes, holder => holder,
        });
    }
    let ctx = minijinja::context! { items => items };
    desk.page(StatusCode::OK, "incidents.html", Some(&viewer), ctx)
}
