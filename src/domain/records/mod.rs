//! Cases as stored: a filed form with its number, unit, applicant, answers and approval chain,
//! plus an append-only history; approved registrations form the account register. Pure data and
//! the store writes that record them; the store keeps them forever (business records never
//! expire). [`export`] and [`form`] turn them into the propaganda department's spreadsheets and
//! the printed 登记表; [`files`] loads and writes those. [`duplicates`] tells whether two
//! registrations name the same account.

pub mod account_status;
pub mod changes;
pub mod duplicates;
pub mod export;
pub mod form;
pub mod register_view;
pub mod texts;

pub use account_status::AccountStatus;
pub use texts::Texts;

use serde::{Deserialize, Serialize};

use crate::base::scripts::SignMode;
use crate::domain::engine::Answers;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed, going through the approval chain (`Case::current_step`).
    Pending,
    /// Every step approved; for a registration the account is in the register.
    Approved,
    /// A step rejected it; the applicant may edit and resubmit (the chain restarts).
    Rejected,
    /// The applicant withdrew it before the final decision.
    Withdrawn,
    /// A step refused it for good (a flow with `refusable`, e.g. 不得发布): it may not come
    /// back.
    Refused,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Pending => "pending",
            CaseStatus::Approved => "approved",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Withdrawn => "withdrawn",
            CaseStatus::Refused => "refused",
        }
    }

    /// No further decision can change it (a rejected case can still be resubmitted).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseStatus::Approved | CaseStatus::Withdrawn | CaseStatus::Refused
        )
    }
}

/// One decision on a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub by_name: String,
    pub approve: bool,
    /// Why it was rejected (asked in chat after 驳回).
    pub reason: Option<String>,
    pub at_ms: i64,
}

/// One step of the approval chain, with whom it is assigned to and what they decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalStep {
    /// Shown to people, e.g. 单位主要负责人审批.
    pub label: String,
    /// `unit_leader`, `propaganda`, or `users`.
    pub role: String,
    pub mode: SignMode,
    pub assignees: Vec<String>,
    /// The task ids of the cards sent for this step (a fresh card gets a fresh id: WeCom never
    /// accepts an id twice); each unique and unguessable. A tap on any of them is recognised.
    pub task_ids: Vec<String>,
    /// When the step was opened (its cards sent); `None` while an earlier step is open.
    pub opened_at_ms: Option<i64>,
    pub deadline_ms: Option<i64>,
    pub decisions: Vec<Decision>,
    /// The last 催办 for this step (at most one per working day).
    pub last_urged_ms: Option<i64>,
    /// The flow's process left this step out of this round (e.g. a leader's review already
    /// done before filing): it never opens.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// A filed form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub number: String,
    pub flow: String,
    /// The bot-scripts version the form was filled with (editing scripts never breaks a case).
    pub scripts_version: String,
    pub applicant: String,
    pub applicant_name: String,
    pub unit: String,
    pub unit_name: String,
    pub answers: Answers,
    /// The summary the applicant confirmed.
    pub summary: String,
    pub status: CaseStatus,
    pub submitted_at_ms: i64,
    /// The chain of the current round; empty for flows without approval.
    #[serde(default)]
    pub chain: Vec<ApprovalStep>,
    #[serde(default)]
    pub current_step: usize,
    /// 1 for the first submission, +1 per resubmission after a rejection.
    #[serde(default = "first_round")]
    pub round: u32,
    /// Set on final approval of a registration: the account's number in the register.
    #[serde(default)]
    pub register_number: Option<String>,
    #[serde(default)]
    pub decided_at_ms: Option<i64>,
    /// For flows with a reporting deadline: the last day (company time zone, `YYYY-MM-DD`)
    /// and whether the filing came after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
    /// What the applicant changed before the latest resubmission (`label：old → new`), shown
    /// to the approvers on the new cards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_changes: Vec<String>,
    /// What the approvers should see on the card besides its fields, set by the flow's process
    /// when the case is filed (a change report: old → new, on time or late).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub card_notes: Vec<String>,
    /// For a register entry: where the account stands as stored (in use unless a process
    /// moved it; see [`account_status`]).
    #[serde(default, skip_serializing_if = "AccountStatus::is_in_use")]
    pub account_status: AccountStatus,
    /// The answers as they were when the last approver signed (set on final approval, never
    /// changed after): the printed form of the filing shows these, whatever the register entry
    /// holds after later change reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_answers: Option<Answers>,
}

fn first_round() -> u32 {
    1
}

/// What happened to a case, one line of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryKind {
    Submitted,
    Approved {
        step: String,
    },
    Rejected {
        step: String,
        reason: Option<String>,
    },
    /// Refused for good (a `refusable` flow): the case may not come back.
    Refused {
        step: String,
        reason: Option<String>,
    },
    /// The applicant edited these fields (label: old → new) before resubmitting.
    Edited {
        changes: Vec<String>,
    },
    Resubmitted {
        round: u32,
    },
    Withdrawn,
    Urged {
        step: String,
    },
    Registered {
        register_number: String,
    },
    /// A confirmed change report replaced these values of a registered account.
    Changed {
        report: String,
        changes: Vec<String>,
    },
    /// The account's status moved (a closure requested, confirmed or ordered), because of
    /// case or order `source`.
    StatusChanged {
        status: AccountStatus,
        source: String,
    },
}

/// One line of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at_ms: i64,
    pub by: String,
    #[serde(flatten)]
    pub kind: HistoryKind,
}

/// The prefix of register numbers (`DJ-2026-0001`): 登记.
pub const REGISTER_PREFIX: &str = "DJ";

/// Every case, in filing order.
pub const ALL_CASES: &str = "all";
/// Every registered account (approved registrations), in registration order.
pub const REGISTER: &str = "register";

/// The cases an applicant filed.
pub fn applicant_index(userid: &str) -> String {
    format!("applicant:{userid}")
}

/// The cases filed for a unit.
pub fn unit_index(unit: &str) -> String {
    format!("unit:{unit}")
}

/// The registered accounts of a unit.
pub fn unit_register_index(unit: &str) -> String {
    format!("register:{unit}")
}

/// The registration case holding register number `register_number`.
pub fn register_number_index(register_number: &str) -> String {
    format!("regno:{register_number}")
}

/// The cases waiting for `userid`'s decision.
pub fn pending_index(userid: &str) -> String {
    format!("pending:{userid}")
}

impl Case {
    /// The case as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a case serializes")
    }

    pub fn from_json(text: &str) -> serde_json::Result<Case> {
        serde_json::from_str(text)
    }
}

/// A history line as stored.
pub fn history(at_ms: i64, by: &str, kind: HistoryKind) -> String {
    serde_json::to_string(&HistoryEntry {
        at_ms,
        by: by.to_owned(),
        kind,
    })
    .expect("an entry serializes")
}
