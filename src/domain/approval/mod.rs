//! Approvals (policy 3.1.1): the chain a filed case goes through, decided with one tap on an
//! interactive card or with a text command, exactly once, only by the step's assignees.
//! Pure: the dispatcher loads the case and resolves people, this module decides.

pub mod card;
pub mod chain;
pub mod commands;
pub mod texts;
pub mod views;

pub use texts::Texts;

/// Every message `[approvals]` in bot.toml must define (and nothing else).
pub const MESSAGES: &[&str] = &[
    "card_title",
    "card_description",
    "card_resubmitted",
    "button_approve",
    "button_reject",
    "card_row_number",
    "card_row_applicant",
    "card_row_unit",
    "card_approved",
    "card_rejected",
    "ask_reason",
    "reason_cancelled",
    "decision_recorded",
    "not_assignee",
    "already_decided",
    "case_closed",
    "card_expired",
    "unknown_case",
    "flow_retired",
    "no_permission",
    "usage",
    "step_passed",
    "rejected_to_applicant",
    "approved_to_applicant",
    "confirmed_to_applicant",
    "registered_to_leader",
    "decided_elsewhere",
    "decision_approve",
    "decision_reject",
    "withdrawn",
    "withdrawn_to_approver",
    "cannot_withdraw",
    "urged",
    "urge_limit",
    "urge_to_approver",
    "edit_started",
    "cannot_edit",
    "resubmitted",
    "status_pending",
    "status_approved",
    "status_rejected",
    "status_withdrawn",
    "mine",
    "todo",
    "status",
    "history_submitted",
    "history_approved",
    "history_rejected",
    "history_edited",
    "history_resubmitted",
    "history_withdrawn",
    "history_urged",
    "history_registered",
    "history_changed",
];
