//! The scheduler: fires durable timers ([`crate::adapters::store::Timer`]) into the event pipeline.
//!
//! Every replica runs one; each tick asks the store to move due timers into the event queue in
//! batches ([`Store::fire_due_timers`] is one atomic step), so a timer fires once however many
//! replicas tick at the same moment. After downtime the first tick catches up: every overdue
//! timer fires once, in due order. Fired timers become events of their conversation, handled by
//! the workers like chat messages; the scheduler wakes them.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;

use crate::adapters::store::{Store, StoreResult};
use crate::base::clock::Clock;

/// Timers taken per store call: a Redis script blocks the server while it runs, so keep it short.
pub const BATCH: usize = 100;
/// How often the scheduler looks for due timers (±20% jitter, so replicas spread out).
pub const INTERVAL: Duration = Duration::from_millis(500);
/// How long a fired timer's dedupe key (`timer:<id>:<due_ms>`) is remembered: a timer
/// re-scheduled for the same moment within this window (re-derived after a failover) fires once.
pub const DEDUPE_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Fires due timers; cheap to clone (clones share the store and the workers' notifier).
#[derive(Clone)]
pub struct Scheduler {
    store: Arc<dyn Store>,
    notify_workers: Arc<Notify>,
    clock: Clock,
    interval: Duration,
    dedupe_ttl: Duration,
}

impl Scheduler {
    /// A scheduler over `store` that wakes the workers through `notify_workers` when it fires.
    pub fn new(store: Arc<dyn Store>, notify_workers: Arc<Notify>, clock: Clock) -> Self {
        Self {
            store,
            notify_workers,
            clock,
            interval: INTERVAL,
            dedupe_ttl: DEDUPE_TTL,
        }
    }

    /// Ticks every `interval` (±20%) instead of [`INTERVAL`].
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Fires every timer due at `now_ms`, in batches of at most [`BATCH`] until none is due, and
    /// wakes the workers after each batch. Returns how many timers it took.
    pub async fn tick(&self, now_ms: i64) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let fired = self
                .store
                .fire_due_timers(now_ms, BATCH, self.dedupe_ttl)
                .await?;
            total += fired.len();
            if !fired.is_empty() {
                // Wake every idle worker, and leave a permit for one that is about to wait.
                self.notify_workers.notify_waiters();
                self.notify_workers.notify_one();
            }
            if fired.len() < BATCH {
                return Ok(total);
            }
        }
    }

    /// Ticks on the clock ([`Clock::now_ms`]) until `shutdown` completes; a tick in progress is
    /// finished first (each batch is atomic, so stopping between batches loses nothing).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.tick(self.clock.now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(fired = n, "scheduler fired timers"),
                Err(e) => tracing::warn!(error = %e, "scheduler: could not fire timers"),
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.jittered()) => {}
            }
        }
        tracing::info!("scheduler stopped");
    }

    fn jittered(&self) -> Duration {
        self.interval
            .mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }
}
