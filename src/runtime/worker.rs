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
//! On shutdown the event in hand is finished and committed; shutdown is checked between events.

use crate::base::log_safe::log_safe;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::adapters::store::{ClaimedEvent, Commit, CommitOutcome, OutboxItem, Store};
use crate::base::clock::Clock;
use crate::dispatch::event::Event;
use crate::dispatch::{DispatchError, Dispatcher};
use crate::runtime::metrics;

/// What the worker runs for one event: what it changes, committed by the worker with the
/// event's completion. The [`Dispatcher`] in the bot; a test may pass a stand-in.
#[async_trait]
pub trait Handle: Send + Sync + 'static {
    async fn handle(
        &self,
        conversation: &str,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError>;

    /// What tells the member waiting on `event` that the answer is delayed (none by default).
    fn delay_notice(&self, _event: &Event) -> Vec<OutboxItem> {
        Vec::new()
    }
}

#[async_trait]
impl Handle for Dispatcher {
    async fn handle(
        &self,
        conversation: &str,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        Dispatcher::handle(self, conversation, event, now_ms).await
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
        }
    }

    /// Tells a member whose message has waited this long on an unavailable dependency that the
    /// answer is delayed (once per message).
    pub fn with_delay_notice(mut self, after: Duration) -> Self {
        self.delay_notice = after;
        self
    }

    /// Handles at most one event; returns whether there was one. Every log line of its
    /// handling (the handler's too) is in a span `event` carrying its `event_id`.
    pub async fn tick(&self, now_ms: i64) -> Result<bool, DispatchError> {
        let Some(claimed) = self.store.claim_event(now_ms, self.lease).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("event", event_id = claimed.event_id);
        let started = Instant::now();
        let (kind, result) = self
            .handle_claimed(&claimed, now_ms)
            .instrument(span)
            .await?;
        metrics::event(kind, result, started.elapsed());
        Ok(true)
    }

    /// Handles a claimed event; says its kind and what came of it (the metrics' labels).
    async fn handle_claimed(
        &self,
        claimed: &ClaimedEvent,
        now_ms: i64,
    ) -> Result<(&'static str, &'static str), DispatchError> {
        let parsed = Self::parse(claimed);
        let kind = parsed.as_ref().map_or("unreadable", metrics::event_kind);
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
            return Ok((kind, "set_aside"));
        }
        let Some(event) = parsed else {
            self.store
                .complete_event(claimed, &Commit::default(), self.clock.now_ms())
                .await?;
            return Ok((kind, "unreadable"));
        };
        for _ in 0..MAX_CONFLICTS {
            let commit = match self.handle_caught(claimed, &event, now_ms).await {
                Ok(Some(commit)) => commit,
                Ok(None) => return Ok((kind, "panicked")),
                Err(e) if e.is_unavailable() => {
                    self.wait(claimed, &event, &e, now_ms).await?;
                    return Ok((kind, "waiting"));
                }
                Err(e) => return Err(e),
            };
            match self
                .store
                .complete_event(claimed, &commit, self.clock.now_ms())
                .await?
            {
                CommitOutcome::Committed => {
                    if !commit.outbox.is_empty() {
                        self.new_outbox.notify_one();
                    }
                    metrics::committed(&event, &commit, now_ms);
                    tracing::debug!(kind, "event handled");
                    return Ok((kind, "ok"));
                }
                CommitOutcome::AlreadyDone => {
                    tracing::info!(
                        event_id = claimed.event_id,
                        "event was already completed by another worker"
                    );
                    return Ok((kind, "already_done"));
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
        Ok((kind, "conflicts"))
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
        now_ms: i64,
    ) -> Result<Option<Commit>, DispatchError> {
        let handler = self.handler.clone();
        let (conversation, event) = (claimed.conversation.clone(), event.clone());
        // The handler's own log lines stay in the event's span.
        let task = tokio::spawn(
            async move { handler.handle(&conversation, &event, now_ms).await }
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
