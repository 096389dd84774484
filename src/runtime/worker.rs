//! The worker: claims the next event of one conversation, has the [`Dispatcher`] work out what
//! it changes, and commits that (next state, cases, outbound messages) together with the event's
//! completion, in one atomic store operation.
//! A worker that dies mid-event loses nothing: its lease expires and the event is handed out
//! again; the commit is idempotent on the event id, so nothing is sent twice. Handling that
//! panics is caught and logged with the event id, and the worker goes on with the next event;
//! the event is handed out again after its lease and set aside after [`MAX_ATTEMPTS`] claims
//! (kept in the store's set-aside list, `flowbot set-aside` lists and re-runs them).
//! A handling that fails because a dependency is unavailable (the store, WeCom's contacts or
//! media API) is not such a failure: the event waits and is retried with back-off for as long as
//! it takes, its conversation paused and the others going on; once it has waited
//! [`Worker::with_delay_notice`] the member who wrote is told, once, that the answer is delayed.
//! A worker claims up to its batch of events at once, of distinct conversations, each with its
//! conversation's state, and commits them in one store operation ([`batch`]).
//! On shutdown the events in hand are finished and committed; shutdown is checked between batches.

use crate::base::log_safe::log_safe;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::adapters::store::{
    Claim, ClaimedEvent, Commit, CommitOutcome, OutboxItem, Store, VersionedState,
};
use crate::base::clock::Clock;
use crate::dispatch::event::Event;
use crate::dispatch::{DispatchError, Dispatcher};
use crate::runtime::metrics;
use batch::Prepared;

mod batch;

/// What the worker runs for one event: what it changes, committed by the worker with the
/// event's completion. The [`Dispatcher`] in the bot; a test may pass a stand-in.
#[async_trait]
pub trait Handle: Send + Sync + 'static {
    /// `state` is the conversation's stored state as the claim read it (`None`: absent).
    async fn handle(
        &self,
        conversation: &str,
        state: Option<VersionedState>,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError>;

    /// What tells the member waiting on `event` that the answer is delayed. Required, so that a
    /// wrapping `Handle` (like the evidence keeper) cannot forget to pass it on.
    fn delay_notice(&self, event: &Event) -> Vec<OutboxItem>;
}

#[async_trait]
impl Handle for Dispatcher {
    async fn handle(
        &self,
        conversation: &str,
        state: Option<VersionedState>,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        Dispatcher::handle(self, conversation, state, event, now_ms).await
    }

    fn delay_notice(&self, event: &Event) -> Vec<OutboxItem> {
        Dispatcher::delay_notice(self, event)
    }
}

/// One worker loop; run several per replica for concurrency across conversations.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    handler: Arc<dyn Handle>,
    lease: Duration,
    new_events: Arc<Notify>,
    new_outbox: Arc<Notify>,
    clock: Clock,
    delay_notice: Duration,
    batch: usize,
}

/// How long an idle worker sleeps when nobody wakes it (events of other replicas, expired leases).
const IDLE_POLL: Duration = Duration::from_millis(200);
/// An event claimed more often than this is set aside instead of blocking its conversation.
pub const MAX_ATTEMPTS: u32 = 5;
/// A commit that keeps losing the version race gives up; the event is retried after its lease.
const MAX_CONFLICTS: usize = 3;
/// After how long a member whose message waits on an unavailable dependency is told.
pub const DEFAULT_DELAY_NOTICE: Duration = Duration::from_secs(60);
/// The longest wait between two tries of an event whose dependency is unavailable.
const MAX_RETRY_DELAY_MS: i64 = 5 * 60 * 1000;

/// When an event that waited `age_ms` since it happened is tried again: half its age again,
/// from one second up to [`MAX_RETRY_DELAY_MS`] (a back-off that needs no stored counter).
pub fn retry_delay_ms(age_ms: i64) -> i64 {
    (age_ms / 2).clamp(1_000, MAX_RETRY_DELAY_MS)
}

