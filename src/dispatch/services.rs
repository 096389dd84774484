//! What every process may use while handling an event: the store (read only: writes go into
//! the [`Draft`]), the scripts, the directory, the company clock and the process table; and the
//! few reads and conversions they all need.

use crate::base::log_safe::log_safe;
use std::collections::HashSet;
use std::sync::Arc;

use super::{Conversation, DispatchError, Draft, Processes};
use crate::adapters::store::{CaseWrite, Store, VersionedState};
use crate::adapters::wecom::render::{DeskLinks, GroupRoute};
use crate::base::clock::Clock;
use crate::base::directory::Directory;
use crate::base::scripts::{FlowDef, Scripts, tpl};
use crate::dispatch::event::{self, TimerJob};
use crate::domain::approval::chain;
use crate::domain::engine::CommandInput;
use crate::domain::records::{self, Case, HistoryEntry};
use crate::domain::reply::Reply;

/// The group name of the work circle's chat in a [`Reply::Group`].
pub const WORK_CIRCLE: &str = "work_circle";

/// Shared by every handler of every event.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub scripts: Arc<Scripts>,
    pub directory: Arc<dyn Directory>,
    /// The company clock: local dates and times in the company's zone.
    pub clock: Clock,
    /// The groups of bot.toml `[groups]` whose robot has a webhook key (the keys stay with the
    /// API client).
    pub robots: Arc<HashSet<String>>,
    /// The processes, in routing order (flow hooks are looked up here).
    pub processes: Processes,
    /// Links from messages to the desk's pages, when the desk is served and linked.
    pub desk_links: Option<Arc<DeskLinks>>,
}

/// A case as loaded, with the version its write must expect and its history.
pub struct LoadedCase {
    pub case: Case,
    pub version: u64,
    pub history: Vec<HistoryEntry>,
}

impl Services {
    /// A command of kind `kind` typed at a free-text question of a form, to be asked about
    /// ("the answer, or the command?") when `[messages.commands]` phrases it; it runs aside,
    /// the form kept. `None` (the text is taken as the answer) when bot.toml has no phrase.
    pub fn command_in_form(&self, kind: &str) -> Option<CommandInput> {
        self.scripts.has(&tpl::command(kind)).then(|| CommandInput {
            kind: kind.to_owned(),
            opens_form: false,
        })
    }

    /// The conversation of `user` as stored (`state`, read with the event's claim) and its
    /// version (a fresh one at version 0).
    pub fn conversation(&self, user: &str, state: Option<VersionedState>) -> (u64, Conversation) {
        let Some(stored) = state else {
            return (0, Conversation::default());
        };
        let conversation = serde_json::from_str(&stored.state).unwrap_or_else(|e| {
            tracing::error!(conversation = %log_safe(user), error = %e, "unreadable conversation state, starting over");
            Conversation::default()
        });
        (stored.version, conversation)
    }

