//! 转发 on the desk: each repost task (newest first) with its coverage per unit as bars
//! (`domain::reposts::coverage`, what `转发 进度` and the assessment count), over the accounts
//! the viewer supervises or administers. Only when bot.toml has `[reposts]`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::Value;

use super::Desk;
use super::access::Viewer;
use crate::domain::reposts::coverage::{Tally, coverage};
use crate::process::reposts::all_tasks;

fn tally(t: &Tally) -> Value {
    minijinja::context! {
        label => t.label.clone(), total => t.total, done => t.done, unable => t.unable,
        pending => t.pending, percent => t.percent(),
    }
}

/// `/desk/reposts`.
pub(super) async fn page(State(desk): State<Arc<Desk>>, viewer: Viewer) -> Response {
    if desk.s.scripts.reposts.is_none() {
        return desk.message(StatusCode::NOT_FOUND, Some(&viewer), "not_found");
    }
    let mut tasks = match all_tasks(&desk.s).await {
        Ok(t) => t,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    for task in &mut tasks {
        task.targets
            .retain(|t| viewer.supervises(&t.unit) || t.admin == viewer.userid);
    }
    tasks.retain(|t| !t.targets.is_empty());
    if !viewer.supervisor() && tasks.is_empty() {
        return desk.forbidden(&viewer);
    }
    let items: Vec<Value> = tasks
        .iter()
        .rev()
        .map(|task| {
            let c = coverage(task);
            minijinja::context! {
                number => task.number.clone(), link => task.link.clone(), note => task.note.clone(),
                deadline => task.deadline.clone(), total => tally(&c.total),
                units => c.by_unit.iter().map(tally).collect::<Vec<Value>>(),
            }
        })
        .collect();
    let ctx = minijinja::context! { tasks => items };
    desk.page(StatusCode::OK, "reposts.html", Some(&viewer), ctx)
}
