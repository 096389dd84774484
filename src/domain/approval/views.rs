//! What `我的`, `待办` and `状态 <编号>` show, rendered from `[approvals]`. Pure: the caller
//! loads the cases and checks who may see them ([`may_view`]).

use minijinja::Value;

use crate::base::scripts::{Scripts, tpl};
use crate::domain::records::Texts;
use crate::domain::records::{Case, HistoryEntry, HistoryKind};

fn json_value(value: serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Policy: a case is seen by its applicant, its unit's leaders and the propaganda department.
pub fn may_view(case: &Case, viewer: &str, unit_leaders: &[String], propaganda: &[String]) -> bool {
    case.applicant == viewer
        || unit_leaders.iter().any(|l| l == viewer)
        || propaganda.iter().any(|p| p == viewer)
}

fn title_of(scripts: &Scripts, case: &Case) -> String {
    scripts
        .flows
        .get(&case.flow)
        .map(|f| f.title.clone())
        .unwrap_or_default()
}

fn texts<'a>(scripts: &'a Scripts, case: &Case) -> Option<Texts<'a>> {
    scripts
        .flows
        .get(&case.flow)
        .map(|flow| Texts::new(scripts, flow, case))
}

/// What `我的` adds for a member of the propaganda department: the cases waiting for them.
pub struct Supervisor<'a> {
    pub waiting: &'a [Case],
}

/// `我的`: my cases with their status, and my units' registered accounts; for the propaganda
/// department also what waits for them and what they can look at.
pub fn mine(
    scripts: &Scripts,
    my_cases: &[Case],
    unit_accounts: &[Case],
    supervisor: Option<Supervisor<'_>>,
) -> String {
    let cases: Vec<Value> = my_cases
        .iter()
        .filter_map(|c| {
            let t = texts(scripts, c)?;
            Some(json_value(serde_json::json!({
                "number": c.number, "title": title_of(scripts, c), "status": t.status(c.status),
            })))
        })
        .collect();
    let accounts: Vec<Value> = unit_accounts
        .iter()
        .filter_map(|c| {
            let t = texts(scripts, c)?;
            let answer = |id: &str| c.answers.get(id).map(|a| t.answer(a)).unwrap_or_default();
            Some(json_value(serde_json::json!({
                "register_number": c.register_number, "name": answer("account_name"), "platform": answer("platform"),
            })))
        })
        .collect();
    let waiting: Vec<Value> = supervisor
        .as_ref()
        .map(|s| s.waiting.iter().map(|c| todo_item(scripts, c)).collect())
        .unwrap_or_default();
    let ctx = json_value(serde_json::json!({
        "cases": cases, "accounts": accounts, "supervisor": supervisor.is_some(), "waiting": waiting,
    }));
    scripts.render(&tpl::approval("mine"), &ctx)
}

/// One case waiting for a decision, as `待办` lists it.
fn todo_item(scripts: &Scripts, c: &Case) -> Value {
    let step = c
        .chain
        .get(c.current_step)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    json_value(serde_json::json!({
        "number": c.number, "title": title_of(scripts, c), "applicant": c.applicant_name,
        "unit": c.unit_name, "step": step,
    }))
}

/// `待办`: the cases waiting for my decision.
pub fn todo(scripts: &Scripts, waiting: &[Case]) -> String {
    let items: Vec<Value> = waiting.iter().map(|c| todo_item(scripts, c)).collect();
    let ctx = json_value(serde_json::json!({ "items": items }));
    scripts.render(&tpl::approval("todo"), &ctx)
}

/// `状态 <编号>`: the case and its whole history; `format_time` renders a moment in the
/// company's time zone.
pub fn status(
    scripts: &Scripts,
    case: &Case,
    history: &[HistoryEntry],
    name_of: &dyn Fn(&str) -> String,
    format_time: &dyn Fn(i64) -> String,
) -> String {
    let Some(t) = texts(scripts, case) else {
        return String::new();
    };
    let lines: Vec<Value> = history
        .iter()
        .filter_map(|h| {
            let mut t = texts(scripts, case)?.with("name", name_of(&h.by));
            let key = match &h.kind {
                HistoryKind::Submitted => "history_submitted",
                HistoryKind::Approved { step } => {
                    t.set("step", step.clone());
                    "history_approved"
                }
                HistoryKind::Rejected { step, reason } | HistoryKind::Refused { step, reason } => {
                    t.set("step", step.clone());
                    t.set("reason", reason.clone().unwrap_or_default());
                    if matches!(h.kind, HistoryKind::Refused { .. }) {
                        "history_refused"
                    } else {
                        "history_rejected"
                    }
                }
                HistoryKind::Edited { changes } => {
                    t.set("changes", changes.join("；"));
                    "history_edited"
                }
                HistoryKind::Resubmitted { round } => {
                    t.set("round", *round);
                    "history_resubmitted"
                }
                HistoryKind::Withdrawn => "history_withdrawn",
                HistoryKind::Urged { step } => {
                    t.set("step", step.clone());
                    "history_urged"
                }
                HistoryKind::Registered { register_number } => {
                    t.set("register_number", register_number.clone());
                    "history_registered"
                }
                HistoryKind::Changed { report, changes } => {
                    t.set("report", report.clone());
                    t.set("changes", changes.join("；"));
                    "history_changed"
                }
                HistoryKind::StatusChanged { status, source } => {
                    let ctx = minijinja::context! {
                        account_status => status.text(scripts), source => source,
                    };
                    let text = scripts.render(&tpl::supervision("history_account_status"), &ctx);
                    return Some(json_value(
                        serde_json::json!({ "at": format_time(h.at_ms), "text": text }),
                    ));
                }
            };
            Some(json_value(
                serde_json::json!({ "at": format_time(h.at_ms), "text": t.say(key) }),
            ))
        })
        .collect();
    let status = t.status(case.status);
    t.with("status", status)
        .with("history", lines)
        .say("status")
}
