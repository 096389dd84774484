//! The Redis backend: one [`RedisConnection`] (a single Redis through a `ConnectionManager`, TCP_NODELAY
//! on, or a Redis Cluster; cloned per call), one Lua script
//! per multi-key invariant, every script one EVALSHA round trip. Key layout: [`super::keys`].
//!
//! Time comes from the caller (`now_ms`): expiries that decide outcomes (dedupe window, locks,
//! tokens, leases, rate-limit log) are stored as timestamps and compared in the scripts. Redis
//! TTLs (PX) are only a cleanup safety net on top. The exception is the conversation state, whose
//! 30-day sliding TTL is the expiry itself. Conversation state, cases and number series:
//! [`records`]; durable timers: [`timers`]; the worker's batched claim and commit: [`events`].

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::{ErrorKind, RedisError, Script};
use serde::Deserialize;

use super::keys::{Keys, outbox_member};
use super::{
    Backlog, CachedToken, CaseRecord, Claim, ClaimedEvent, ClaimedOutbox, Commit, CommitOutcome,
    DEAD_LETTER_CAP, DeadLetter, Enqueue, FailOutcome, LockToken, NewEvent, OutboxItem, QueueStats,
    RateDecision, SetAsideEvent, Store, StoreError, StoreResult, Timer, VersionedState,
    random_token,
};
use crate::base::clock::Clock;
pub use connection::{RedisConnection, delete_matching};

mod aside;
mod backlog;
mod connection;
mod events;
mod records;
mod timers;

/// Minimum cleanup TTL of a cached token, whatever its `expires_at` says (clock skew margin).
const TOKEN_MIN_TTL_MS: i64 = 60_000;

struct Scripts {
    enqueue: Script,
    claim_events: Script,
    complete_events: Script,
    claim_outbox: Script,
    outbox_done: Script,
    outbox_defer: Script,
    outbox_fail: Script,
    outbox_renew: Script,
    dead_resend: Script,
    try_lock: Script,
    compare_delete: Script,
    rate_limit: Script,
    timer_schedule: Script,
    timer_cancel: Script,
    timer_fire: Script,
}

static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    enqueue: Script::new(include_str!("lua/enqueue.lua")),
    claim_events: Script::new(include_str!("lua/claim_events.lua")),
    complete_events: Script::new(concat!(
        include_str!("lua/finish_event.lua"),
        include_str!("lua/complete_events.lua")
    )),
    claim_outbox: Script::new(include_str!("lua/claim_outbox.lua")),
    outbox_done: Script::new(include_str!("lua/outbox_done.lua")),
    outbox_defer: Script::new(include_str!("lua/outbox_defer.lua")),
    outbox_fail: Script::new(include_str!("lua/outbox_fail.lua")),
    outbox_renew: Script::new(include_str!("lua/outbox_renew.lua")),
    dead_resend: Script::new(include_str!("lua/dead_resend.lua")),
    try_lock: Script::new(include_str!("lua/try_lock.lua")),
    compare_delete: Script::new(include_str!("lua/compare_delete.lua")),
    rate_limit: Script::new(include_str!("lua/rate_limit.lua")),
    timer_schedule: Script::new(include_str!("lua/timer_schedule.lua")),
    timer_cancel: Script::new(include_str!("lua/timer_cancel.lua")),
    timer_fire: Script::new(include_str!("lua/timer_fire.lua")),
});

/// Store on Redis under a key prefix.
#[derive(Clone)]
pub struct RedisStore {
    con: RedisConnection,
    keys: Keys,
    /// Sets the cleanup TTL of cached tokens.
    clock: Clock,
}

