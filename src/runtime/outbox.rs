//! The outbox sender: claims due outbox items, paces them per channel under WeCom's limits,
//! delivers them through [`crate::adapters::wecom::api::WeComClient`], retries failures with
//! back-off for the retry window (bot.toml `[delivery] retry_hours`, from the first failure)
//! and dead-letters what cannot be delivered ([`Store::resend_dead_letters`] queues them
//! again). Files and evidence are built at delivery ([`media`]); what WeCom offers against a
//! second delivery after an unknown outcome is in [`once`].
//!
//! Channels (a member, a robot, a chat) are delivered to concurrently, at most
//! [`Pacing::concurrency`] at a time; each channel's items go one at a time in queueing (id)
//! order. Claimed items are leased for a short time (20 s) and the lease is renewed while the
//! batch is worked on, so a sender that dies leaves its items to another within seconds; their
//! outcome is then unknown.
//!
//! Order per channel: when an item of a channel is paced (or fails and will be retried), the
//! channel is *held* until that moment: its following items in the batch, and items of it claimed
//! by later ticks of this process before then, are deferred to the same due time. Equal due times
//! come back in queueing order (the [`Store::claim_outbox`] contract) and in one batch, so they
//! keep their order; staggered due times would not, as the limiter can reopen between them.
//! Limits: order holds per process and while a channel's held items fit in one batch.
//!
//! The items a tick delivered are removed from the store together when the tick ends
//! ([`Store::complete_outboxes`], one round trip), still leased until then: a sender killed in
//! between leaves them to be sent again as items whose outcome is unknown ([`once`]).

mod channels;
mod media;
pub mod once;
mod pacing;
mod penalty;

use channels::by_channel;

pub use pacing::Pacing;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::adapters::evidence::EvidenceStore;
use crate::adapters::store::{ClaimedOutbox, FailOutcome, RateDecision, Store};
use crate::adapters::wecom::api::{ApiError, MessageBody, Outbound, Receipt, WeComClient};
use crate::base::clock::Clock;
use crate::base::locks::lock;
use crate::base::scripts::Scripts;

/// How long a claimed item is leased by default; renewed every quarter of it while the sender
/// works, so a dead sender's items are taken over after at most this long.
const DEFAULT_LEASE: Duration = Duration::from_secs(20);
/// How long WeCom accepts a sent card's response code (72 hours), less a margin.
const CARD_CODE_LIFETIME: Duration = Duration::from_secs(71 * 3600);
const DEFAULT_BATCH: usize = 128;
/// Sleep between ticks while nothing is due (a [`Notify`] cuts it short).
const DEFAULT_IDLE: Duration = Duration::from_millis(75);

/// What one [`OutboxSender::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub claimed: usize,
    pub delivered: usize,
    /// Put back for pacing (not a failure).
    pub deferred: usize,
    /// Failed and scheduled again.
    pub retried: usize,
    pub dead_lettered: usize,
    /// Store operations that failed (the item's lease expires and it is claimed again).
    pub store_errors: usize,
}

impl std::ops::AddAssign for TickReport {
    fn add_assign(&mut self, other: Self) {
        self.claimed += other.claimed;
        self.delivered += other.delivered;
        self.deferred += other.deferred;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.store_errors += other.store_errors;
    }
}

/// Delivers the outbox. Cheap to share behind an `Arc`; one per process is enough.
pub struct OutboxSender {
    store: Arc<dyn Store>,
    client: WeComClient,
    pacing: Pacing,
    clock: Clock,
    notify: Arc<Notify>,
    lease: Duration,
    batch: usize,
    idle: Duration,
    /// Channels held in this process, and until when.
    held: Mutex<HashMap<String, i64>>,
    /// Every send waits while WeCom penalises the app (45009).
    penalty: penalty::Penalty,
    /// The scripts the exported files are built with ([`Outbound::File`]).
    scripts: Option<Arc<Scripts>>,
    /// Where forwarded evidence is read from ([`Outbound::Evidence`]).
    evidence: Option<EvidenceStore>,
}

