//! A duty the bot chases: what is owed (a change report for an account), by whom, by when, and
//! the timer jobs of its ladder. Stored like a case (number `RW-YYYY-NNNN`); closed when the
//! report is confirmed, after which its timers are cancelled and its digest entries skipped.

use serde::{Deserialize, Serialize};

use crate::store::Timer;
use crate::wecom::message::{Inbound, InboundKind};

/// The prefix of duty numbers: 任务.
pub const DUTY_PREFIX: &str = "RW";

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
}

/// What a fired timer asks for. Stored with every pending timer, so its JSON is kept short
/// (one-letter names): a million pending timers fit in about 300 bytes each on Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum TimerJob {
    /// A direct-message rung of a duty's ladder (its `occurrence`-th firing, for repeats).
    #[serde(rename = "r")]
    Rung {
        #[serde(rename = "c")]
        duty: String,
        #[serde(rename = "r")]
        rung: usize,
        #[serde(rename = "o")]
        occurrence: u32,
    },
    /// The digest of every duty due in `group` at `slot_ms`.
    #[serde(rename = "g")]
    Digest {
        #[serde(rename = "g")]
        group: String,
        #[serde(rename = "s")]
        slot_ms: i64,
    },
    /// An approval step past its deadline: a fresh card to whoever has not decided.
    #[serde(rename = "a")]
    ApprovalDue {
        #[serde(rename = "c")]
        case: String,
        #[serde(rename = "n")]
        round: u32,
        #[serde(rename = "p")]
        step: usize,
        #[serde(rename = "o")]
        occurrence: u32,
    },
}

/// A timer's payload as stored: its job and due time. The worker turns it back into an
/// [`Inbound`] timer event of the timer's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerPayload {
    #[serde(rename = "j")]
    pub job: TimerJob,
    #[serde(rename = "d")]
    pub due_ms: i64,
}

impl TimerPayload {
    /// The pipeline event of a fired timer.
    pub fn into_inbound(self, conversation: &str) -> Inbound {
        Inbound {
            to_user: String::new(),
            from_user: conversation.to_owned(),
            create_time: self.due_ms / 1000,
            agent_id: None,
            kind: InboundKind::Timer {
                id: String::new(),
                job: serde_json::to_string(&self.job).expect("a job serializes"),
                due_ms: self.due_ms,
            },
        }
    }
}

/// The timer for `job`, due at `due_ms`: it fires as an event of the conversation of what it
/// chases (the duty, the group's digest, the case), so those are handled one at a time.
pub fn timer(id: String, due_ms: i64, job: &TimerJob) -> Timer {
    let conversation = match job {
        TimerJob::Rung { duty, .. } => format!("duty:{duty}"),
        TimerJob::Digest { group, .. } => format!("digest:{group}"),
        TimerJob::ApprovalDue { case, .. } => format!("case:{case}"),
    };
    let payload = TimerPayload {
        job: job.clone(),
        due_ms,
    };
    Timer {
        id,
        due_ms,
        conversation,
        payload: serde_json::to_string(&payload).expect("a timer payload serializes"),
    }
}

/// The open duty of an account, found when its change report is confirmed.
pub fn open_index(account: &str) -> String {
    format!("duty-open:{account}")
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
