//! The outbox sender: claims due outbox items, paces them per channel under WeCom's limits,
//! delivers them through [`crate::adapters::wecom::api::WeComClient`], retries failures with back-off and
//! dead-letters what cannot be delivered. A spreadsheet ([`Outbound::File`]) is built from the
//! store when it is delivered, uploaded to WeCom's media and sent as a file message: the queue
//! holds what to export, never the file's bytes.
//!
//! Order per channel: a claimed batch is processed one item at a time, each channel's items in
//! queueing (id) order. When an item of a channel is paced (or fails and will be retried), the
//! channel is *held* until that moment: its following items in the batch, and items of it claimed
//! by later ticks of this process before then, are deferred to the same due time. Equal due times
//! come back in queueing order (the [`Store::claim_outbox`] contract) and in one batch, so they
//! keep their order; staggered due times would not, as the limiter can reopen between them.
//! Limits: order holds per process and while a channel's held items fit in one batch.

mod pacing;

pub use pacing::Pacing;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::adapters::evidence::EvidenceStore;
use crate::adapters::store::{ClaimedOutbox, FailOutcome, RateDecision, Store, StoreError};
use crate::adapters::wecom::api::{ApiError, MessageBody, Outbound, Receipt, WeComClient};
use crate::base::clock::Clock;
use crate::base::locks::lock;
use crate::base::scripts::Scripts;
use crate::domain::evidence::{EvidenceRef, MediaKind};
use crate::domain::records::export::Export;
use crate::runtime::exports;

