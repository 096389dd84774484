//! `bot.toml` `[work_circle]` (the app group chat of every administrator of an account in use)
//! and `[reposts]` (repost tasks across the account matrix, policy 3.3.5): their raw model and
//! their check into [`WorkCircleDef`] and [`RepostsDef`]. Both tables are optional; without
//! them the work circle and `转发任务` are off.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use super::{GroupDef, tpl};
use crate::base::diagnostics::Source;

/// `[work_circle]`: the app group chat the bot creates (`appchat/create` with this chat id)
/// and keeps to the administrators of accounts in use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkCircle {
    /// The chat id the bot gives the chat (letters and digits, at most 32).
    pub chat_id: Spanned<String>,
    /// The chat's name as WeCom shows it.
    pub name: Spanned<String>,
    /// The chat's owner (a userid, e.g. of the propaganda department); always a member.
    pub owner: Spanned<String>,
}

/// `[reposts]`: when stragglers are reminded, where the department's list goes, the words.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReposts {
    /// Stragglers are reminded this many hours before the deadline.
    pub remind_before_hours: Spanned<u32>,
    /// The department's group (in `[groups]`) that gets the list of stragglers at the deadline.
    #[serde(default)]
    pub department_group: Option<Spanned<String>>,
    /// Everything the bot says about repost tasks (see [`REPOSTS_MESSAGES`]).
    pub messages: Spanned<BTreeMap<String, Spanned<String>>>,
}

/// The compiled `[work_circle]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCircleDef {
    pub chat_id: String,
    pub name: String,
    pub owner: String,
}

/// The compiled `[reposts]`; its words are the templates [`tpl::reposts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepostsDef {
    pub remind_before_hours: u32,
    pub department_group: Option<String>,
}

/// Every message `[reposts.messages]` must define (and nothing else).
pub const REPOSTS_MESSAGES: &[&str] = &[
    "refused",
    "usage",
    "unknown_scope",
    "no_targets",
    "created",
    "announcement",
    "card_title",
    "card_description",
    "card_row_task",
    "card_row_account",
    "card_row_deadline",
    "button_done",
    "button_unable",
    "card_done",
    "card_unable",
    "done_recorded",
    "ask_reason",
    "reason_cancelled",
    "unable_recorded",
    "link_recorded",
    "not_target",
    "already_answered",
    "reminder",
    "digest_header",
    "digest_unit",
    "digest_item",
    "department_header",
    "all_done",
    "progress",
    "unknown_task",
    "export_started",
    "sheet",
    "column_task",
    "column_account",
    "column_unit",
    "column_platform",
    "column_admin",
    "column_status",
    "column_link",
    "column_reason",
    "column_answered_at",
    "status_pending",
    "status_done",
    "status_unable",
];

impl Compiler {
    /// `[work_circle]`: a chat id WeCom takes (1–32 letters or digits) and a non-empty name
    /// and owner.
    pub(super) fn work_circle(&mut self, src: &Source, raw: &RawWorkCircle) -> WorkCircleDef {
        let chat_id = raw.chat_id.get_ref().trim();
        let valid = !chat_id.is_empty()
            && chat_id.len() <= 32
            && chat_id.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            let msg = "[work_circle] chat_id must be 1 to 32 letters or digits";
            self.d.error(src.at(raw.chat_id.span(), msg));
        }
        for (key, value) in [("name", &raw.name), ("owner", &raw.owner)] {
            if value.get_ref().trim().is_empty() {
                let msg = format!("[work_circle] {key} must not be empty");
                self.d.error(src.at(value.span(), msg));
            }
        }
        WorkCircleDef {
            chat_id: chat_id.to_owned(),
            name: raw.name.get_ref().trim().to_owned(),
            owner: raw.owner.get_ref().trim().to_owned(),
        }
    }

    /// `[reposts]`: its messages, and a department group that is in `[groups]`.
    pub(super) fn reposts(
        &mut self,
        src: &Source,
        raw: &RawReposts,
        groups: &BTreeMap<String, GroupDef>,
    ) -> RepostsDef {
        self.message_table(
            src,
            &raw.messages,
            ("reposts", REPOSTS_MESSAGES),
            tpl::reposts,
        );
        if let Some(group) = &raw.department_group
            && !groups.contains_key(group.get_ref())
        {
            let msg = format!(
                "[reposts] department_group `{}` is not in [groups]",
                group.get_ref()
            );
            self.d.error(src.at(group.span(), msg));
        }
        RepostsDef {
            remind_before_hours: *raw.remind_before_hours.get_ref(),
            department_group: raw.department_group.as_ref().map(|g| g.get_ref().clone()),
        }
    }
}
