//! A flow's own `[approvals]` table: its words for some of bot.toml's approval messages (e.g.
//! 可以发布 for 同意), and in a `refusable` flow the words of the third outcome, a refusal for
//! good (不得发布), which bot.toml's `[approvals]` does not have.

use super::compile::Compiler;
use super::model::RawFlow;
use super::{APPROVAL_MESSAGES, tpl};
use crate::base::diagnostics::Source;

/// The messages a `refusable` flow's `[approvals]` must define: its button, the card's label
/// once refused, the reason prompt, the applicant's notice, the decision word, the status and
/// the history line.
pub const REFUSAL_MESSAGES: &[&str] = &[
    "button_refuse",
    "card_refused",
    "ask_refuse_reason",
    "refused_to_applicant",
    "decision_refuse",
    "status_refused",
    "history_refused",
];

impl Compiler {
    /// Each key of the flow's `[approvals]` is an approval message (a refusal message only in
    /// a `refusable` flow, which must define them all); each compiles.
    pub(super) fn flow_approvals(&mut self, src: &Source, flow: &str, raw: &RawFlow) {
        let refusing = |key: &str| REFUSAL_MESSAGES.contains(&key);
        if let Some(table) = &raw.approvals {
            for (key, text) in table.get_ref() {
                let known = APPROVAL_MESSAGES.contains(&key.as_str()) || refusing(key);
                if !known {
                    let msg = format!("unknown approval message `{key}`");
                    self.d.error(src.at(text.span(), msg));
                } else if refusing(key) && !raw.refusable {
                    let msg = format!("`{key}` needs `refusable = true`");
                    self.d.error(src.at(text.span(), msg));
                }
                self.template(src, tpl::flow_approval(flow, key), text);
            }
        }
        if !raw.refusable {
            return;
        }
        let span = raw
            .approvals
            .as_ref()
            .map_or_else(|| raw.title.span(), |t| t.span());
        for key in REFUSAL_MESSAGES {
            let defined = raw
                .approvals
                .as_ref()
                .is_some_and(|t| t.get_ref().contains_key(*key));
            if !defined {
                let msg = format!("a refusable flow needs the message `{key}` in [approvals]");
                self.d.error(src.at(span.clone(), msg));
            }
        }
    }
}
