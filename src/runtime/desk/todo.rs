//! 待办 on the desk: the cases waiting for a decision and the duties still open that the viewer
//! may see, with their deadlines and age, overdue first. Deciding stays in chat (one place
//! decides): the page says so and links each case to its page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::Value;

use super::Desk;
use super::access::Viewer;
use crate::base::scripts::CLOSURE_ORDER;
use crate::domain::records::{ALL_CASES, CaseStatus};
use crate::domain::reminders::duty::{ALL_DUTIES, Duty};
use crate::runtime::exports;

/// One line of the list: what, its deadline, since when, whether overdue.
struct Line {
    overdue: bool,
    /// For the order: a deadline as text sorts like the moment (`YYYY-MM-DD HH:MM`).
    deadline: String,
    value: Value,
}

/// Overdue first, then by deadline (none last).
fn order(mut lines: Vec<Line>) -> Vec<Value> {
    lines.sort_by(|a, b| {
        (!a.overdue, a.deadline.is_empty(), &a.deadline).cmp(&(
            !b.overdue,
            b.deadline.is_empty(),
            &b.deadline,
        ))
    });
    lines.into_iter().map(|l| l.value).collect()
}

/// `/desk/todo`.
pub(super) async fn page(State(desk): State<Arc<Desk>>, viewer: Viewer) -> Response {
    let s = &desk.s;
    let now = s.clock.now();
    let age = |since_ms: i64| {
        let hours = (now.ms - since_ms).max(0) / 3_600_000;
        desk.word(
            "age_value",
            minijinja::context! { days => hours / 24, hours => hours % 24 },
        )
    };
    let cases = match exports::load(&*s.store, ALL_CASES).await {
        Ok(c) => c,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    // Someone who supervises nothing and has filed or administers nothing: refused.
    if !viewer.supervisor() && !cases.iter().any(|c| viewer.sees(c)) {
        return desk.forbidden(&viewer);
    }
    let mut approvals: Vec<Line> = Vec::new();
    for c in cases
        .iter()
        .filter(|c| c.status == CaseStatus::Pending && viewer.sees(c))
    {
        let step = c.chain.get(c.current_step);
        let deadline_ms = step.and_then(|st| st.deadline_ms);
        let since = step
            .and_then(|st| st.opened_at_ms)
            .unwrap_or(c.submitted_at_ms);
        let deadline = deadline_ms.map(|ms| s.local_time(ms)).unwrap_or_default();
        let overdue = deadline_ms.is_some_and(|ms| ms < now.ms);
        let title = s.scripts.flows.get(&c.flow).map(|f| f.title.clone());
        approvals.push(Line {
            overdue,
            deadline: deadline.clone(),
            value: minijinja::context! {
                number => c.number.clone(), title => title, unit => c.unit_name.clone(),
                step => step.map(|st| st.label.clone()), deadline => deadline,
                age => age(since), overdue => overdue,
            },
        });
    }
    let mut duties: Vec<Line> = Vec::new();
    let numbers = match s.store.cases_in(ALL_DUTIES).await {
        Ok(n) => n,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    for number in numbers {
        let duty = match s.load_body::<Duty>(&number).await {
            Ok(Some((duty, _))) => duty,
            Ok(None) => continue,
            Err(e) => return desk.unavailable(&e.to_string()),
        };
        let mine = duty.due.contains(&viewer.userid);
        if duty.done || !(viewer.supervises(&duty.unit) || mine) {
            continue;
        }
        let overdue = duty.deadline < now.today.format("%Y-%m-%d").to_string();
        let kind = match duty.kind.as_str() {
            CLOSURE_ORDER => "closure_order",
            _ if duty.campaign.is_some() => "campaign",
            _ => "duty",
        };
        duties.push(Line {
            overdue,
            deadline: duty.deadline.clone(),
            value: minijinja::context! {
                number => duty.number, kind => kind, unit => duty.unit_name,
                account => duty.account, account_name => duty.account_name,
                deadline => duty.deadline, age => age(duty.opened_at_ms), overdue => overdue,
            },
        });
    }
    let ctx = minijinja::context! {
        approvals => order(approvals),
        duties => order(duties),
    };
    desk.page(StatusCode::OK, "todo.html", Some(&viewer), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_first_then_by_deadline_and_none_last() {
        let line = |overdue, deadline: &str| Line {
            overdue,
            deadline: deadline.to_owned(),
            value: Value::from(format!("{overdue} {deadline}")),
        };
        let ordered = order(vec![
            line(false, ""),
            line(false, "2026-12-03"),
            line(true, "2026-11-20"),
            line(false, "2026-12-01"),
            line(true, "2026-11-02"),
        ]);
        let texts: Vec<String> = ordered.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "true 2026-11-02",
                "true 2026-11-20",
                "false 2026-12-01",
                "false 2026-12-03",
                "false "
            ]
        );
    }
}
