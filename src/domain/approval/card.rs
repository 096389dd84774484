//! The approver's card: title, the key
//! fields of the case, applicant, unit, and the 同意 / 驳回 buttons (and 不得发布 in a
//! `refusable` flow) whose keys carry the action and the case number. The server trusts neither: a tap is checked against the stored case.

use super::chain::Verdict;
use crate::base::scripts::FlowDef;
use crate::domain::records::Texts;
use crate::domain::records::{ApprovalStep, Case};
use crate::domain::reply::{Card, CardButton, CardRow, DeskPage};

/// Button key prefixes: `approve:<number>`, `reject:<number>`, `refuse:<number>`.
pub const APPROVE: &str = "approve";
pub const REJECT: &str = "reject";
pub const REFUSE: &str = "refuse";
/// `details:<number>`: every answer of the case, to the tapper (nothing is decided).
pub const DETAILS: &str = "details";

/// What a tap says: approve, reject or refuse, and which case.
pub fn parse_key(key: &str) -> Option<(Verdict, &str)> {
    let (action, number) = key.split_once(':')?;
    match action {
        APPROVE => Some((Verdict::Approve, number)),
        REJECT => Some((Verdict::Reject, number)),
        REFUSE => Some((Verdict::Refuse, number)),
        _ => None,
    }
}

/// The card for one step of a case, with the step's newest task id.
pub fn approval_card(texts: &Texts<'_>, flow: &FlowDef, case: &Case, step: &ApprovalStep) -> Card {
    let mut rows = vec![
        row(texts.say("card_row_number"), case.number.clone()),
        CardRow {
            member: Some(case.applicant.clone()),
            ..row(texts.say("card_row_applicant"), case.applicant_name.clone())
        },
        row(texts.say("card_row_unit"), case.unit_name.clone()),
    ];
    for id in &flow.card_fields {
        if let (Some((_, field)), Some(answer)) = (flow.field(id), case.answers.get(id)) {
            rows.push(row(field.label.clone(), texts.answer(answer)));
        }
    }
    Card {
        source: texts.say("card_description"),
        title: texts.say("card_title"),
        title_note: step.label.clone(),
        note: note(texts, case),
        rows,
        task_id: step.task_ids.last().cloned().unwrap_or_default(),
        buttons: buttons(texts, flow, &case.number),
        link: Some(DeskPage::Case(case.number.clone())),
    }
}

/// 同意, 驳回, 不得发布 (a `refusable` flow only) and 详情.
fn buttons(texts: &Texts<'_>, flow: &FlowDef, number: &str) -> Vec<CardButton> {
    let refuse = flow.refusable.then_some(("button_refuse", REFUSE));
    [
        Some(("button_approve", APPROVE)),
        Some(("button_reject", REJECT)),
        refuse,
        Some(("button_details", DETAILS)),
    ]
    .into_iter()
    .flatten()
    .map(|(text, action)| CardButton {
        text: texts.say(text),
        key: format!("{action}:{number}"),
        primary: action == APPROVE,
    })
    .collect()
}

/// What the approver should know before deciding: the earlier steps' approvals (who approved
/// before), the notes the flow's process set (a change report's old → new values), and what
/// changed when the case was resubmitted.
fn note(texts: &Texts<'_>, case: &Case) -> Option<String> {
    let mut lines: Vec<String> = case
        .chain
        .iter()
        .take(case.current_step)
        .filter_map(|step| {
            let names: Vec<&str> = step
                .decisions
                .iter()
                .filter(|d| d.approve)
                .map(|d| d.by_name.as_str())
                .collect();
            if names.is_empty() {
                return None;
            }
            let mut t = texts.clone();
            t.set("step", step.label.clone());
            t.set("names", names.join("、"));
            Some(t.say("card_approved_before"))
        })
        .collect();
    lines.extend(case.card_notes.iter().cloned());
    if case.round > 1 {
        lines.push(texts.say("card_resubmitted"));
    }
    (!lines.is_empty()).then(|| lines.join("；"))
}

fn row(label: String, value: String) -> CardRow {
    CardRow {
        label,
        value,
        member: None,
    }
}
