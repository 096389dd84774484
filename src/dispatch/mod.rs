//! One event in, one [`Commit`] out. The dispatcher does the I/O of a step around the pure
//! parts: it loads the conversation and the cases an event touches, resolves people in the
//! directory, runs the form [`engine`](crate::domain::engine) or the [`approval`](crate::domain::approval)
//! chain, and turns their results into the next state, case writes (each with the version it
//! read, so two approvers racing on one case give one decision) and outbound messages. Nothing is
//! written here: the worker commits the result atomically with the event.

mod approvals;
mod case_writes;
mod commands;
mod context;
mod duties;
mod forms;
mod numbers;
mod timers;

pub use case_writes::CaseWrites;
pub use context::engine_context;
pub use forms::engine_input;

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::directory::{Directory, DirectoryError};
use crate::domain::engine::ConversationState;
use crate::domain::records::{Case, HistoryEntry};
use crate::domain::reply::Reply;
use crate::event::Event;
use crate::scripts::Scripts;
use crate::store::{CaseWrite, Commit, OutboxItem, StateWrite, Store, StoreError};
use crate::wecom::message::InboundKind;
use crate::wecom::render::{self, GroupRoute};

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("the engine asked for a number twice")]
    NumberLoop,
    #[error("case {0} is unreadable: {1}")]
    CorruptCase(String, String),
}

/// A user's conversation as stored: the form engine's state plus what the approval workflow
/// is waiting for from this user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Conversation {
    #[serde(flatten)]
    form: ConversationState,
    /// An approver tapped 驳回 (or typed `驳回 <编号>`): their next text is the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    awaiting_reason: Option<PendingReject>,
    /// The applicant is editing this rejected case; confirming resubmits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    editing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingReject {
    case: String,
    /// The tapped card's task id and response code, to grey the card out once decided.
    task_id: Option<String>,
    response_code: Option<String>,
}

/// A case as loaded, with the version its write must expect and its history.
struct LoadedCase {
    case: Case,
    version: u64,
    history: Vec<HistoryEntry>,
}

/// Turns events into commits.
#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<dyn Store>,
    scripts: Arc<Scripts>,
    directory: Arc<dyn Directory>,
    /// The company clock: local dates and times in the company's zone.
    clock: Clock,
    /// The groups whose robot has a webhook key (the keys stay with the API client).
    robots: Arc<HashSet<String>>,
}

/// What handling one event changes, built up by the handlers.
struct Draft {
    user: String,
    commit: Commit,
    /// What the bot says; rendered into outbox items when the draft is finished.
    replies: Vec<Reply>,
    conversation: Conversation,
    version: u64,
}

