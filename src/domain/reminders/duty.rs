//! A duty the bot chases: what is owed (a change report for an account), by whom, by when, and
//! the ids of its ladder's timers. Stored like a case (number `RW-YYYY-NNNN`); closed when the
//! report is confirmed, after which its timers are cancelled and its digest entries skipped.

use serde::{Deserialize, Serialize};

/// The prefix of duty numbers: 任务.
pub const DUTY_PREFIX: &str = "RW";
/// The index of every duty, in opening order.
pub const ALL_DUTIES: &str = "duties";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    pub number: String,
    /// The duty kind in bot.toml `[duties.<kind>]`.
    pub kind: String,
    pub unit: String,
    pub unit_name: String,
    /// The registered account it concerns (register number) and its name.
    pub account: String,
    pub account_name: String,
    /// Who left or moved, their role on the account (`admin`/`leader`) and what happened
    /// (`left`/`moved`).
    pub person: String,
    pub role: String,
    pub event: String,
    /// The people the duty is due from (the unit's leaders).
    pub due: Vec<String>,
    /// `YYYY-MM-DD`, company time zone.
    pub deadline: String,
    pub opened_at_ms: i64,
    pub done: bool,
    /// The ids of its direct-message timers still pending, cancelled when it is done.
    #[serde(default)]
    pub timers: Vec<String>,
    /// Who ordered it, for a duty the propaganda department opened (a closure order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_by: Option<String>,
    /// The link the person due gave as evidence when it was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// A campaign's task (the annual review): its report and the department's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<crate::domain::annual::TaskResult>,
}

/// The open duty of an account, found when its change report is confirmed.
pub fn open_index(account: &str) -> String {
    format!("duty-open:{account}")
}

/// The open closure order of an account (the department's 责令注销).
pub fn order_index(account: &str) -> String {
    format!("order-open:{account}")
}

/// The duties in a group's digest at one moment.
pub fn digest_index(group: &str, slot_ms: i64) -> String {
    format!("digest:{group}:{slot_ms}")
}

pub fn rung_timer_id(duty: &str, rung: usize, occurrence: u32) -> String {
    format!("duty-{duty}-{rung}-{occurrence}")
}

/// One timer per group and moment, however many duties it carries.
pub fn digest_timer_id(group: &str, slot_ms: i64) -> String {
    format!("digest-{group}-{slot_ms}")
}

pub fn approval_timer_id(case: &str, round: u32, step: usize, occurrence: u32) -> String {
    format!("approval-{case}-r{round}-s{step}-{occurrence}")
}