impl Worker {
    pub fn new(
        store: Arc<dyn Store>,
        handler: Arc<dyn Handle>,
        lease: Duration,
        new_events: Arc<Notify>,
        new_outbox: Arc<Notify>,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            handler,
            lease,
            new_events,
            new_outbox,
            clock,
            delay_notice: DEFAULT_DELAY_NOTICE,
            batch: 1,
        }
    }

    /// Claims (and commits) up to `events` events at once, of distinct conversations, handled
    /// concurrently (one at a time by default).
    pub fn with_batch(mut self, events: usize) -> Self {
        self.batch = events.max(1);
        self
    }

    /// Tells a member whose message has waited this long on an unavailable dependency that the
    /// answer is delayed (once per message).
    pub fn with_delay_notice(mut self, after: Duration) -> Self {
        self.delay_notice = after;
        self
    }

    /// Handles the events of one claim (at most the batch size, each of its own conversation);
    /// returns whether there was one. Every log line of an event's handling (the handler's too)
    /// is in a span `event` carrying its `event_id`.
    pub async fn tick(&self, now_ms: i64) -> Result<bool, DispatchError> {
        let claims = self
            .store
            .claim_events(now_ms, self.lease, self.batch)
            .await?;
        if claims.is_empty() {
            return Ok(false);
        }
        self.handle_batch(claims, now_ms).await?;
        Ok(true)
    }

    /// Handles a claimed event (`parsed`: its payload read, `None` when unreadable) with the
    /// state its claim read: its commit, or what came of it when there is nothing to commit.
    async fn prepare(
        &self,
        claim: &Claim,
        parsed: Option<Event>,
        now_ms: i64,
    ) -> Result<Prepared, DispatchError> {
        let claimed = &claim.event;
        if claimed.attempt > MAX_ATTEMPTS {
            // Its workers kept dying (or the handling kept failing on its own): set it aside so
            // the rest of the conversation can go on; an operator can re-run it.
            tracing::error!(
                event_id = claimed.event_id,
                conversation = %claimed.conversation,
                attempts = claimed.attempt,
                "event set aside after repeated failures"
            );
            let reason = format!("failed {MAX_ATTEMPTS} attempts (see the log for its event_id)");
            self.store
                .set_aside_event(claimed, &reason, self.clock.now_ms())
                .await?;
            return Ok(Prepared::Done("set_aside"));
        }
        let Some(event) = parsed else {
            self.store
                .complete_event(claimed, &Commit::default(), self.clock.now_ms())
                .await?;
            return Ok(Prepared::Done("unreadable"));
        };
        match self
            .attempt(claimed, &event, claim.state.clone(), now_ms)
            .await?
        {
            Ok(commit) => Ok(Prepared::Ready(event, commit)),
            Err(result) => Ok(Prepared::Done(result)),
        }
    }

    /// Runs the handler once: the commit, or what came of the event when there is none (it
    /// panicked, or waits on an unavailable dependency).
    async fn attempt(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        state: Option<VersionedState>,
        now_ms: i64,
    ) -> Result<Result<Commit, &'static str>, DispatchError> {
        match self.handle_caught(claimed, event, state, now_ms).await {
            Ok(Some(commit)) => Ok(Ok(commit)),
            Ok(None) => Ok(Err("panicked")),
            Err(e) => self.failed(claimed, event, e, now_ms).await.map(Err),
        }
    }

    /// A handling that failed: an unavailable dependency makes the event wait, anything else is
    /// the caller's error (the event is retried after its lease).
    async fn failed(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        error: DispatchError,
        now_ms: i64,
    ) -> Result<&'static str, DispatchError> {
        if !error.is_unavailable() {
            return Err(error);
        }
        self.wait(claimed, event, &error, now_ms).await?;
        Ok("waiting")
    }

    /// Re-runs an event whose commit conflicted, alone: the conversation read again, handled,
    /// committed; up to [`MAX_CONFLICTS`] tries in all.
    async fn rerun(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        now_ms: i64,
    ) -> Result<&'static str, DispatchError> {
        for _ in 1..MAX_CONFLICTS {
            let state = match self.store.load_conversation(&claimed.conversation).await {
                Ok(state) => state,
                Err(e) => return self.failed(claimed, event, e.into(), now_ms).await,
            };
            let commit = match self.attempt(claimed, event, state, now_ms).await? {
                Ok(commit) => commit,
                Err(result) => return Ok(result),
            };
            let outcome = self
                .store
                .complete_event(claimed, &commit, self.clock.now_ms())
                .await?;
            if outcome != CommitOutcome::Conflict {
                return Box::pin(self.settle(claimed, event, &commit, outcome, now_ms)).await;
            }
            tracing::info!(
                event_id = claimed.event_id,
                "conversation changed meanwhile, stepping again"
            );
        }
        tracing::warn!(
            event_id = claimed.event_id,
            "gave up after repeated conflicts; retried after the lease"
        );
        Ok("conflicts")
    }

    /// A commit went through: the sender is woken for its messages.
    fn committed(&self, event: &Event, commit: &Commit, now_ms: i64) {
        if !commit.outbox.is_empty() {
            self.new_outbox.notify_one();
        }
        metrics::committed(event, commit, now_ms);
        tracing::debug!("event handled");
    }

    /// A dependency was unavailable: the event goes back to wait, not counted as an attempt,
    /// and is tried again after [`retry_delay_ms`]; the member who wrote is told once when it
    /// has waited long enough.
    async fn wait(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        error: &DispatchError,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let age_ms = now_ms.saturating_sub(event.created_ms()).max(0);
        let retry_at = now_ms.saturating_add(retry_delay_ms(age_ms));
        let mut notice = Vec::new();
        if age_ms >= self.delay_notice.as_millis() as i64 {
            let items = self.handler.delay_notice(event);
            let once = format!("delay-notice:{}", claimed.event_id);
            if !items.is_empty()
                && self
                    .store
                    .try_lock(&once, Duration::from_secs(86_400), now_ms)
                    .await?
                    .is_some()
            {
                notice = items;
            }
        }
        tracing::warn!(
            event_id = claimed.event_id,
            conversation = %claimed.conversation,
            error = %log_safe(&error.to_string()),
            retry_in_ms = retry_at - now_ms,
            notice = !notice.is_empty(),
            "a dependency is unavailable: the event waits and is tried again"
        );
        self.store
            .defer_event(claimed, retry_at, &notice, now_ms)
            .await?;
        if !notice.is_empty() {
            self.new_outbox.notify_one();
        }
        Ok(())
    }

    /// Runs the handler as a task of its own, so that a panic in it is caught: it is logged with
    /// the event, and the answer is `None`. The event stays leased to this worker and is handed
    /// out again when the lease runs out (set aside after [`MAX_ATTEMPTS`] claims).
    async fn handle_caught(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        state: Option<VersionedState>,
        now_ms: i64,
    ) -> Result<Option<Commit>, DispatchError> {
        let handler = self.handler.clone();
        let (conversation, event) = (claimed.conversation.clone(), event.clone());
        // The handler's own log lines stay in the event's span.
        let task = tokio::spawn(
            async move { handler.handle(&conversation, state, &event, now_ms).await }
                .instrument(tracing::Span::current()),
        );
        match task.await {
            Ok(result) => result.map(Some),
            Err(failure) => {
                let panic = match failure.try_into_panic() {
                    Ok(payload) => payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".to_owned()),
                    Err(cancelled) => cancelled.to_string(),
                };
                tracing::error!(
                    event_id = claimed.event_id,
                    conversation = %claimed.conversation,
                    attempt = claimed.attempt,
                    %panic,
                    "handling the event panicked: it is handed out again after its lease, and set aside after {MAX_ATTEMPTS} attempts"
                );
                Ok(None)
            }
        }
    }

    /// The event as stored (tagged: a WeCom message or a fired timer).
    fn parse(claimed: &ClaimedEvent) -> Option<Event> {
        Event::from_payload(&claimed.payload)
            .inspect_err(|e| tracing::error!(event_id = claimed.event_id, error = %log_safe(&e.to_string()), "unreadable event dropped"))
            .ok()
    }

    /// Loops until `shutdown` completes: handles events as they come, sleeps when idle. The
    /// event in hand is finished (and committed) before shutdown is looked at.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let stopping = tokio::select! {
                biased;
                _ = &mut shutdown => true,
                _ = std::future::ready(()) => false,
            };
            if stopping {
                return;
            }
            let handled = self.tick(self.clock.now_ms()).await.unwrap_or_else(|e| {
                // The event stays leased and is retried when the lease runs out.
                tracing::warn!(error = %e, "worker: could not handle an event, backing off");
                false
            });
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