    /// A case with its version and history; `None` when there is no such case (an incident
    /// number, stored with a body of its own, is no case).
    pub async fn load_case(&self, number: &str) -> Result<Option<LoadedCase>, DispatchError> {
        let incidents = self.scripts.incidents.as_ref();
        if incidents.is_some_and(|c| number.starts_with(&format!("{}-", c.prefix))) {
            return Ok(None);
        }
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

    /// A record stored like a case whose body is `T` as JSON (a duty, a repost task), with its
    /// version; `None` when there is none or it does not decode.
    pub async fn load_body<T: serde::de::DeserializeOwned>(
        &self,
        number: &str,
    ) -> Result<Option<(T, u64)>, DispatchError> {
        let Some(record) = self.store.get_case(number).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&record.body)
            .ok()
            .map(|body| (body, record.version)))
    }

    /// The case a number names: a case number as it is, a register number (`DJ-…`) as the
    /// registration that holds it; `None` for a register number nobody holds.
    pub async fn case_number_of(&self, number: &str) -> Result<Option<String>, DispatchError> {
        if !number.starts_with(&format!("{}-", records::REGISTER_PREFIX)) {
            return Ok(Some(number.to_owned()));
        }
        let holders = self
            .store
            .cases_in(&records::register_number_index(number))
            .await?;
        Ok(holders.into_iter().last())
    }

    /// The register entry a case's `account` answer names: its register number and the
    /// registration case holding it, if it is on the register.
    pub async fn entry_of(
        &self,
        case: &Case,
    ) -> Result<Option<(String, LoadedCase)>, DispatchError> {
        let Some(crate::domain::engine::Answer::Ref {
            id: register_number,
            ..
        }) = case.answers.get("account")
        else {
            return Ok(None);
        };
        let Some(number) = self.case_number_of(register_number).await? else {
            tracing::warn!(register_number = %log_safe(register_number), case = %case.number, "account not in the register");
            return Ok(None);
        };
        Ok(self
            .load_case(&number)
            .await?
            .map(|entry| (register_number.clone(), entry)))
    }

    /// The flow of a stored case. When bot-scripts no longer define it, the user is told that
    /// the flow is retired (nothing changes) and the answer is `None`.
    pub fn flow_of(&self, draft: &mut Draft, case: &Case) -> Option<&FlowDef> {
        let flow = self.scripts.flows.get(&case.flow);
        if flow.is_none() {
            tracing::warn!(case = %case.number, flow = %case.flow, "case of a flow gone from bot-scripts");
            let text = self.scripts.render(
                &tpl::approval("flow_retired"),
                &minijinja::context! { number => &case.number },
            );
            draft.reply(text);
        }
        flow
    }

    /// Adds a case write and everything its chain change implies to the draft: history, index
    /// moves, messages, and greying out the spent cards whose response codes are known.
    pub async fn apply(
        &self,
        draft: &mut Draft,
        mut write: CaseWrite,
        change: chain::Change,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        write.history.extend(change.history);
        write.add_to.extend(change.add_to);
        write.remove_from.extend(change.remove_from);
        draft.write_case(write);
        for message in change.messages {
            draft.send(message);
        }
        if let Some(spent) = change.spent_cards {
            for (_, response_code) in self.store.card_codes(&spent.task_ids, now_ms).await? {
                draft.send(Reply::CloseCard {
                    members: spent.members.clone(),
                    response_code,
                    label: spent.label.clone(),
                    fallback: None,
                });
            }
        }
        Ok(())
    }

    /// A register entry changed (an account registered, its administrator replaced, closing,
    /// closed or back in use): when the work circle is on, it is brought in line soon after
    /// (one pending sync, however many changes ask for it).
    pub fn register_changed(&self, draft: &mut Draft, now_ms: i64) {
        if self.scripts.work_circle.is_some() {
            let id = event::CIRCLE_SYNC_TIMER.to_owned();
            draft.schedule(id, now_ms, &TimerJob::CircleSync);
        }
    }

    /// How a group of bot.toml `[groups]` is reached: its app group chat, else its robot.
    /// [`WORK_CIRCLE`] is the work circle's chat, when `[work_circle]` is on.
    pub fn group_route(&self, group: &str) -> Option<GroupRoute> {
        if group == WORK_CIRCLE
            && let Some(circle) = &self.scripts.work_circle
        {
            return Some(GroupRoute::AppChat(circle.chat_id.clone()));
        }
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
    pub async fn name_of(&self, userid: &str) -> Result<String, DispatchError> {
        Ok(self
            .directory
            .person(userid)
            .await?
            .map_or_else(|| userid.to_owned(), |p| p.name))
    }

    /// `2026-11-28 14:05` in the company's time zone.
    pub fn local_time(&self, ms: i64) -> String {
        self.clock.local(ms).format("%Y-%m-%d %H:%M").to_string()
    }
}
