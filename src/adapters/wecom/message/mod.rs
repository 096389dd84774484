//! Inbound WeCom XML (pure, no I/O): the encrypted envelope and the decrypted messages and events,
//! parsed with quick-xml into typed values. Anything unrecognised becomes `Unknown`, never an error.
//!
//! Elements are looked up by name (any order, CDATA or plain text, whitespace between them).
//! `MsgType`, `Event` and `ChangeType` compare case-insensitively. A DOCTYPE is refused and only
//! the five predefined XML entities are resolved (see the `xml` submodule).

mod parse;
mod xml;

use serde::{Deserialize, Serialize};

pub use crate::domain::evidence::{Fetched, MediaKind};

pub use parse::{parse, parse_envelope};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("missing element {0}")]
    Missing(&'static str),
}

/// The POST body: `<xml><ToUserName/><AgentID/><Encrypt/></xml>` (any order, CDATA or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub to_user: Option<String>,
    pub agent_id: Option<String>,
    pub encrypt: String,
}

/// A decrypted message or event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbound {
    /// The corp id.
    pub to_user: String,
    /// The member's userid, or `sys` for system events.
    pub from_user: String,
    pub create_time: i64,
    pub agent_id: Option<String>,
    pub kind: InboundKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundKind {
    Text {
        msg_id: String,
        content: String,
    },
    /// An image or file message; the worker fills `fetched` once it has kept the file.
    Media(MediaMessage),
    MenuClick {
        key: String,
    },
    MenuView {
        url: String,
    },
    EnterAgent,
    TemplateCardEvent(CardEvent),
    ChangeContact(ContactChange),
    Unknown {
        msg_type: String,
        event: Option<String>,
        msg_id: Option<String>,
        event_key: Option<String>,
    },
}

/// An image (`MsgType` image: `PicUrl`, `MediaId`) or file (`MediaId`, `FileName` when given)
/// message. `fetched` is empty as received; the worker downloads the media and keeps it as
/// evidence before the event is dispatched, and says here what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaMessage {
    pub msg_id: String,
    pub media_id: String,
    pub kind: MediaKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<Fetched>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardEvent {
    pub event_key: String,
    pub task_id: String,
    pub card_type: String,
    pub response_code: String,
    pub selected_items: Vec<SelectedItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectedItem {
    pub question_key: String,
    pub option_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change_type", rename_all = "snake_case")]
pub enum ContactChange {
    CreateUser(UserFields),
    UpdateUser(UserFields),
    DeleteUser {
        user_id: String,
    },
    /// Party and tag changes and anything newer: kept by name only.
    Other {
        change: String,
    },
}

impl ContactChange {
    /// The `ChangeType` this change came with, e.g. `create_user`.
    pub fn change_type(&self) -> &str {
        match self {
            ContactChange::CreateUser(_) => "create_user",
            ContactChange::UpdateUser(_) => "update_user",
            ContactChange::DeleteUser { .. } => "delete_user",
            ContactChange::Other { change } => change,
        }
    }
}

/// Member fields of `change_contact`; everything but `user_id` may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFields {
    pub user_id: String,
    pub new_user_id: Option<String>,
    pub name: Option<String>,
    pub departments: Vec<u64>,
    pub main_department: Option<u64>,
    pub is_leader_in_dept: Vec<bool>,
    pub direct_leaders: Vec<String>,
    pub position: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub status: Option<u8>,
}

impl Inbound {
    /// The deduplication key: `msg:<AgentID>:<MsgId>` for messages,
    /// `evt:<AgentID>:<FromUserName>:<CreateTime>:<Event>:<EventKey>:<TaskId>:<ChangeType>` for events.
    ///
    /// `Unknown` kinds that carry a `MsgId` use the message form; absent parts are empty strings.
    pub fn dedupe_key(&self) -> String {
        let agent = self.agent_id.as_deref().unwrap_or("");
        let (event, event_key, task_id, change_type): (&str, &str, &str, &str) = match &self.kind {
            InboundKind::Text { msg_id, .. }
            | InboundKind::Media(MediaMessage { msg_id, .. })
            | InboundKind::Unknown {
                msg_id: Some(msg_id),
                ..
            } => return format!("msg:{agent}:{msg_id}"),
            InboundKind::MenuClick { key } => ("click", key, "", ""),
            InboundKind::MenuView { url } => ("view", url, "", ""),
            InboundKind::EnterAgent => ("enter_agent", "", "", ""),
            InboundKind::TemplateCardEvent(card) => {
                ("template_card_event", &card.event_key, &card.task_id, "")
            }
            InboundKind::ChangeContact(change) => ("change_contact", "", "", change.change_type()),
            InboundKind::Unknown {
                event, event_key, ..
            } => (
                event.as_deref().unwrap_or(""),
                event_key.as_deref().unwrap_or(""),
                "",
                "",
            ),
        };
        format!(
            "evt:{agent}:{}:{}:{event}:{event_key}:{task_id}:{change_type}",
            self.from_user, self.create_time
        )
    }

    /// The conversation this belongs to: the sender's userid (`sys` for contact changes).
    pub fn conversation(&self) -> &str {
        &self.from_user
    }
}
