//! The application's shared state, as a trait of application operations (not of Redis commands).
//!
//! Two backends implement [`Store`]: [`redis::RedisStore`] for production and several replicas,
//! and [`embedded::EmbeddedStore`] (SQLite) as the zero-setup default. Every operation that keeps
//! an invariant over several records is one atomic step (a Lua script, an SQL transaction).
//! Time is always an input (`now_ms`), so tests drive the clock.

pub mod embedded;
pub mod keys;
pub mod redis;

use std::time::Duration;

use async_trait::async_trait;

/// Errors of the store. Outcomes such as "duplicate" or "nothing to claim" are not errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or timed out; idempotent operations may be retried.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be decoded; a bug or a foreign writer.
    #[error("store data corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a completed event id is remembered, so a stale worker's second completion is a no-op.
pub const DONE_MARKER_TTL: Duration = Duration::from_secs(25 * 3600);

/// How long a conversation's state lives after its last write (a sliding TTL; business records,
/// cases and their history, never expire).
pub const CONVERSATION_STATE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How many dead letters are kept (the oldest are dropped beyond this).
pub const DEAD_LETTER_CAP: usize = 10_000;

/// How long the readiness probe of Redis ([`Store::ping_write`]) stays.
pub const PROBE_TTL: Duration = Duration::from_secs(10);

/// A fresh random token for a lock (128 bits, hex).
pub(crate) fn random_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// An inbound event (a chat message, a card tap, a timer...) to be queued for its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The conversation the event belongs to (the user id); events of one conversation are
    /// handled one at a time, in arrival order.
    pub conversation: String,
    /// The event itself, serialized (JSON of [`crate::adapters::wecom::message::Inbound`]).
    pub payload: String,
}

/// What [`Store::dedupe_and_enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueue {
    /// First delivery: the event was queued under this id.
    Accepted { event_id: u64 },
    /// Already seen within the dedupe window: nothing was queued; the original id.
    Duplicate { event_id: u64 },
}

/// An event claimed by a worker. The claim is a lease on the whole conversation: no other event
/// of it is handed out until this one completes or the lease expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEvent {
    pub event_id: u64,
    pub conversation: String,
    pub payload: String,
    /// How many times this event has been claimed, this claim included (1 on first delivery).
    pub attempt: u32,
}

/// A claimed event with what handling it needs: its conversation's stored state, read in the
/// same atomic step as the claim (so the worker makes no second round trip for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub event: ClaimedEvent,
    /// The conversation's state and version when claimed (`None`: absent, version 0).
    pub state: Option<VersionedState>,
}

/// A message waiting to be delivered to WeCom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The pacing channel, e.g. `member:zhangsan` or `robot:<hash>`; also the rate-limit key.
    pub channel: String,
    /// The message, serialized (JSON of [`crate::adapters::wecom::api::Outbound`]).
    pub payload: String,
}

/// An outbox item claimed for delivery, leased until it is completed, deferred or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedOutbox {
    pub id: u64,
    pub channel: String,
    pub payload: String,
    /// Failed delivery attempts so far (deferrals for pacing do not count).
    pub failures: u32,
    /// When its first delivery attempt failed (the retry window runs from it), if one has.
    pub first_failed_ms: Option<i64>,
    /// When an attempt whose outcome is unknown started (sent without an answer read, or
    /// claimed by a sender whose lease then expired): WeCom may already have it. The earliest
    /// such attempt; kept until the item is delivered.
    pub unknown_since_ms: Option<i64>,
}

/// Where a failed outbox item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    Rescheduled,
    DeadLettered,
}

/// An outbox item that will not be retried, kept for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: u64,
    pub channel: String,
    pub payload: String,
    pub failures: u32,
    pub last_error: String,
    pub failed_at_ms: i64,
}

/// An event set aside after failing on its own (a bug, bad data) on every attempt: kept for an
/// operator, who lists it and queues it again (`flowbot set-aside`) once the cause is fixed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SetAsideEvent {
    pub event_id: u64,
    pub conversation: String,
    pub payload: String,
    pub attempts: u32,
    pub reason: String,
    pub at_ms: i64,
}

/// A conversation's state and its version (absent state = version 0). Every committed write
/// bumps the version by one; a deleted or expired state is absent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedState {
    pub version: u64,
    pub state: String,
}

/// Everything one handled event changes, applied atomically with the event's completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    pub outbox: Vec<OutboxItem>,
    /// The conversation's next state; written only if its version is still `expected_version`.
    pub state: Option<StateWrite>,
    pub cases: Vec<CaseWrite>,
    /// Timers to schedule (upsert by id), applied after `cancel_timers`, so a commit naming an
    /// id in both reschedules it.
    pub timers: Vec<Timer>,
    /// Ids of timers to cancel (unknown ids are ignored).
    pub cancel_timers: Vec<String>,
}

