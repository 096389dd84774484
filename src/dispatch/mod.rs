//! One event in, one [`Commit`] out. The router loads the event's conversation, hands the event
//! to the process that owns it (see [`process`]: card actions, timer kinds, contact changes,
//! texts and menu clicks asked in table order) and turns the resulting [`Draft`] into the
//! commit: the next state (written only if its version is unchanged), case writes, timers and
//! the outbound messages rendered for WeCom. Nothing is written here: the worker commits the
//! result atomically with the event.

mod case_writes;
mod context;
mod draft;
pub mod event;
pub mod numbers;
pub mod process;
mod services;

pub use case_writes::CaseWrites;
pub use context::engine_context;
pub use draft::{Conversation, Draft, PendingReject};
pub use process::{Handled, Process, Processes};
pub use services::{LoadedCase, Services, WORK_CIRCLE};

use crate::base::log_safe::log_safe;
use std::collections::HashSet;
use std::sync::Arc;

use crate::adapters::store::{Commit, OutboxItem, StateWrite, Store, StoreError, VersionedState};
use crate::adapters::wecom::message::InboundKind;
use crate::adapters::wecom::render::{self, DeskLinks};
use crate::base::clock::Clock;
use crate::base::directory::{Directory, DirectoryError};
use crate::base::scripts::{Scripts, tpl};
use crate::dispatch::event::Event;
use crate::domain::evidence::{Fetched, Refusal};
use crate::domain::reply::Reply;

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
    /// A received image or file could not be downloaded or kept yet (retried with the event).
    #[error("evidence not kept: {0}")]
    Evidence(String),
}

impl DispatchError {
    /// Whether a dependency was unavailable (the store, the contacts API, WeCom's media
    /// download): the same event will likely succeed later, so it waits and is retried rather
    /// than counted towards being set aside.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DispatchError::Store(e) => matches!(e, StoreError::Unavailable(_)),
            DispatchError::Evidence(_) => true,
            DispatchError::Directory(e) => e.is_retryable(),
            DispatchError::NumberLoop | DispatchError::CorruptCase(..) => false,
        }
    }
}

/// What the bot says about a file it did not keep (`[evidence]` `too_large`, `wrong_type`).
fn refusal_text(s: &Services, refusal: &Refusal) -> String {
    let types = s
        .scripts
        .evidence
        .as_ref()
        .map(|e| e.types.join("、"))
        .unwrap_or_default();
    let mb = |bytes: u64| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    match refusal {
        Refusal::TooLarge { size, max } => s.scripts.render(
            &tpl::evidence("too_large"),
            &minijinja::context! { size_mb => mb(*size), max_mb => mb(*max) },
        ),
        Refusal::Type { ext } => s.scripts.render(
            &tpl::evidence("wrong_type"),
            &minijinja::context! { ext => ext, types => types },
        ),
    }
}

