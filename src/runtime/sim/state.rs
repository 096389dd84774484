//! The simulator's memory: each member's chat with the app, the group chats (app chats and
//! robots), the access tokens handed out and the template cards' task ids and response codes.
//! Kept in memory only: a restart starts with empty chats.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

/// Who a line in a chat is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum From {
    /// The app (the bot), through the API.
    Bot,
    /// The console user, sent as a callback.
    Me,
    /// A note about something the user did (a menu click, a button tap).
    Note,
}

/// One line of a chat.
#[derive(Debug, Clone, Serialize)]
pub struct Msg {
    pub id: u64,
    pub at_ms: i64,
    pub from: From,
    /// `text`, `markdown`, `template_card`, `file` (the file's name) or `note`.
    pub msgtype: String,
    pub content: String,
    /// The template card, as sent (or as replaced by `update_template_card`).
    pub card: Option<Value>,
    /// The card's finished state: its buttons are grey and show this text.
    pub replaced: Option<String>,
    /// Userids @-mentioned (group chats).
    pub mentions: Vec<String>,
}

impl Msg {
    pub fn task_id(&self) -> Option<&str> {
        self.card.as_ref()?.get("task_id")?.as_str()
    }
}

/// A group chat: an app chat (`appchat/send`) or a group robot (`webhook/send`).
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub id: String,
    pub name: String,
    pub messages: Vec<Msg>,
}

#[derive(Debug, Default)]
pub struct World {
    next_id: u64,
    /// Userid (lower case) → the member's chat with the app.
    pub inboxes: BTreeMap<String, Vec<Msg>>,
    pub chats: BTreeMap<String, Chat>,
    /// Access tokens handed out (all stay valid: the bot's own expiry decides when it refreshes).
    pub tokens: HashSet<String>,
    /// Task ids of interactive cards sent so far (unique for the app's whole life).
    pub task_ids: HashSet<String>,
    /// Unused response codes → the task id of their card (single use).
    pub response_codes: HashMap<String, String>,
    /// Uploaded files (`media/upload`): media id → file name and size in bytes.
    pub media: HashMap<String, (String, usize)>,
    /// Images and files members sent from the console (`media/get` serves them): media id →
    /// file name and bytes.
    pub sent_media: HashMap<String, (String, Vec<u8>)>,
    /// Sign-in codes handed to the desk's browser (single use): code → userid.
    pub sign_in_codes: HashMap<String, String>,
    sequence: u64,
}

impl World {
    /// A new line for a chat, numbered in arrival order across all chats.
    pub fn line(&mut self, from: From, msgtype: &str, content: String, at_ms: i64) -> Msg {
        self.next_id += 1;
        Msg {
            id: self.next_id,
            at_ms,
            from,
            msgtype: msgtype.to_owned(),
            content,
            card: None,
            replaced: None,
            mentions: Vec::new(),
        }
    }

    /// A fresh opaque identifier (`prefix` + sequence + randomness).
    pub fn opaque(&mut self, prefix: &str) -> String {
        self.sequence += 1;
        format!("{prefix}{}{:08x}", self.sequence, rand::random::<u32>())
    }

    /// A 64-bit MsgId like WeCom's, unique within this run.
    pub fn msg_id(&mut self, now_ms: i64) -> u64 {
        self.sequence += 1;
        (now_ms.max(0) as u64) * 1000 + self.sequence % 1000
    }

    pub fn push_inbox(&mut self, userid: &str, msg: Msg) {
        self.inboxes
            .entry(userid.to_ascii_lowercase())
            .or_default()
            .push(msg);
    }

    pub fn inbox(&self, userid: &str) -> &[Msg] {
        self.inboxes
            .get(&userid.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    pub fn push_chat(&mut self, id: &str, name: &str, msg: Msg) {
        self.chats
            .entry(id.to_owned())
            .or_insert_with(|| Chat {
                id: id.to_owned(),
                name: name.to_owned(),
                messages: Vec::new(),
            })
            .messages
            .push(msg);
    }

    /// A new single-use response code for the card with `task_id`.
    pub fn response_code(&mut self, task_id: &str) -> String {
        let code = self.opaque("sim-rc-");
        self.response_codes.insert(code.clone(), task_id.to_owned());
        code
    }

    /// The cards with `task_id` in the inboxes of `userids` (everyone's when `None`).
    pub fn cards_mut<'a>(
        &'a mut self,
        task_id: &'a str,
        userids: Option<&'a [String]>,
    ) -> impl Iterator<Item = &'a mut Msg> + 'a {
        self.inboxes
            .iter_mut()
            .filter(move |(user, _)| {
                userids.is_none_or(|list| list.iter().any(|u| u.eq_ignore_ascii_case(user)))
            })
            .flat_map(|(_, msgs)| msgs.iter_mut())
            .filter(move |m| m.task_id() == Some(task_id))
    }
}

/// Userids written as `<@userid>` in a text.
pub fn mentions_in(content: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('>') else { break };
        let user = &rest[..end];
        if !user.is_empty() && !user.contains(char::is_whitespace) {
            found.push(user.to_owned());
        }
        rest = &rest[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_in_content() {
        assert_eq!(
            mentions_in("请 <@zhangsan> 和<@lisi>处理，<@ bad>"),
            ["zhangsan", "lisi"]
        );
        assert!(mentions_in("no mentions <@").is_empty());
    }
}
