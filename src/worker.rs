//! The worker: claims the next event of one conversation, has the [`Dispatcher`] work out what
//! it changes, and commits that (next state, cases, outbound messages) together with the event's
//! completion, in one atomic store operation.
//! A worker that dies mid-event loses nothing: its lease expires and the event is handed out
//! again; the commit is idempotent on the event id, so nothing is sent twice.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::dispatch::{DispatchError, Dispatcher};
use crate::event::Event;
use crate::store::{ClaimedEvent, Commit, CommitOutcome, Store};

/// One worker loop; run several per replica for concurrency across conversations.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    dispatcher: Dispatcher,
    lease: Duration,
    new_events: Arc<Notify>,
    new_outbox: Arc<Notify>,
    clock: Clock,
}

/// How long an idle worker sleeps when nobody wakes it (events of other replicas, expired leases).
const IDLE_POLL: Duration = Duration::from_millis(200);
/// An event claimed more often than this is set aside instead of blocking its conversation.
const MAX_ATTEMPTS: u32 = 5;
/// A commit that keeps losing the version race gives up; the event is retried after its lease.
const MAX_CONFLICTS: usize = 3;

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        dispatcher: Dispatcher,
        lease: Duration,
        new_events: Arc<Notify>,
        new_outbox: Arc<Notify>,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            dispatcher,
            lease,
            new_events,
            new_outbox,
            clock,
        }
    }

    /// Handles at most one event; returns whether there was one.
    pub async fn tick(&self, now_ms: i64) -> Result<bool, DispatchError> {
        let Some(claimed) = self.store.claim_event(now_ms, self.lease).await? else {
            return Ok(false);
        };
        if claimed.attempt > MAX_ATTEMPTS {
            // Its workers kept dying (or the dispatcher kept failing): set it aside so the rest
            // of the conversation can go on. The log keeps what it was.
            tracing::error!(
                event_id = claimed.event_id,
                conversation = %claimed.conversation,
                attempts = claimed.attempt,
                "event set aside after repeated failures"
            );
            self.store
                .complete_event(&claimed, &Commit::default(), self.clock.now_ms())
                .await?;
            return Ok(true);
        }
        let Some(event) = Self::parse(&claimed) else {
            self.store
                .complete_event(&claimed, &Commit::default(), self.clock.now_ms())
                .await?;
            return Ok(true);
        };
        for _ in 0..MAX_CONFLICTS {
            let commit = self
                .dispatcher
                .handle(&claimed.conversation, &event, now_ms)
                .await?;
            match self
                .store
                .complete_event(&claimed, &commit, self.clock.now_ms())
                .await?
            {
                CommitOutcome::Committed => {
                    if !commit.outbox.is_empty() {
                        self.new_outbox.notify_one();
                    }
                    return Ok(true);
                }
                CommitOutcome::AlreadyDone => {
                    tracing::info!(
                        event_id = claimed.event_id,
                        "event was already completed by another worker"
                    );
                    return Ok(true);
                }
                CommitOutcome::Conflict => {
                    tracing::info!(
                        event_id = claimed.event_id,
                        "conversation changed meanwhile, stepping again"
                    );
                }
            }
        }
        tracing::warn!(
            event_id = claimed.event_id,
            "gave up after repeated conflicts; retried after the lease"
        );
        Ok(true)
    }

    /// The event as stored (tagged: a WeCom message or a fired timer).
    fn parse(claimed: &ClaimedEvent) -> Option<Event> {
        Event::from_payload(&claimed.payload)
            .inspect_err(|e| tracing::error!(event_id = claimed.event_id, error = %e, "unreadable event dropped"))
            .ok()
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
                result = self.tick(self.clock.now_ms()) => result.unwrap_or_else(|e| {
                    // The event stays leased and is retried when the lease runs out.
                    tracing::warn!(error = %e, "worker: could not handle an event, backing off");
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