impl OutboxSender {
    pub fn new(store: Arc<dyn Store>, client: WeComClient, pacing: Pacing, clock: Clock) -> Self {
        Self {
            store,
            client,
            pacing,
            clock,
            notify: Arc::new(Notify::new()),
            lease: DEFAULT_LEASE,
            batch: DEFAULT_BATCH,
            idle: DEFAULT_IDLE,
            held: Mutex::new(HashMap::new()),
            penalty: penalty::Penalty::default(),
            scripts: None,
            evidence: None,
        }
    }

    /// Reads forwarded evidence ([`Outbound::Evidence`]) from `evidence`.
    pub fn with_evidence(mut self, evidence: EvidenceStore) -> Self {
        self.evidence = Some(evidence);
        self
    }

    /// Builds exported files ([`Outbound::File`]) with `scripts`' headers and words.
    pub fn with_scripts(mut self, scripts: Arc<Scripts>) -> Self {
        self.scripts = Some(scripts);
        self
    }

    /// Claims at most `batch` items per tick, leased for `lease` (renewed every quarter of it
    /// while the batch is delivered).
    pub fn with_batch(mut self, batch: usize, lease: Duration) -> Self {
        self.batch = batch.max(1);
        self.lease = lease;
        self
    }

    /// Sleeps `idle` between ticks while nothing is due (default 75 ms).
    pub fn with_idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Call `notify_one()` on this after queueing outbox items to wake the sender at once.
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// One pass: claims due items and delivers, defers, retries or dead-letters each; channels
    /// concurrently, each channel's items in order.
    pub async fn tick(&self, now_ms: i64) -> TickReport {
        let mut report = TickReport::default();
        let items = match self
            .store
            .claim_outbox(now_ms, self.lease, self.batch)
            .await
        {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "outbox claim failed");
                report.store_errors += 1;
                return report;
            }
        };
        report.claimed = items.len();
        if items.is_empty() {
            return report;
        }
        let started = Instant::now();
        let leased: Mutex<HashSet<u64>> = Mutex::new(items.iter().map(|i| i.id).collect());
        let delivered = Mutex::new(Vec::new());
        let work = futures_util::stream::iter(by_channel(items))
            .map(|items| self.deliver_channel(items, now_ms, started, &leased, &delivered))
            .buffer_unordered(self.pacing.concurrency.max(1))
            .fold(TickReport::default(), |mut sum, one| async move {
                sum += one;
                sum
            });
        tokio::select! {
            done = work => report += done,
            () = self.renew_leases(&leased, now_ms, started) => {}
        }
        self.complete(&delivered.into_inner().unwrap_or_default(), &mut report)
            .await;
        let now = now_ms + started.elapsed().as_millis() as i64;
        lock(&self.held).retain(|_, until| *until > now);
        report
    }

    /// The batch's delivered items, removed in one store operation at the end of the tick (their
    /// leases renewed until then).
    async fn complete(&self, delivered: &[u64], report: &mut TickReport) {
        if delivered.is_empty() {
            return;
        }
        match self.store.complete_outboxes(delivered).await {
            Ok(()) => report.delivered += delivered.len(),
            Err(e) => {
                // Delivered but still leased: they go out again when the lease expires.
                tracing::error!(items = delivered.len(), error = %e, "delivered, but could not complete the outbox items");
                report.store_errors += 1;
            }
        }
    }

    /// One channel's items of a batch, one at a time in id order; the delivered ones are added
    /// to `delivered`.
    async fn deliver_channel(
        &self,
        items: Vec<ClaimedOutbox>,
        now_ms: i64,
        started: Instant,
        leased: &Mutex<HashSet<u64>>,
        delivered: &Mutex<Vec<u64>>,
    ) -> TickReport {
        let mut report = TickReport::default();
        let mut held_in_batch = HashSet::new();
        for item in items {
            let id = item.id;
            // Time passes while a batch is delivered; the limiter must see it.
            let now = now_ms + started.elapsed().as_millis() as i64;
            if started.elapsed() > self.lease / 2 {
                // A slow API: give the channel's rest back, so that this tick ends and the
                // other channels' new items are claimed. Due now, they keep their order.
                let due = self
                    .held_until(&item.channel, now, &held_in_batch)
                    .unwrap_or(now);
                self.defer(&item, due, &mut report).await;
            } else {
                let sent = self
                    .handle(item, now, &mut held_in_batch, &mut report)
                    .await;
                if sent {
                    // Still leased (and renewed) until the tick completes it.
                    lock(delivered).push(id);
                    continue;
                }
            }
            lock(leased).remove(&id);
        }
        report
    }

    /// Renews the leases of the batch's items not yet done, every quarter of the lease; never
    /// completes (the batch's work ends it).
    async fn renew_leases(&self, leased: &Mutex<HashSet<u64>>, now_ms: i64, started: Instant) {
        let every = (self.lease / 4).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let ids: Vec<u64> = lock(leased).iter().copied().collect();
            if ids.is_empty() {
                continue;
            }
            let until = now_ms + (started.elapsed() + self.lease).as_millis() as i64;
            if let Err(e) = self.store.renew_outbox(&ids, until).await {
                tracing::warn!(error = %e, "could not renew the outbox leases");
            }
        }
    }

    /// Ticks until `shutdown` completes; a tick in progress is finished first.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let report = self.tick(self.clock.now_ms()).await;
            let busy = report.delivered + report.retried + report.dead_lettered > 0;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.notify.notified() => {}
                () = tokio::time::sleep(self.idle), if !busy => {}
                () = std::future::ready(()), if busy => {}
            }
        }
        tracing::info!("outbox sender stopped");
    }

    /// A sent interactive card's response code, kept so that the card can be greyed out when
    /// its step is closed without a tap on it (a text decision, a withdrawal).
    async fn remember_card(&self, message: &Outbound, receipt: &Receipt, now: i64) {
        let (
            Outbound::Send {
                body: MessageBody::TemplateCard { card },
                ..
            },
            Some(code),
        ) = (message, &receipt.response_code)
        else {
            return;
        };
        let Some(task_id) = card["task_id"].as_str() else {
            return;
        };
        let expires_at = now + CARD_CODE_LIFETIME.as_millis() as i64;
        if let Err(e) = self.store.put_card_code(task_id, code, expires_at).await {
            tracing::warn!(error = %e, "could not remember a card's response code; it stays live when decided elsewhere");
        }
    }

    /// Delivers, defers or fails one item; whether it was delivered (completed with the tick's
    /// other delivered items).
    async fn handle(
        &self,
        item: ClaimedOutbox,
        now: i64,
        held_in_batch: &mut HashSet<String>,
        report: &mut TickReport,
    ) -> bool {
        let message: Outbound = match serde_json::from_str(&item.payload) {
            Ok(message) => message,
            Err(e) => {
                let error = format!("unparsable outbox payload: {e}");
                tracing::error!(id = item.id, channel = %item.channel, %error, "dead-lettering outbox item");
                self.fail(&item, &error, (None, None), now, report).await;
                return false;
            }
        };
        if let Some(due) = self.held_until(&item.channel, now, held_in_batch) {
            self.defer(&item, due, report).await;
            return false;
        }
        if let Some(due) = self.penalty.until(now) {
            self.hold(&item.channel, due, held_in_batch);
            self.defer(&item, due, report).await;
            return false;
        }
        let (limit, window) = self.pacing.limit_for(&item.channel);
        match self
            .store
            .rate_limit(&item.channel, limit, window, now)
            .await
        {
            Ok(RateDecision::Allowed) => {}
            Ok(RateDecision::RetryAfter(wait)) => {
                let due = now + wait.as_millis() as i64;
                self.hold(&item.channel, due, held_in_batch);
                self.defer(&item, due, report).await;
                return false;
            }
            Err(e) => {
                tracing::warn!(id = item.id, error = %e, "rate limiter unavailable");
                report.store_errors += 1;
                return false;
            }
        }
        let check = once::duplicate_check(&message, item.unknown_since_ms, now);
        if item.unknown_since_ms.is_some() {
            tracing::info!(
                id = item.id,
                channel = %item.channel,
                duplicate_check_s = check.map(|d| d.as_secs()),
                "resending an item whose earlier attempt had an unknown outcome"
            );
        }
        let mut result = match &message {
            Outbound::File { to_user, export } => self.deliver_file(to_user, export).await,
            Outbound::Evidence { to_user, evidence } => {
                self.deliver_evidence(to_user, evidence).await
            }
            message => self.client.deliver_checked(message, check).await,
        };
        if let Err(error) = &result
            && once::card_already_delivered(&message, item.unknown_since_ms, error)
        {
            tracing::info!(
                id = item.id,
                "the card's task id was used by the earlier attempt: delivered then"
            );
            result = Ok(Receipt::default());
        }
        if let (
            Err(ApiError::Refused { errcode, .. }),
            Outbound::UpdateCard {
                userids,
                fallback: Some(text),
                ..
            },
        ) = (&result, &message)
        {
            // The card cannot be updated (its response code is spent or expired): say it.
            tracing::info!(
                errcode,
                "card update refused; sending the decision as a message instead"
            );
            let replacement = Outbound::Send {
                to_user: userids.join("|"),
                body: MessageBody::Text {
                    content: text.clone(),
                },
            };
            result = self.client.deliver_with_receipt(&replacement).await;
        }
        match &result {
            Ok(receipt) => self.remember_card(&message, receipt, now).await,
            // Greying out a card nobody must be told about (a stale tap, the other copies of a
            // decided step) is best effort: a spent or expired code means there is nothing to do.
            Err(ApiError::Refused { errcode, .. })
                if matches!(message, Outbound::UpdateCard { fallback: None, .. }) =>
            {
                tracing::info!(errcode, "card update refused; the card stays as it is");
                result = Ok(Receipt::default());
            }
            Err(_) => {}
        }
        crate::runtime::metrics::sent(&result);
        match &result {
            Err(ApiError::RateLimited {
                errcode: penalty::OVER_LIMIT,
            }) => {
                let until = self.penalty.strike(now, &self.pacing);
                tracing::warn!(until, "WeCom answered 45009: every send waits");
            }
            Err(_) => {}
            Ok(_) => self.penalty.lift(),
        }
        match result {
            Ok(_) => true,
            Err(error) => {
                let failures = item.failures + 1;
                let first_failed = item.first_failed_ms.unwrap_or(now);
                let retry_at = (error.is_retryable() && self.pacing.may_retry(first_failed, now))
                    .then(|| now + self.pacing.backoff(item.failures).as_millis() as i64);
                let unknown = error.outcome_unknown().then_some(now);
                tracing::warn!(
                    id = item.id,
                    channel = %item.channel,
                    errcode = error.errcode(),
                    failures,
                    retry_at,
                    error = %error,
                    "outbox delivery failed"
                );
                if let Some(retry_at) = retry_at {
                    self.hold(&item.channel, retry_at, held_in_batch);
                }
                self.fail(&item, &error_text(&error), (retry_at, unknown), now, report)
                    .await;
                false
            }
        }
    }

    async fn defer(&self, item: &ClaimedOutbox, due: i64, report: &mut TickReport) {
        match self.store.defer_outbox(item.id, due).await {
            Ok(()) => report.deferred += 1,
            Err(e) => {
                tracing::warn!(id = item.id, error = %e, "could not defer outbox item");
                report.store_errors += 1;
            }
        }
    }

    /// Records a failed attempt: `retry_at` (`None`: dead-letter) and, when its outcome is
    /// unknown, when it started.
    async fn fail(
        &self,
        item: &ClaimedOutbox,
        error: &str,
        (retry_at, unknown_since): (Option<i64>, Option<i64>),
        now: i64,
        report: &mut TickReport,
    ) {
        let failed = self
            .store
            .fail_outbox(item.id, error, retry_at, now, unknown_since);
        match failed.await {
            Ok(FailOutcome::Rescheduled) => report.retried += 1,
            Ok(FailOutcome::DeadLettered) => {
                tracing::error!(id = item.id, channel = %item.channel, error, "outbox item dead-lettered");
                metrics::counter!(crate::runtime::metrics::DEAD_LETTERED).increment(1);
                report.dead_lettered += 1;
            }
            Err(e) => {
                tracing::warn!(id = item.id, error = %e, "could not record the failure");
                report.store_errors += 1;
            }
        }
    }
}

/// The text kept with a failed item: the error, marked when it will not be retried.
fn error_text(error: &ApiError) -> String {
    if error.is_retryable() {
        error.to_string()
    } else {
        format!("{error} (not retryable)")
    }
}
