//! The approver's `button_interaction` template card (protocol notes §5.5): title, the key
//! fields of the case, applicant, unit, and the 同意 / 驳回 buttons whose keys carry the action
//! and the case number. The server trusts neither: a tap is checked against the stored case.

use serde_json::{Value, json};

use super::chain::Texts;
use crate::domain::records::{ApprovalStep, Case};
use crate::scripts::FlowDef;

/// Button key prefixes: `approve:<number>`, `reject:<number>`.
pub const APPROVE: &str = "approve";
pub const REJECT: &str = "reject";

/// WeCom's suggested limits: key names ≤ 5 characters, values ≤ 30.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// What a tap says: approve or reject, and which case.
pub fn parse_key(key: &str) -> Option<(bool, &str)> {
    let (action, number) = key.split_once(':')?;
    match action {
        APPROVE => Some((true, number)),
        REJECT => Some((false, number)),
        _ => None,
    }
}

/// The card for one step of a case, with the step's newest task id.
pub fn approval_card(texts: &Texts<'_>, flow: &FlowDef, case: &Case, step: &ApprovalStep) -> Value {
    let mut rows = vec![
        json!({"keyname": "编号", "value": case.number}),
        json!({"keyname": "申请人", "value": clip(&case.applicant_name, 30), "type": 3, "userid": case.applicant}),
        json!({"keyname": "单位", "value": clip(&case.unit_name, 30)}),
    ];
    for id in &flow.card_fields {
        if let (Some((_, field)), Some(answer)) = (flow.field(id), case.answers.get(id)) {
            rows.push(
                json!({"keyname": clip(&field.label, 5), "value": clip(&texts.answer(answer), 30)}),
            );
        }
    }
    rows.truncate(6);
    let task_id = step.task_ids.last().cloned().unwrap_or_default();
    let mut card = json!({
        "card_type": "button_interaction",
        "source": {"desc": clip(&texts.say("card_description"), 20), "desc_color": 0},
        "main_title": {"title": clip(&texts.say("card_title"), 36), "desc": clip(&step.label, 44)},
        "horizontal_content_list": rows,
        "task_id": task_id,
        "button_list": [
            {"text": texts.say("button_approve"), "style": 1, "key": format!("{APPROVE}:{}", case.number)},
            {"text": texts.say("button_reject"), "style": 2, "key": format!("{REJECT}:{}", case.number)},
        ],
    });
    if case.round > 1 {
        card["sub_title_text"] = Value::String(clip(&texts.say("card_resubmitted"), 160));
    }
    card
}