fn map_err(e: RedisError) -> StoreError {
    match e.kind() {
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Splits a `<expires_at_ms>:<text>` value.
fn split_stamped(v: &str) -> StoreResult<(i64, &str)> {
    v.split_once(':')
        .and_then(|(exp, rest)| Some((exp.parse().ok()?, rest)))
        .ok_or_else(|| StoreError::Corrupt(format!("bad stamped value {v:?}")))
}

fn parse_member(m: &str) -> StoreResult<u64> {
    m.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad outbox id {m:?}")))
}

/// A dead letter as the fail script stores it (all strings, to dodge cjson number formatting).
#[derive(Deserialize)]
struct StoredDeadLetter {
    id: String,
    channel: String,
    payload: String,
    failures: String,
    error: String,
    at: String,
}

impl RedisStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`) and keeps every key under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let keys = Keys::new(prefix).ok_or_else(|| {
            StoreError::Unavailable(format!("invalid Redis key prefix {prefix:?}: no braces"))
        })?;
        let con = RedisConnection::open(url).await.map_err(map_err)?;
        Ok(Self {
            con,
            keys,
            clock: Clock::default(),
        })
    }

    /// Reads time from `clock` (the application's) instead of the wall clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The key builder (for tools and tests).
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Deletes every key under this store's prefix (tests clean up with it; never FLUSHALL):
    /// one script per node, on a cluster sent to every master.
    pub async fn delete_all_keys(&self) -> StoreResult<u64> {
        connection::delete_matching(&self.con, &self.keys.scan_pattern())
            .await
            .map_err(map_err)
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn dedupe_and_enqueue(
        &self,
        dedupe_key: &str,
        ttl: Duration,
        event: &NewEvent,
        now_ms: i64,
    ) -> StoreResult<Enqueue> {
        let k = &self.keys;
        let ttl_ms = ms(ttl).max(1);
        let (accepted, event_id): (i64, u64) = SCRIPTS
            .enqueue
            .key(k.dedupe(dedupe_key))
            .key(k.event_seq())
            .key(k.ready())
            .key(k.leased())
            .key(k.conversation(&event.conversation))
            .key(k.event_count())
            .arg(now_ms)
            .arg(now_ms.saturating_add(ttl_ms))
            .arg(ttl_ms)
            .arg(k.event_prefix())
            .arg(&event.conversation)
            .arg(&event.payload)
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(if accepted == 1 {
            Enqueue::Accepted { event_id }
        } else {
            Enqueue::Duplicate { event_id }
        })
    }

    async fn claim_events(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<Claim>> {
        events::claim_events(&self.con, &self.keys, now_ms, lease, max).await
    }

    async fn complete_events(
        &self,
        batch: &[(ClaimedEvent, Commit)],
        now_ms: i64,
    ) -> StoreResult<Vec<CommitOutcome>> {
        events::complete_events(&self.con, &self.keys, batch, now_ms).await
    }

    async fn defer_event(
        &self,
        event: &ClaimedEvent,
        until_ms: i64,
        notice: &[OutboxItem],
        now_ms: i64,
    ) -> StoreResult<bool> {
        aside::defer_event(&self.con, &self.keys, event, until_ms, notice, now_ms).await
    }

    async fn set_aside_event(
        &self,
        event: &ClaimedEvent,
        reason: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        aside::set_aside_event(&self.con, &self.keys, event, reason, now_ms).await
    }

    async fn set_aside_events(&self) -> StoreResult<Vec<SetAsideEvent>> {
        aside::set_aside_events(&self.con, &self.keys).await
    }

    async fn rerun_set_aside(&self, event_id: u64, _now_ms: i64) -> StoreResult<Option<u64>> {
        aside::rerun_set_aside(&self.con, &self.keys, event_id).await
    }

    async fn load_conversation(&self, conversation: &str) -> StoreResult<Option<VersionedState>> {
        records::load_conversation(&self.con, &self.keys, conversation).await
    }

    async fn get_case(&self, number: &str) -> StoreResult<Option<CaseRecord>> {
        records::get_case(&self.con, &self.keys, number).await
    }

    async fn cases_in(&self, index: &str) -> StoreResult<Vec<String>> {
        records::cases_in(&self.con, &self.keys, index).await
    }

    async fn next_number(&self, series: &str) -> StoreResult<u64> {
        records::next_number(&self.con, &self.keys, series).await
    }

    async fn claim_outbox(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<ClaimedOutbox>> {
        if max == 0 {
            return Ok(vec![]);
        }
        let k = &self.keys;
        type Claimed = (String, String, String, u32, Option<i64>, Option<i64>);
        let got: Vec<Claimed> = SCRIPTS
            .claim_outbox
            .key(k.outbox_due())
            .key(k.outbox_inflight())
            .arg(now_ms)
            .arg(now_ms.saturating_add(ms(lease)))
            .arg(max)
            .arg(k.outbox_item_prefix())
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        got.into_iter()
            .map(|(m, channel, payload, failures, first_failed, unknown)| {
                Ok(ClaimedOutbox {
                    id: parse_member(&m)?,
                    channel,
                    payload,
                    failures,
                    first_failed_ms: first_failed,
                    unknown_since_ms: unknown,
                })
            })
            .collect()
    }

    async fn complete_outboxes(&self, ids: &[u64]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let k = &self.keys;
        let mut script = SCRIPTS.outbox_done.key(k.outbox_due());
        script.key(k.outbox_inflight()).arg(k.outbox_item_prefix());
        for id in ids {
            script.arg(outbox_member(*id));
        }
        let _: i64 = script
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn defer_outbox(&self, id: u64, due_ms: i64) -> StoreResult<()> {
        let k = &self.keys;
        let _: i64 = SCRIPTS
            .outbox_defer
            .key(k.outbox_due())
            .key(k.outbox_inflight())
            .key(k.outbox_item(id))
            .arg(outbox_member(id))
            .arg(due_ms)
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn fail_outbox(
        &self,
        id: u64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
        unknown_since_ms: Option<i64>,
    ) -> StoreResult<FailOutcome> {
        let k = &self.keys;
        let outcome: i64 = SCRIPTS
            .outbox_fail
            .key(k.outbox_due())
            .key(k.outbox_inflight())
            .key(k.outbox_item(id))
            .key(k.dead_letters())
            .arg(outbox_member(id))
            .arg(error)
            .arg(retry_at_ms.map(|t| t.to_string()).unwrap_or_default())
            .arg(now_ms)
            .arg(DEAD_LETTER_CAP)
            .arg(unknown_since_ms.map(|t| t.to_string()).unwrap_or_default())
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(if outcome == 1 {
            FailOutcome::Rescheduled
        } else {
            FailOutcome::DeadLettered
        })
    }

    async fn renew_outbox(&self, ids: &[u64], lease_until_ms: i64) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut script = SCRIPTS.outbox_renew.key(self.keys.outbox_inflight());
        script.arg(lease_until_ms);
        for id in ids {
            script.arg(outbox_member(*id));
        }
        let _: i64 = script
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn resend_dead_letters(&self, ids: &[u64], now_ms: i64) -> StoreResult<Vec<u64>> {
        let k = &self.keys;
        let mut script = SCRIPTS.dead_resend.key(k.outbox_due());
        script
            .key(k.dead_letters())
            .arg(now_ms)
            .arg(k.outbox_item_prefix());
        for id in ids {
            script.arg(outbox_member(*id));
        }
        let members: Vec<String> = script
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        members.iter().map(|m| parse_member(m)).collect()
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        if limit == 0 {
            return Ok(vec![]);
        }
        let raw: Vec<String> = redis::cmd("LRANGE")
            .arg(self.keys.dead_letters())
            .arg(0)
            .arg(limit - 1)
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        raw.iter()
            .map(|json| {
                let d: StoredDeadLetter = serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("dead letter: {e}")))?;
                let num = |s: &str| s.parse().map_err(|_| StoreError::Corrupt(format!("{s:?}")));
                Ok(DeadLetter {
                    id: parse_member(&d.id)?,
                    channel: d.channel,
                    payload: d.payload,
                    failures: num(&d.failures)? as u32,
                    last_error: d.error,
                    failed_at_ms: num(&d.at)?,
                })
            })
            .collect()
    }

    async fn queue_stats(&self) -> StoreResult<QueueStats> {
        let k = &self.keys;
        let (events, due, inflight, dead): (Option<i64>, u64, u64, u64) = redis::pipe()
            .get(k.event_count())
            .zcard(k.outbox_due())
            .zcard(k.outbox_inflight())
            .llen(k.dead_letters())
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(QueueStats {
            events: events.unwrap_or(0).max(0) as u64,
            outbox: due + inflight,
            dead_letters: dead,
        })
    }

    async fn get_token(&self, app: &str, now_ms: i64) -> StoreResult<Option<CachedToken>> {
        let v: Option<String> = redis::cmd("GET")
            .arg(self.keys.token(app))
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        let Some(v) = v else { return Ok(None) };
        let (expires_at_ms, token) = split_stamped(&v)?;
        Ok((expires_at_ms > now_ms).then(|| CachedToken {
            token: token.to_owned(),
            expires_at_ms,
        }))
    }

    async fn put_token(&self, app: &str, token: &CachedToken) -> StoreResult<()> {
        // Validity is decided by `expires_at_ms` on read; the PX only cleans up, so it is based on
        // the store's clock with a margin for skew between replicas.
        let ttl = (token.expires_at_ms - self.clock.now_ms()).max(TOKEN_MIN_TTL_MS);
        let () = redis::cmd("SET")
            .arg(self.keys.token(app))
            .arg(format!("{}:{}", token.expires_at_ms, token.token))
            .arg("PX")
            .arg(ttl)
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn put_card_code(
        &self,
        task_id: &str,
        code: &str,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        let ttl = (expires_at_ms - self.clock.now_ms()).max(1);
        let () = redis::cmd("SET")
            .arg(self.keys.card_code(task_id))
            .arg(format!("{expires_at_ms}:{code}"))
            .arg("PX")
            .arg(ttl)
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn card_codes(
        &self,
        task_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        if task_ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = task_ids.iter().map(|t| self.keys.card_code(t)).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        let mut codes = Vec::new();
        for (task_id, value) in task_ids.iter().zip(values) {
            let Some(value) = value else { continue };
            let (expires_at_ms, code) = split_stamped(&value)?;
            if expires_at_ms > now_ms {
                codes.push((task_id.clone(), code.to_owned()));
            }
        }
        Ok(codes)
    }

    async fn invalidate_token(&self, app: &str, failed: &str) -> StoreResult<()> {
        let _: i64 = SCRIPTS
            .compare_delete
            .key(self.keys.token(app))
            .arg(failed)
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn try_lock(
        &self,
        name: &str,
        ttl: Duration,
        now_ms: i64,
    ) -> StoreResult<Option<LockToken>> {
        let token = random_token();
        let ttl_ms = ms(ttl).max(1);
        let got: i64 = SCRIPTS
            .try_lock
            .key(self.keys.lock(name))
            .arg(now_ms)
            .arg(now_ms.saturating_add(ttl_ms))
            .arg(&token)
            .arg(ttl_ms)
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok((got == 1).then(|| LockToken {
            name: name.to_owned(),
            token,
        }))
    }

    async fn unlock(&self, lock: &LockToken) -> StoreResult<()> {
        let _: i64 = SCRIPTS
            .compare_delete
            .key(self.keys.lock(&lock.name))
            .arg(&lock.token)
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn rate_limit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now_ms: i64,
    ) -> StoreResult<RateDecision> {
        let (allowed, retry_ms): (i64, i64) = SCRIPTS
            .rate_limit
            .key(self.keys.rate_limit(key))
            .arg(now_ms)
            .arg(ms(window))
            .arg(limit)
            .arg(format!("{now_ms}:{}", random_token()))
            .invoke_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(if allowed == 1 {
            RateDecision::Allowed
        } else {
            RateDecision::RetryAfter(Duration::from_millis(retry_ms.max(1) as u64))
        })
    }

    async fn ping(&self) -> StoreResult<()> {
        let () = redis::cmd("PING")
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn ping_write(&self, now_ms: i64) -> StoreResult<()> {
        let () = redis::cmd("SET")
            .arg(self.keys.probe())
            .arg(now_ms)
            .arg("PX")
            .arg(super::PROBE_TTL.as_millis() as u64)
            .query_async(&mut self.con.clone())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn schedule_timer(&self, timer: &Timer) -> StoreResult<()> {
        timers::schedule(&self.con, &self.keys, timer).await
    }

    async fn cancel_timer(&self, id: &str) -> StoreResult<bool> {
        timers::cancel(&self.con, &self.keys, id).await
    }

    async fn fire_due_timers(
        &self,
        now_ms: i64,
        limit: usize,
        dedupe_ttl: Duration,
    ) -> StoreResult<Vec<String>> {
        timers::fire_due(&self.con, &self.keys, now_ms, limit, dedupe_ttl).await
    }

    async fn pending_timers(&self) -> StoreResult<u64> {
        timers::pending(&self.con, &self.keys).await
    }

    async fn backlog(&self, now_ms: i64) -> StoreResult<Backlog> {
        backlog::read(&self.con, &self.keys, now_ms).await
    }
}