/// How long a claimed item is leased by default; it must outlast a whole batch.
const DEFAULT_LEASE: Duration = Duration::from_secs(120);
/// How long WeCom accepts a sent card's response code (72 hours), less a margin.
const CARD_CODE_LIFETIME: Duration = Duration::from_secs(71 * 3600);
const DEFAULT_BATCH: usize = 32;
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

    /// Claims at most `batch` items per tick, leased for `lease` (which must outlast a batch).
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

    /// One pass: claims due items and delivers, defers, retries or dead-letters each.
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
        let started = Instant::now();
        let mut held_in_batch = HashSet::new();
        for item in order_per_channel(items) {
            // Time passes while a batch is delivered; the limiter must see it.
            let now = now_ms + started.elapsed().as_millis() as i64;
            if started.elapsed() > self.lease / 2 {
                // A slow API: give the rest back before the lease runs out and another
                // replica sends them a second time. Due now, they keep their order.
                let due = self
                    .held_until(&item.channel, now, &held_in_batch)
                    .unwrap_or(now);
                self.defer(&item, due, &mut report).await;
                continue;
            }
            self.handle(item, now, &mut held_in_batch, &mut report)
                .await;
        }
        let now = now_ms + started.elapsed().as_millis() as i64;
        lock(&self.held).retain(|_, until| *until > now);
        report
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

    async fn handle(
        &self,
        item: ClaimedOutbox,
        now: i64,
        held_in_batch: &mut HashSet<String>,
        report: &mut TickReport,
    ) {
        let message: Outbound = match serde_json::from_str(&item.payload) {
            Ok(message) => message,
            Err(e) => {
                let error = format!("unparsable outbox payload: {e}");
                tracing::error!(id = item.id, channel = %item.channel, %error, "dead-lettering outbox item");
                self.fail(&item, &error, None, now, report).await;
                return;
            }
        };
        if let Some(due) = self.held_until(&item.channel, now, held_in_batch) {
            return self.defer(&item, due, report).await;
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
                return self.defer(&item, due, report).await;
            }
            Err(e) => {
                tracing::warn!(id = item.id, error = %e, "rate limiter unavailable");
                report.store_errors += 1;
                return;
            }
        }
        let mut result = match &message {
            Outbound::File { to_user, export } => self.deliver_file(to_user, export).await,
            Outbound::Evidence { to_user, evidence } => {
                self.deliver_evidence(to_user, evidence).await
            }
            message => self.client.deliver_with_receipt(message).await,
        };
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
        match result {
            Ok(_) => match self.store.complete_outbox(item.id).await {
                Ok(()) => report.delivered += 1,
                Err(e) => {
                    // Delivered but still leased: it will go out again when the lease expires.
                    tracing::error!(id = item.id, error = %e, "delivered, but could not complete the outbox item");
                    report.store_errors += 1;
                }
            },
            Err(error) => {
                let failures = item.failures + 1;
                let retry_at = (error.is_retryable() && failures < self.pacing.max_failures)
                    .then(|| now + self.pacing.backoff(item.failures).as_millis() as i64);
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
                self.fail(&item, &error_text(&error), retry_at, now, report)
                    .await;
            }
        }
    }

    /// A spreadsheet for `to_user`: built from the store as it is now (the queued item names
    /// the export, never holds the file), uploaded, then sent as a file message. A retry builds
    /// and uploads it again.
    async fn deliver_file(&self, to_user: &str, export: &Export) -> Result<Receipt, ApiError> {
        let Some(scripts) = &self.scripts else {
            return Err(ApiError::Invalid(
                "this sender cannot build files (no bot-scripts given)".into(),
            ));
        };
        let (name, bytes) = exports::xlsx_file(self.store.as_ref(), scripts, export)
            .await
            .map_err(|e| match e.downcast_ref::<StoreError>() {
                Some(store) => ApiError::Store(store.to_string()),
                None => ApiError::Invalid(format!("{e:#}")),
            })?;
        let media_id = self.client.upload_file(&name, &bytes).await?;
        tracing::info!(to = %to_user, file = %name, bytes = bytes.len(), "export uploaded");
        let message = Outbound::Send {
            to_user: to_user.to_owned(),
            body: MessageBody::File { media_id },
        };
        self.client.deliver_with_receipt(&message).await
    }

    /// An evidence file for `to_user`: read from the evidence store, uploaded as the app's
    /// media (an image as an image) and sent. A retry reads and uploads it again.
    async fn deliver_evidence(
        &self,
        to_user: &str,
        evidence: &EvidenceRef,
    ) -> Result<Receipt, ApiError> {
        let Some(store) = &self.evidence else {
            return Err(ApiError::Invalid(
                "this sender cannot forward evidence (no evidence store given)".into(),
            ));
        };
        let bytes = store
            .get(&evidence.key)
            .await
            .map_err(|e| ApiError::Store(e.to_string()))?;
        let media_id = self
            .client
            .upload_media(evidence.kind, &evidence.name, &bytes)
            .await?;
        let body = match evidence.kind {
            MediaKind::Image => MessageBody::Image { media_id },
            MediaKind::File => MessageBody::File { media_id },
        };
        let message = Outbound::Send {
            to_user: to_user.to_owned(),
            body,
        };
        self.client.deliver_with_receipt(&message).await
    }

    /// Holds `channel` until `until`: its next items wait for that moment.
    fn hold(&self, channel: &str, until: i64, held_in_batch: &mut HashSet<String>) {
        held_in_batch.insert(channel.to_owned());
        lock(&self.held).insert(channel.to_owned(), until);
    }

    /// The due time for an item of `channel` if the channel is held: always when it was held
    /// earlier in this batch (even if the moment has passed meanwhile), else while `now` is
    /// before the hold ends.
    fn held_until(&self, channel: &str, now: i64, held_in_batch: &HashSet<String>) -> Option<i64> {
        let mut held = lock(&self.held);
        let until = *held.get(channel)?;
        if until > now || held_in_batch.contains(channel) {
            return Some(until);
        }
        held.remove(channel);
        None
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

    async fn fail(
        &self,
        item: &ClaimedOutbox,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
        report: &mut TickReport,
    ) {
        match self.store.fail_outbox(item.id, error, retry_at, now).await {
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

/// Keeps the batch's order of channels but puts each channel's items in id (queueing) order,
/// in case deferrals left their due times out of order.
fn order_per_channel(mut items: Vec<ClaimedOutbox>) -> Vec<ClaimedOutbox> {
    let mut slots: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        slots.entry(item.channel.clone()).or_default().push(i);
    }
    for positions in slots.values() {
        let mut channel: Vec<ClaimedOutbox> = positions.iter().map(|&i| items[i].clone()).collect();
        channel.sort_by_key(|item| item.id);
        for (&i, item) in positions.iter().zip(channel) {
            items[i] = item;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, channel: &str) -> ClaimedOutbox {
        ClaimedOutbox {
            id,
            channel: channel.into(),
            payload: String::new(),
            failures: 0,
        }
    }

    #[test]
    fn batch_is_reordered_by_id_within_each_channel_only() {
        let batch = vec![
            item(5, "a"),
            item(2, "b"),
            item(3, "a"),
            item(1, "b"),
            item(4, "c"),
        ];
        let ordered: Vec<_> = order_per_channel(batch)
            .iter()
            .map(|i| (i.id, i.channel.clone()))
            .collect();
        let expected = [(3, "a"), (1, "b"), (5, "a"), (2, "b"), (4, "c")];
        let expected: Vec<_> = expected.iter().map(|(i, c)| (*i, c.to_string())).collect();
        assert_eq!(ordered, expected);
    }
}