/// A durable timer: at `due_ms` it fires once, as an event of `conversation` carrying `payload`
/// (see [`Store::fire_due_timers`]). Scheduling an id again moves it.
///
/// Keep `payload` a small reference (what to chase, which step), not a message body: a pending
/// timer costs about 280 bytes on Redis with a 56-byte payload and 360 with a 120-byte one
/// (measured at 1M timers, `tests/scheduler/bench.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub id: String,
    pub due_ms: i64,
    pub conversation: String,
    pub payload: String,
}

/// The dedupe key of a fired timer's event: `timer:<id>:<due_ms>`. Firing the same schedule
/// twice within the dedupe window (a timer re-derived after a failover) queues one event.
pub fn timer_dedupe_key(id: &str, due_ms: i64) -> String {
    format!("timer:{id}:{due_ms}")
}

/// A compare-and-set of the event's conversation state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateWrite {
    pub expected_version: u64,
    /// `None` deletes the state
    pub state: Option<String>,
}

/// The changes to one case. Within a write, `remove_from` is applied before `add_to`, so an index
/// named in both ends up holding the case (at the end of its order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseWrite {
    pub number: String,
    /// Optimistic concurrency: when `Some(v)`, the whole commit applies only if the case's
    /// [`CaseRecord::version`] is still `v` (0: no body was ever written, e.g. a new case), else
    /// it is a [`CommitOutcome::Conflict`]. Checked against the versions before the commit.
    /// `None`: no check.
    pub expected_version: Option<u64>,
    /// The case as JSON, replacing the previous version (`None` keeps the current body). Setting a
    /// body bumps the case's version by one.
    pub body: Option<String>,
    /// Appended to the case's history, which is append-only.
    pub history: Vec<String>,
    /// Index memberships to add / remove, e.g. `applicant:zhangsan`, `pending:lisi`, `unit:3`.
    pub add_to: Vec<String>,
    pub remove_from: Vec<String>,
}

/// What [`Store::complete_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// The event was already completed (or is unknown): nothing was applied.
    AlreadyDone,
    /// The state's version, or the version of a case written with
    /// [`CaseWrite::expected_version`], moved: nothing was applied; the caller re-reads and
    /// re-runs the step.
    Conflict,
}

/// A case: its current body and its whole history, oldest first. A case exists once a body or a
/// history entry has been written; until a body is written it is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub number: String,
    /// How many writes set its body: 1 after the first, +1 for each later one; history-only and
    /// index-only writes leave it alone (a case with history only is at version 0).
    pub version: u64,
    pub body: String,
    pub history: Vec<String>,
}

/// A cached WeCom access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub token: String,
    pub expires_at_ms: i64,
}

/// Proof of holding a named lock; unlock only removes the lock if it is still ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockToken {
    pub name: String,
    pub token: String,
}

/// The answer of the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Denied; the earliest moment a new attempt can succeed.
    RetryAfter(Duration),
}

/// Queue sizes, for health checks, tests and operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Events queued or being handled.
    pub events: u64,
    /// Outbox items waiting or in flight.
    pub outbox: u64,
    pub dead_letters: u64,
}

/// How far behind the pipeline is, for the metrics (sampled on each scrape of `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// When the oldest queued event was queued; `None` when the queue is empty (or its oldest
    /// event was queued by a flowbot that did not record the time, or queued again by
    /// `flowbot set-aside --rerun`).
    pub oldest_event_ms: Option<i64>,
    /// Timers due at the time asked about that have not fired yet.
    pub overdue_timers: u64,
}

