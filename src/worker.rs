//! The worker: claims the next event of one conversation, hands it to the [`Handler`] and commits
//! the outbound messages together with the event's completion, in one atomic store operation.
//! A worker that dies mid-event loses nothing: its lease expires and the event is handed out
//! again; the commit is idempotent on the event id, so nothing is sent twice.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock;
use crate::scripts::Scripts;
use crate::store::{ClaimedEvent, Commit, CommitOutcome, OutboxItem, Store, StoreResult};
use crate::wecom::api::{MessageBody, Outbound};
use crate::wecom::message::{Inbound, InboundKind};

/// Decides what to send in answer to one event. Pure: no I/O, the clock is an input.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, event: &Inbound, now_ms: i64) -> Vec<Outbound>;
}

/// Answers any text with the help text from `bot-scripts/bot.toml` (the flow engine replaces it).
pub struct HelpReplyHandler {
    help_text: String,
}

impl HelpReplyHandler {
    pub fn new(scripts: &Scripts) -> Self {
        Self {
            help_text: scripts.help_text.clone(),
        }
    }
}

impl Handler for HelpReplyHandler {
    fn handle(&self, event: &Inbound, _now_ms: i64) -> Vec<Outbound> {
        match &event.kind {
            InboundKind::Text { .. } | InboundKind::MenuClick { .. } | InboundKind::EnterAgent => {
                vec![Outbound::Send {
                    to_user: event.from_user.clone(),
                    body: MessageBody::Text {
                        content: self.help_text.clone(),
                    },
                }]
            }
            _ => Vec::new(),
        }
    }
}

/// One worker loop; run several per replica for concurrency across conversations.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    lease: Duration,
    new_events: Arc<Notify>,
    new_outbox: Arc<Notify>,
}

/// How long an idle worker sleeps when nobody wakes it (events of other replicas, expired leases).
const IDLE_POLL: Duration = Duration::from_millis(200);

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        handler: Arc<dyn Handler>,
        lease: Duration,
        new_events: Arc<Notify>,
        new_outbox: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            handler,
            lease,
            new_events,
            new_outbox,
        }
    }

    /// Handles at most one event; returns whether there was one.
    pub async fn tick(&self, now_ms: i64) -> StoreResult<bool> {
        let Some(claimed) = self.store.claim_event(now_ms, self.lease).await? else {
            return Ok(false);
        };
        let commit = Commit {
            outbox: self.outbox_for(&claimed, now_ms),
            ..Default::default()
        };
        match self
            .store
            .complete_event(&claimed, &commit, clock::now_ms())
            .await?
        {
            CommitOutcome::Committed => {
                if !commit.outbox.is_empty() {
                    self.new_outbox.notify_one();
                }
            }
            CommitOutcome::AlreadyDone => {
                tracing::info!(
                    event_id = claimed.event_id,
                    "event was already completed by another worker"
                );
            }
            CommitOutcome::Conflict => {
                tracing::info!(
                    event_id = claimed.event_id,
                    "conversation state moved under another commit; the event is handled again \
                     after its lease"
                );
            }
        }
        Ok(true)
    }

    fn outbox_for(&self, claimed: &ClaimedEvent, now_ms: i64) -> Vec<OutboxItem> {
        let inbound: Inbound = match serde_json::from_str(&claimed.payload) {
            Ok(inbound) => inbound,
            Err(e) => {
                tracing::error!(event_id = claimed.event_id, error = %e, "unreadable event dropped");
                return Vec::new();
            }
        };
        self.handler
            .handle(&inbound, now_ms)
            .into_iter()
            .filter_map(|message| match serde_json::to_string(&message) {
                Ok(payload) => Some(OutboxItem {
                    channel: message.channel(),
                    payload,
                }),
                Err(e) => {
                    tracing::error!(error = %e, "outbound message not serializable");
                    None
                }
            })
            .collect()
    }

    /// Loops until `shutdown` completes: handles events as they come, sleeps when idle.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // Shutdown wins over new work; an event cut short is handed out again after its
            // lease, and its commit is idempotent.
            let handled = tokio::select! {
                biased;
                _ = &mut shutdown => return,
                result = self.tick(clock::now_ms()) => result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "worker: store error, backing off");
                    false
                }),
            };
            if handled {
                continue;
            }
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.new_events.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}
