//! What handling one event changes, built up by the processes: the conversation's next state,
//! case writes, timers and what the bot says. Nothing here is written until the worker commits
//! the draft atomically with the event.

use serde::{Deserialize, Serialize};

use crate::adapters::store::{CaseWrite, Commit};
use crate::dispatch::event::{self, TimerJob};
use crate::domain::engine::ConversationState;
use crate::domain::incidents::ReportForm;
use crate::domain::reply::{DeskPage, Reply};

/// A user's conversation as stored: the form engine's state plus what the approval workflow
/// is waiting for from this user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(flatten)]
    pub form: ConversationState,
    /// An approver tapped 驳回 or 不得发布 (or typed `驳回 <编号>`): their next text is the
    /// reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_reason: Option<PendingReject>,
    /// The applicant is editing this rejected case; confirming resubmits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editing: Option<String>,
    /// An administrator tapped a repost task's card: their next text is its reason or link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_repost: Option<crate::domain::reposts::PendingRepost>,
    /// The `台账` page shown last, while more follow: `下一页` shows the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_page: Option<usize>,
    /// `年审 开始 <年份>` was asked: the next text confirms opening that year's campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual_open: Option<i32>,
    /// An annual report was started and an earlier report offered to reuse (its number): the
    /// next text answers 是/否.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual_reuse: Option<String>,
    /// An incident report being filled or supplemented, or screenshots and links held for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<ReportForm>,
}

/// A rejection (or a refusal for good) waiting for its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReject {
    pub case: String,
    /// The tapped card's task id and response code, to grey the card out once decided.
    pub task_id: Option<String>,
    pub response_code: Option<String>,
    /// 不得发布 (refused for good) rather than 驳回.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuse: bool,
}

/// The changes of one event.
pub struct Draft {
    /// The conversation (a userid, or `duty:…`, `case:…`, `digest:…` for timers).
    pub user: String,
    pub commit: Commit,
    /// What the bot says; rendered into outbox items when the draft is finished.
    pub replies: Vec<Reply>,
    pub conversation: Conversation,
    /// The version of the stored conversation this draft was built on.
    pub version: u64,
}

impl Draft {
    pub fn new(user: String, conversation: Conversation, version: u64) -> Draft {
        Draft {
            user,
            commit: Commit::default(),
            replies: Vec::new(),
            conversation,
            version,
        }
    }

    pub fn send(&mut self, reply: Reply) {
        self.replies.push(reply);
    }

    /// A text to the user of this conversation.
    pub fn reply(&mut self, content: String) {
        let to = self.user.clone();
        self.say(&to, content);
    }

    /// A text to the user of this conversation about a desk page (linked when it is served).
    pub fn reply_about(&mut self, content: String, page: DeskPage) {
        if !content.is_empty() {
            let to = self.user.clone();
            self.send(Reply::text_about(&to, content, page));
        }
    }

    /// A text to `to` (nothing when the text is empty).
    pub fn say(&mut self, to: &str, content: String) {
        if !content.is_empty() {
            self.send(Reply::text(to, content));
        }
    }

    pub fn write_case(&mut self, write: CaseWrite) {
        self.commit.cases.push(write);
    }

    /// A durable timer, scheduled with the commit: it fires as an event of its own conversation.
    pub fn schedule(&mut self, id: String, due_ms: i64, job: &TimerJob) {
        self.commit.timers.push(event::timer(id, due_ms, job));
    }
}
