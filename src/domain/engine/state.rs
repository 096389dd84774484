//! A conversation's state, stored as compact JSON between events: idle, or one form in
//! progress with its typed answers, the script version it started with and the time of the last
//! message (for the idle check). A full registration stays well under 4 KiB.

use minijinja::Value;
use serde::{Deserialize, Serialize};

use crate::domain::evidence::EvidenceRef;

/// The whole state of one user's conversation with the bot. `Default` is idle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<FormState>,
}

impl ConversationState {
    pub fn is_idle(&self) -> bool {
        self.form.is_none()
    }
}

/// A form being filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormState {
    pub flow: String,
    /// `Scripts::version` when the form started (or was last migrated).
    #[serde(rename = "ver")]
    pub version: String,
    pub phase: Phase,
    pub answers: Answers,
    /// Invalid answers in a row at the current prompt.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub strikes: u8,
    /// Waiting for continue/restart after an idle time or a command typed in the form.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
    /// A question the bot asked about the last reply, waiting for its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// Editing one item from the summary (`修改 <项目>` there): the answer, `返回` or `确认`
    /// go back to the summary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revising: bool,
    #[serde(rename = "at")]
    pub last_active_ms: i64,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// A question about the last reply, asked before anything is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// A command or another flow's keyword typed at a free-text question: `1` saves it as the
    /// answer, `2` runs the command (the form pauses) unless it would open a form of its own
    /// (`busy`: another flow's keyword, `修改 <编号>`), which waits until this one is done.
    Reserved { text: String, busy: bool },
    /// `取消` of a form with many answers: confirm before dropping them.
    Cancel,
    /// Colleagues sharing a name, listed by number (userids in the listed order).
    Members(Vec<String>),
}

/// Where the form stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Asking this field.
    Field(String),
    /// This choice field got its "other" option; asking for the free text.
    Other(String),
    /// Summary shown; waiting for confirm or edit.
    Confirm,
}

/// A typed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Answer {
    Text(String),
    Choice {
        value: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        other: Option<String>,
    },
    Multi(Vec<String>),
    Bool(bool),
    /// `YYYY-MM-DD`.
    Date(String),
    Int(i64),
    /// A colleague from the directory.
    Member {
        userid: String,
        name: String,
    },
    /// A unit or an account: id and display name.
    Ref {
        id: String,
        name: String,
    },
    Phone {
        area: String,
        number: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ext: Option<String>,
    },
    /// An image or file sent as the answer, kept as evidence.
    File(EvidenceRef),
    /// An optional field the user skipped.
    Skipped,
}

impl Answer {
    /// The answer as shown in summaries; `yes`/`no` are the scripted labels.
    pub fn display(&self, yes: &str, no: &str) -> String {
        match self {
            Answer::Text(s) | Answer::Date(s) => s.clone(),
            Answer::Choice { value, other: None } => value.clone(),
            Answer::Choice {
                value,
                other: Some(o),
            } => format!("{value}（{o}）"),
            Answer::Multi(v) => v.join("、"),
            Answer::Bool(b) => if *b { yes } else { no }.to_owned(),
            Answer::Int(n) => n.to_string(),
            Answer::Member { name, .. } | Answer::Ref { name, .. } => name.clone(),
            Answer::Phone { area, number, ext } => match ext {
                Some(e) => format!("{area}-{number}-{e}"),
                None => format!("{area}-{number}"),
            },
            Answer::File(f) => format!("📎 {}", f.name),
            Answer::Skipped => String::new(),
        }
    }

    /// The answer as a template/condition value: strings, booleans, numbers, lists.
    pub fn value(&self) -> Value {
        match self {
            Answer::Bool(b) => Value::from(*b),
            Answer::Int(n) => Value::from(*n),
            Answer::Multi(v) => Value::from(v.clone()),
            Answer::Choice { value, .. } => Value::from(value.as_str()),
            Answer::Skipped => Value::from(()),
            other => Value::from(other.display("", "")),
        }
    }
}

/// Answers by field id, in the order they were first given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub Vec<(String, Answer)>);

impl Answers {
    pub fn get(&self, id: &str) -> Option<&Answer> {
        self.0.iter().find(|(k, _)| k == id).map(|(_, a)| a)
    }

    pub fn set(&mut self, id: &str, answer: Answer) {
        match self.0.iter_mut().find(|(k, _)| k == id) {
            Some(slot) => slot.1 = answer,
            None => self.0.push((id.to_owned(), answer)),
        }
    }

    pub fn retain(&mut self, keep: impl Fn(&str, &Answer) -> bool) {
        self.0.retain(|(k, a)| keep(k, a));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Answer)> {
        self.0.iter().map(|(k, a)| (k.as_str(), a))
    }
}