/// Turns events into commits by routing them to the processes.
#[derive(Clone)]
pub struct Dispatcher {
    services: Services,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        scripts: Arc<Scripts>,
        directory: Arc<dyn Directory>,
        clock: Clock,
        processes: Processes,
    ) -> Self {
        Self {
            services: Services {
                store,
                scripts,
                directory,
                clock,
                robots: Arc::default(),
                processes,
                desk_links: None,
            },
        }
    }

    /// Messages to the department and leaders link to the desk's pages (README "The desk").
    pub fn with_desk_links(mut self, links: Option<DeskLinks>) -> Self {
        self.services.desk_links = links.map(Arc::new);
        self
    }

    /// The groups of bot.toml `[groups]` whose robot has a webhook key.
    pub fn with_robots(mut self, robots: HashSet<String>) -> Self {
        self.services.robots = Arc::new(robots);
        self
    }

    /// What handling `event` of `conversation`, whose stored state is `state` (as its claim
    /// read it), changes. The caller commits it atomically with the event's completion, and
    /// re-runs this with the state read again on a version conflict.
    pub async fn handle(
        &self,
        conversation: &str,
        state: Option<VersionedState>,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        let s = &self.services;
        let (version, stored) = s.conversation(conversation, state);
        let before = stored.clone();
        let mut draft = Draft::new(conversation.to_owned(), stored, version);
        let d = &mut draft;
        match event {
            Event::Timer(fired) => match s.processes.for_timer(&fired.job) {
                Some(p) => p.on_timer(s, d, &fired.job, fired.due_ms, now_ms).await?,
                None => tracing::warn!(job = ?fired.job, "a timer no process owns was dropped"),
            },
            Event::WeCom(inbound) => match &inbound.kind {
                InboundKind::TemplateCardEvent(tap) => {
                    let action = tap.event_key.split(':').next().unwrap_or_default();
                    match s.processes.for_card_action(action) {
                        Some(p) => p.on_card(s, d, tap, now_ms).await?,
                        None => {
                            tracing::warn!(key = %log_safe(&tap.event_key), "card tap with an unknown key refused");
                            let text = s.scripts.render(
                                &tpl::approval("card_expired"),
                                &minijinja::Value::UNDEFINED,
                            );
                            d.reply(text);
                        }
                    }
                }
                InboundKind::ChangeContact(change) => {
                    for p in s.processes.iter().filter(|p| p.watches_contacts()) {
                        p.on_contact(s, d, change, now_ms).await?;
                    }
                }
                InboundKind::Text { content, .. } => {
                    for p in s.processes.iter() {
                        if p.on_text(s, d, content, now_ms).await? {
                            break;
                        }
                    }
                }
                InboundKind::Media(media) => match &media.fetched {
                    Some(Fetched::Kept(evidence)) => {
                        let mut taken = false;
                        for p in s.processes.iter() {
                            if p.on_evidence(s, d, evidence, now_ms).await? {
                                taken = true;
                                break;
                            }
                        }
                        if !taken {
                            let text = s.scripts.render(
                                &tpl::evidence("unused"),
                                &minijinja::context! { name => &evidence.name },
                            );
                            d.reply(text);
                        }
                    }
                    Some(Fetched::Refused(refusal)) => d.reply(refusal_text(s, refusal)),
                    None => tracing::debug!("media not kept ([evidence] is not configured)"),
                },
                InboundKind::MenuClick { key } => {
                    for p in s.processes.iter() {
                        if p.on_menu(s, d, key, now_ms).await? {
                            break;
                        }
                    }
                }
                _ => tracing::debug!("event not handled by any process"),
            },
        }
        Ok(self.finish(draft, before))
    }

    /// The message telling the member who is waiting on `event` that the answer is delayed
    /// (`[messages] answer_delayed`), as outbox items; none for an event nobody waits on or
    /// when bot.toml has no such message.
    pub fn delay_notice(&self, event: &Event) -> Vec<OutboxItem> {
        let s = &self.services;
        let key = tpl::msg("answer_delayed");
        let Some(user) = event.asker().filter(|_| s.scripts.has(&key)) else {
            return Vec::new();
        };
        let text = s.scripts.render(&key, &minijinja::Value::UNDEFINED);
        self.outbox_item(Reply::text(user, text))
            .into_iter()
            .collect()
    }

    fn outbox_item(&self, reply: Reply) -> Option<OutboxItem> {
        let s = &self.services;
        let links = s.desk_links.as_deref();
        let message = render::outbound(reply, |group| s.group_route(group), links)?;
        Some(OutboxItem {
            channel: message.channel(),
            payload: serde_json::to_string(&message).expect("outbound serializes"),
        })
    }

    /// The commit of a handled event, with the conversation's next state if it changed.
    fn finish(&self, mut draft: Draft, before: Conversation) -> Commit {
        for reply in std::mem::take(&mut draft.replies) {
            if let Some(item) = self.outbox_item(reply) {
                draft.commit.outbox.push(item);
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
}