impl Draft {
    fn send(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    /// A text to the user of this conversation.
    fn reply(&mut self, content: String) {
        let to = self.user.clone();
        self.say(&to, content);
    }

    fn say(&mut self, to: &str, content: String) {
        if !content.is_empty() {
            self.send(Reply::text(to, content));
        }
    }

    fn write_case(&mut self, write: CaseWrite) {
        self.commit.cases.push(write);
    }
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        scripts: Arc<Scripts>,
        directory: Arc<dyn Directory>,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            scripts,
            directory,
            clock,
            robots: Arc::default(),
        }
    }

    /// The groups of bot.toml `[groups]` whose robot has a webhook key.
    pub fn with_robots(mut self, robots: HashSet<String>) -> Self {
        self.robots = Arc::new(robots);
        self
    }

    /// What handling `inbound` changes. The caller commits it atomically with the event's
    /// completion, and re-runs this on a version conflict.
    pub async fn handle(
        &self,
        conversation: &str,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        let user = conversation.to_owned();
        let (version, conversation) = self.load_conversation(&user).await?;
        let mut draft = Draft {
            user,
            commit: Commit::default(),
            replies: Vec::new(),
            conversation,
            version,
        };
        let before = draft.conversation.clone();
        let inbound = match event {
            Event::WeCom(inbound) => inbound,
            Event::Timer(fired) => {
                self.timer(&mut draft, &fired.job, fired.due_ms, now_ms)
                    .await?;
                return Ok(self.finish(draft, before));
            }
        };
        match &inbound.kind {
            InboundKind::TemplateCardEvent(tap) => self.card_tap(&mut draft, tap, now_ms).await?,
            InboundKind::ChangeContact(change) => {
                self.contact_change(&mut draft, change, now_ms).await?
            }
            InboundKind::Text { content, .. } if draft.conversation.awaiting_reason.is_some() => {
                self.reason(&mut draft, content, now_ms).await?
            }
            InboundKind::Text { content, .. } if draft.conversation.form.is_idle() => {
                if !self.command(&mut draft, content, now_ms).await? {
                    self.form_step(&mut draft, inbound, now_ms).await?;
                }
            }
            InboundKind::Text { .. } | InboundKind::MenuClick { .. } => {
                self.form_step(&mut draft, inbound, now_ms).await?
            }
            _ => tracing::debug!("event not handled by the dispatcher"),
        }
        Ok(self.finish(draft, before))
    }

    /// The commit of a handled event, with the conversation's next state if it changed.
    fn finish(&self, mut draft: Draft, before: Conversation) -> Commit {
        for reply in std::mem::take(&mut draft.replies) {
            if let Some(message) = render::outbound(reply, |group| self.group_route(group)) {
                draft.commit.outbox.push(OutboxItem {
                    channel: message.channel(),
                    payload: serde_json::to_string(&message).expect("outbound serializes"),
                });
            }
        }
        if draft.conversation != before {
            let state = (draft.conversation != Conversation::default())
                .then(|| serde_json::to_string(&draft.conversation).expect("state serializes"));
            draft.commit.state = Some(StateWrite {
                expected_version: draft.version,
                state,
            });
        }
        draft.commit
    }

    async fn load_conversation(&self, user: &str) -> Result<(u64, Conversation), DispatchError> {
        let Some(stored) = self.store.load_conversation(user).await? else {
            return Ok((0, Conversation::default()));
        };
        let conversation = serde_json::from_str(&stored.state).unwrap_or_else(|e| {
            tracing::error!(conversation = %user, error = %e, "unreadable conversation state, starting over");
            Conversation::default()
        });
        Ok((stored.version, conversation))
    }

    /// A case with its version and history; `None` when there is no such case.
    async fn load_case(&self, number: &str) -> Result<Option<LoadedCase>, DispatchError> {
        let Some(record) = self.store.get_case(number).await? else {
            return Ok(None);
        };
        if record.body.is_empty() {
            return Ok(None);
        }
        let case = Case::from_json(&record.body)
            .map_err(|e| DispatchError::CorruptCase(number.to_owned(), e.to_string()))?;
        let history = record
            .history
            .iter()
            .filter_map(|h| serde_json::from_str(h).ok())
            .collect();
        Ok(Some(LoadedCase {
            case,
            version: record.version,
            history,
        }))
    }

    /// How a group of bot.toml `[groups]` is reached: its app group chat, else its robot.
    fn group_route(&self, group: &str) -> Option<GroupRoute> {
        if let Some(chat_id) = self
            .scripts
            .groups
            .get(group)
            .and_then(|g| g.appchat.clone())
        {
            return Some(GroupRoute::AppChat(chat_id));
        }
        let route = self
            .robots
            .contains(group)
            .then(|| GroupRoute::Robot(group.to_owned()));
        if route.is_none() {
            tracing::warn!(%group, "no webhook key for this group robot (set FLOWBOT_ROBOT_<NAME>); message not sent");
        }
        route
    }

    /// A person's display name (their userid when the directory does not know them).
    async fn name_of(&self, userid: &str) -> Result<String, DispatchError> {
        Ok(self
            .directory
            .person(userid)
            .await?
            .map_or_else(|| userid.to_owned(), |p| p.name))
    }

    /// `2026-11-28 14:05` in the company's time zone.
    fn local_time(&self, ms: i64) -> String {
        self.clock.local(ms).format("%Y-%m-%d %H:%M").to_string()
    }
}