/// The operations flowbot needs from its shared state.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Queues `event` unless `dedupe_key` was seen within `ttl`; both in one atomic step, so a
    /// crash can never mark a delivery as seen without queueing it.
    async fn dedupe_and_enqueue(
        &self,
        dedupe_key: &str,
        ttl: Duration,
        event: &NewEvent,
        now_ms: i64,
    ) -> StoreResult<Enqueue>;

    /// Claims up to `max` events in one atomic step: the head (oldest event) of each ready
    /// conversation that is not leased, oldest head first, leasing each conversation until
    /// `now_ms + lease`, each with its conversation's state read in that step. Expired leases
    /// are released first, so a dead worker's event is handed out again. A conversation is never
    /// handed out twice at once (concurrent callers included); its next event only after this
    /// one completes or its lease expires.
    async fn claim_events(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<Claim>>;

    /// [`Store::claim_events`] of one event, without its state.
    async fn claim_event(&self, now_ms: i64, lease: Duration) -> StoreResult<Option<ClaimedEvent>> {
        Ok(self
            .claim_events(now_ms, lease, 1)
            .await?
            .pop()
            .map(|claim| claim.event))
    }

    /// Applies each event's commit and completes it, in one store operation, in the order
    /// given; each event on its own exactly as [`Store::complete_event`] (a later event's checks
    /// see an earlier one's writes). One outcome per event.
    async fn complete_events(
        &self,
        batch: &[(ClaimedEvent, Commit)],
        now_ms: i64,
    ) -> StoreResult<Vec<CommitOutcome>>;

    /// Applies `commit` and completes the event in one atomic step. In order:
    /// - the event was already completed, or is unknown: [`CommitOutcome::AlreadyDone`], nothing
    ///   applied;
    /// - `commit.state` expects a version other than the conversation's current one:
    ///   [`CommitOutcome::Conflict`], nothing applied, the event stays claimed under its lease;
    /// - a case write's `expected_version` is `Some(v)` and the case's current version is not `v`:
    ///   [`CommitOutcome::Conflict`], likewise nothing applied;
    /// - else [`CommitOutcome::Committed`]: the state is written (version + 1, its sliding TTL
    ///   [`CONVERSATION_STATE_TTL`] restarted) or deleted, the cases are written (version + 1 for
    ///   each that sets a body), the outbox items queued (due at `now_ms`), `cancel_timers`
    ///   removed, then `timers` scheduled, the event marked done and the conversation released.
    async fn complete_event(
        &self,
        event: &ClaimedEvent,
        commit: &Commit,
        now_ms: i64,
    ) -> StoreResult<CommitOutcome> {
        let batch = [(event.clone(), commit.clone())];
        let outcomes = self.complete_events(&batch, now_ms).await?;
        outcomes.into_iter().next().ok_or_else(|| {
            StoreError::Corrupt("the store answered no outcome for the commit".into())
        })
    }

    /// Hands a claimed event back untouched because a dependency (WeCom, the contacts API, the
    /// evidence store) is unavailable: its conversation stays leased until `until_ms` (the other
    /// conversations go on), the claim does not count as an attempt, and `notice` (a message
    /// that the answer is delayed) is queued in the outbox, all in one atomic step. `false` when
    /// the event is no longer this claim's (completed, or re-claimed after the lease).
    async fn defer_event(
        &self,
        event: &ClaimedEvent,
        until_ms: i64,
        notice: &[OutboxItem],
        now_ms: i64,
    ) -> StoreResult<bool>;

    /// Sets a claimed event aside with `reason`, in one atomic step: kept in the set-aside list
    /// and completed without effect (its conversation goes on with the next event). `false` when
    /// it was already completed.
    async fn set_aside_event(
        &self,
        event: &ClaimedEvent,
        reason: &str,
        now_ms: i64,
    ) -> StoreResult<bool>;

    /// The events set aside, oldest first.
    async fn set_aside_events(&self) -> StoreResult<Vec<SetAsideEvent>>;

    /// Queues a set-aside event again, at the end of its conversation, and drops it from the
    /// list, in one atomic step; the new event's id, `None` when no such event is set aside.
    async fn rerun_set_aside(&self, event_id: u64, now_ms: i64) -> StoreResult<Option<u64>>;

    /// The conversation's state, `None` when absent (version 0) or expired.
    async fn load_conversation(&self, conversation: &str) -> StoreResult<Option<VersionedState>>;

    /// A case, `None` if nothing was ever written to it.
    async fn get_case(&self, number: &str) -> StoreResult<Option<CaseRecord>>;

    /// The numbers of the cases in `index`, in the order they were added to it.
    async fn cases_in(&self, index: &str) -> StoreResult<Vec<String>>;

    /// The next number of `series` (1, 2, 3, ...): atomic, never repeating, durable.
    async fn next_number(&self, series: &str) -> StoreResult<u64>;

    /// Claims up to `max` due outbox items in due order (ties in queueing order), leasing each
    /// until `now_ms + lease`; expired leases are released first, and an item whose lease
    /// expired gets [`ClaimedOutbox::unknown_since_ms`] (its claim time) unless it has one.
    async fn claim_outbox(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<ClaimedOutbox>>;

    /// Removes delivered items, in one store operation (ids no longer queued are ignored).
    async fn complete_outboxes(&self, ids: &[u64]) -> StoreResult<()>;

    /// Puts an item back, due at `due_ms`, without counting a failure (pacing).
    async fn defer_outbox(&self, id: u64, due_ms: i64) -> StoreResult<()>;

    /// Records a failed delivery: due again at `retry_at_ms`, or dead-lettered when `None`.
    /// The first failure's time (`now_ms`) is kept; `unknown_since_ms` (the attempt's start when
    /// its outcome is unknown) is kept unless the item already has one.
    async fn fail_outbox(
        &self,
        id: u64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
        unknown_since_ms: Option<i64>,
    ) -> StoreResult<FailOutcome>;

    /// Extends the leases of these claimed items to `lease_until_ms` (a sender still at work);
    /// items no longer claimed are left alone.
    async fn renew_outbox(&self, ids: &[u64], lease_until_ms: i64) -> StoreResult<()>;

    /// Queues dead letters again, as new items due at `now_ms` (no failures counted), and
    /// removes them from the dead letters, in one atomic step; `ids` empty: all of them.
    /// Returns the ids queued.
    async fn resend_dead_letters(&self, ids: &[u64], now_ms: i64) -> StoreResult<Vec<u64>>;

    /// The most recent dead letters, newest first.
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>>;

    /// The queued events, the outbox items waiting or in flight and the dead letters. On the
    /// embedded store counting a large outbox takes a while; [`Store::queued_events`] is cheap.
    async fn queue_stats(&self) -> StoreResult<QueueStats>;

    /// The events queued or being handled (what [`Store::queue_stats`] counts as `events`).
    async fn queued_events(&self) -> StoreResult<u64> {
        Ok(self.queue_stats().await?.events)
    }

    /// The cached token of `app`, if any and not expired at `now_ms`.
    async fn get_token(&self, app: &str, now_ms: i64) -> StoreResult<Option<CachedToken>>;

    async fn put_token(&self, app: &str, token: &CachedToken) -> StoreResult<()>;

    /// Drops the cached token of `app` only if it is still `failed` (compare-and-delete), so
    /// that many replicas seeing one expired token cause one refresh.
    async fn invalidate_token(&self, app: &str, failed: &str) -> StoreResult<()>;

    /// Remembers the response code WeCom answered when the card with `task_id` was sent (single
    /// use, valid 72 hours), until `expires_at_ms`: with it the card can be greyed out when its
    /// step is closed some other way than by a tap on it.
    async fn put_card_code(&self, task_id: &str, code: &str, expires_at_ms: i64)
    -> StoreResult<()>;

    /// The remembered, unexpired codes of these cards, as `(task id, code)` pairs.
    async fn card_codes(
        &self,
        task_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Vec<(String, String)>>;

    /// Takes the named lock for `ttl` unless someone else holds it.
    async fn try_lock(
        &self,
        name: &str,
        ttl: Duration,
        now_ms: i64,
    ) -> StoreResult<Option<LockToken>>;

    /// Releases the lock if it is still held by `lock` (a stale token is a no-op).
    async fn unlock(&self, lock: &LockToken) -> StoreResult<()>;

    /// Sliding-window log: allows at most `limit` calls per `window` for `key`, counting this one
    /// when allowed.
    async fn rate_limit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now_ms: i64,
    ) -> StoreResult<RateDecision>;

    /// Checks the backend answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Proves the backend takes a write now (readiness): writes a probe that expires or is
    /// overwritten, so a full disk, a read-only file or a Redis refusing writes fails here.
    async fn ping_write(&self, now_ms: i64) -> StoreResult<()>;

    /// Schedules `timer`, replacing any timer with its id (rescheduling moves it).
    async fn schedule_timer(&self, timer: &Timer) -> StoreResult<()>;

    /// Cancels the timer `id`; true if it was pending.
    async fn cancel_timer(&self, id: &str) -> StoreResult<bool>;

    /// In one atomic step, takes up to `limit` timers due at `now_ms` (`due_ms <= now_ms`) in due
    /// order (ties by id), removes them and queues each as an event of its conversation exactly
    /// like [`Store::dedupe_and_enqueue`] with [`timer_dedupe_key`] and `dedupe_ttl` (a timer
    /// whose key was already seen is removed without a second event). Returns the ids taken, in
    /// due order. Concurrent callers (replicas) never take the same timer.
    async fn fire_due_timers(
        &self,
        now_ms: i64,
        limit: usize,
        dedupe_ttl: Duration,
    ) -> StoreResult<Vec<String>>;

    /// How many timers are pending.
    async fn pending_timers(&self) -> StoreResult<u64>;

    /// The age of the queue's oldest event and the timers overdue at `now_ms` (read only).
    async fn backlog(&self, now_ms: i64) -> StoreResult<Backlog>;
}
