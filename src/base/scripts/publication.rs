//! `[publication_review]` in bot.toml: authorisation before publishing (policy 3.2.2–3.2.3),
//! the settings of the flow `publication_review` — whether the unit leader's step is needed,
//! which categories are urgent, how many working hours the department has to answer (clock
//! hours, day or night, when urgent), how often it is reminded and when someone more senior is
//! told — and the process's own messages (`[publication_review.messages]`).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::compile::{BUILTIN_ROLES, Compiler};
use super::{FieldKind, FlowDef, tpl};
use crate::base::diagnostics::Source;
use crate::base::directory::RoleDef;

/// The flow whose cases are authorisations before publishing.
pub const PUBLICATION_REVIEW: &str = "publication_review";

/// Its field naming the category (a choice) and the one saying whether the unit leader has
/// already checked the draft (yes/no).
pub const CATEGORY_FIELD: &str = "category";
pub const LEADER_CHECKED_FIELD: &str = "leader_checked";

/// Every message `[publication_review.messages]` must define (and nothing else).
pub const PUBLICATION_MESSAGES: &[&str] = &["filed", "due_note", "reminder", "escalated"];

/// `[publication_review]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublicationReview {
    /// `always`, `unless_checked` or `never`: when the flow's `unit_leader` steps run.
    pub leader_review: Spanned<String>,
    /// Categories answered day or night within `urgent_answer_hours` clock hours.
    pub urgent_categories: Spanned<Vec<String>>,
    pub answer_working_hours: Spanned<u32>,
    pub urgent_answer_hours: Spanned<u32>,
    pub remind_every_working_hours: Spanned<u32>,
    pub urgent_remind_every_hours: Spanned<u32>,
    /// After this many reminders, the holders of `escalate_to` are told as well.
    pub escalate_after: Spanned<u32>,
    pub escalate_to: Spanned<String>,
    pub messages: Spanned<BTreeMap<String, Spanned<String>>>,
}

/// When the unit leader's step of the flow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderReview {
    /// Always, whatever the applicant says.
    Always,
    /// Unless the applicant says the leader has already checked the draft.
    UnlessChecked,
    /// Never: the department decides alone.
    Never,
}

/// `[publication_review]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationReview {
    pub leader_review: LeaderReview,
    pub urgent_categories: Vec<String>,
    pub answer_working_hours: u32,
    pub urgent_answer_hours: u32,
    pub remind_every_working_hours: u32,
    pub urgent_remind_every_hours: u32,
    pub escalate_after: u32,
    pub escalate_to: String,
}

impl Compiler {
    /// The flow `publication_review` exists with its `category` choice (holding every urgent
    /// category) and, unless the leader's step is `always` or `never`, its `leader_checked`
    /// yes/no; hours are positive; `escalate_to` is a role; the messages are exactly
    /// [`PUBLICATION_MESSAGES`].
    pub(super) fn publication_review(
        &mut self,
        src: &Source,
        raw: &Spanned<RawPublicationReview>,
        flows: &BTreeMap<String, FlowDef>,
        roles: &BTreeMap<String, RoleDef>,
    ) -> Option<PublicationReview> {
        let before = self.d.errors.len();
        let r = raw.get_ref();
        self.message_table(
            src,
            &r.messages,
            ("publication_review", PUBLICATION_MESSAGES),
            tpl::publication,
        );
        let leader_review = match r.leader_review.get_ref().as_str() {
            "always" => LeaderReview::Always,
            "unless_checked" => LeaderReview::UnlessChecked,
            "never" => LeaderReview::Never,
            other => {
                let msg = format!(
                    "leader_review must be `always`, `unless_checked` or `never`, not `{other}`"
                );
                self.d.error(src.at(r.leader_review.span(), msg));
                LeaderReview::Never
            }
        };
        for hours in [
            &r.answer_working_hours,
            &r.urgent_answer_hours,
            &r.remind_every_working_hours,
            &r.urgent_remind_every_hours,
        ] {
            if *hours.get_ref() == 0 {
                self.d
                    .error(src.at(hours.span(), "hours must be at least 1"));
            }
        }
        let role = r.escalate_to.get_ref();
        if !BUILTIN_ROLES.contains(&role.as_str()) && !roles.contains_key(role) {
            let msg = format!("escalate_to `{role}` is not a role of [roles]");
            self.d.error(src.at(r.escalate_to.span(), msg));
        }
        self.publication_flow(src, raw, flows, leader_review);
        (self.d.errors.len() == before).then(|| PublicationReview {
            leader_review,
            urgent_categories: r.urgent_categories.get_ref().clone(),
            answer_working_hours: *r.answer_working_hours.get_ref(),
            urgent_answer_hours: *r.urgent_answer_hours.get_ref(),
            remind_every_working_hours: *r.remind_every_working_hours.get_ref(),
            urgent_remind_every_hours: *r.urgent_remind_every_hours.get_ref(),
            escalate_after: *r.escalate_after.get_ref(),
            escalate_to: role.clone(),
        })
    }

    /// The flow and the fields the settings talk about.
    fn publication_flow(
        &mut self,
        src: &Source,
        raw: &Spanned<RawPublicationReview>,
        flows: &BTreeMap<String, FlowDef>,
        leader_review: LeaderReview,
    ) {
        let Some(flow) = flows.get(PUBLICATION_REVIEW) else {
            let msg =
                format!("[publication_review] needs the flow flows/{PUBLICATION_REVIEW}.toml");
            self.d.error(src.at(raw.span(), msg));
            return;
        };
        let r = raw.get_ref();
        match flow.field(CATEGORY_FIELD).map(|(_, f)| &f.kind) {
            Some(FieldKind::Choice { choices, .. }) => {
                for c in r.urgent_categories.get_ref() {
                    if !choices.contains(c) {
                        let msg =
                            format!("urgent category `{c}` is not a choice of `{CATEGORY_FIELD}`");
                        self.d.error(src.at(r.urgent_categories.span(), msg));
                    }
                }
            }
            _ => {
                let msg = format!(
                    "[publication_review] needs a choice field `{CATEGORY_FIELD}` in flows/{PUBLICATION_REVIEW}.toml"
                );
                self.d.error(src.at(raw.span(), msg));
            }
        }
        let checked = flow.field(LEADER_CHECKED_FIELD).map(|(_, f)| &f.kind);
        if leader_review == LeaderReview::UnlessChecked && checked != Some(&FieldKind::YesNo) {
            let msg = format!(
                "leader_review `unless_checked` needs a yes/no field `{LEADER_CHECKED_FIELD}` in flows/{PUBLICATION_REVIEW}.toml"
            );
            self.d.error(src.at(r.leader_review.span(), msg));
        }
    }
}
