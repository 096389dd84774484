//! The embedded backend: one SQLite file (WAL, `synchronous=FULL`), each operation atomic (its
//! own savepoint), for a single process.
//!
//! One writer thread owns the connection and commits queued operations in batches ([`writer`]:
//! group commit, one fsync per batch, results released after the commit). One process writes:
//! `open` takes an exclusive lock on a small companion file (`flowbot.lock`, an SQLite file in
//! `locking_mode=EXCLUSIVE`, held until the store is dropped), so a second process (or a second
//! `open` in this one) is refused. The records file itself is in WAL mode with normal locking,
//! so [`EmbeddedStore::open_read_only`] (`flowbot export`, `flowbot form`) reads a consistent
//! snapshot while the bot runs, without blocking it.
//! Expiring rows (dedupe keys, done markers, locks, tokens, conversation states) carry an
//! `expires_at` that is checked on read; expired dedupe, done and state rows are swept now and
//! then. Cases, their history and indexes, and number series never expire ([`records`]).
//! Durable timers are an indexed table ([`timers`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, params};

use super::{
    Backlog, CachedToken, CaseRecord, Claim, ClaimedEvent, ClaimedOutbox, Commit, CommitOutcome,
    DeadLetter, Enqueue, FailOutcome, LockToken, NewEvent, OutboxItem, QueueStats, RateDecision,
    SetAsideEvent, Store, StoreError, StoreResult, Timer, VersionedState, random_token,
};
use crate::base::clock::Clock;

mod aside;
mod events;
mod outbox;
mod records;
mod timers;
mod writer;

use writer::Writer;

/// The file name inside the store directory.
pub const FILE_NAME: &str = "flowbot.sqlite";
/// The companion file whose exclusive lock marks the one writing process.
pub const LOCK_FILE_NAME: &str = "flowbot.lock";
const SCHEMA: &str = include_str!("schema.sql");
/// Expired dedupe and done rows are swept once every this many enqueues.
const SWEEP_EVERY: u64 = 1024;
/// At most this many expired rows are deleted per table per sweep (keeps a sweep short).
const SWEEP_BATCH: i64 = 5000;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Store in `<dir>/flowbot.sqlite`, for one process.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Inner>,
    /// Judges conversation expiry where the trait passes no time.
    clock: Clock,
}

struct Inner {
    writer: Writer,
    path: PathBuf,
    enqueues: AtomicU64,
    /// The writer's lock on [`LOCK_FILE_NAME`] (`None` when read-only); released when dropped,
    /// after the writer (fields drop in order).
    _lock: Option<Mutex<Connection>>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn map_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// `execute` through the connection's statement cache: parsing each statement anew took about a
/// fifth of the writer thread's time under load (measured with `perf`).
pub(super) fn exec<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the connection's statement cache (see [`exec`]).
pub(super) fn query_row<T, P, F>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: F,
) -> rusqlite::Result<T>
where
    P: rusqlite::Params,
    F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
{
    conn.prepare_cached(sql)?.query_row(params, f)
}

/// Statements kept prepared per connection (every statement of the store fits).
const STATEMENT_CACHE: usize = 256;

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

impl EmbeddedStore {
    /// Opens (creating if needed) `<dir>/flowbot.sqlite`. Fails with a clear error if another
    /// process, or another `EmbeddedStore` in this one, has it open.
    pub fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create store dir {}: {e}", dir.display()))
        })?;
        let path = dir.join(FILE_NAME);
        let in_use = || {
            StoreError::Unavailable(format!(
                "embedded store {} is in use by another process (or another store in this one); \
                 the embedded store serves a single replica: stop the other one or use Redis",
                path.display()
            ))
        };
        let lock = match take_lock(&dir.join(LOCK_FILE_NAME)) {
            Ok(lock) => lock,
            Err(e) if is_busy(&e) => return Err(in_use()),
            Err(e) => return Err(map_err(e)),
        };
        let conn = Connection::open(&path).map_err(map_err)?;
        // A reader (`flowbot export`) never holds the write lock for long.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
        let setup = (|| -> rusqlite::Result<()> {
            // Normal locking (also for a file an older flowbot kept exclusive), so readers in
            // other processes can share the WAL index.
            conn.pragma_update(None, "locking_mode", "NORMAL")?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.execute_batch("BEGIN IMMEDIATE;")?;
            conn.execute_batch(SCHEMA)?;
            migrate(&conn)?;
            conn.execute_batch("COMMIT;")
        })();
        setup.map_err(map_err)?;
        Ok(Self::with_connection(conn, path, Some(lock), false))
    }

    /// Opens `<dir>/flowbot.sqlite` to read the records, also while the bot (the writing
    /// process) runs: a read-only connection that takes no lock a writer waits for, reading a
    /// consistent snapshot per operation. Every write fails. For `flowbot export` and
    /// `flowbot form`.
    pub fn open_read_only(dir: &Path) -> StoreResult<Self> {
        let (conn, path) = open_existing(dir, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        Ok(Self::with_connection(conn, path, None, true))
    }

    /// Opens `<dir>/flowbot.sqlite` for an operator's short writes (`flowbot dead-letters
    /// --resend`) while the bot may be running: a read-write connection without the writing
    /// process's lock, so each operation is one transaction that SQLite's own locking
    /// serialises with the bot's (waiting up to the busy timeout). Creates nothing.
    pub fn open_for_operator(dir: &Path) -> StoreResult<Self> {
        let (conn, path) = open_existing(dir, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(map_err)?;
        Ok(Self::with_connection(conn, path, None, false))
    }

    fn with_connection(
        conn: Connection,
        path: PathBuf,
        lock: Option<Connection>,
        read_only: bool,
    ) -> Self {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Self {
            inner: Arc::new(Inner {
                writer: Writer::start(conn, read_only),
                path,
                enqueues: AtomicU64::new(0),
                _lock: lock.map(Mutex::new),
            }),
            clock: Clock::default(),
        }
    }

    /// Judges conversation expiry on `clock` (the application's) instead of the wall clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` atomically and durably (see [`writer`]: group commit).
    async fn tx<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        self.inner.writer.run(f).await
    }
}

/// Takes the writer's lock: `path` opened in `locking_mode=EXCLUSIVE` and written once, so its
/// exclusive lock is held until the connection closes. Busy (without waiting) when another
/// store holds it.
fn take_lock(path: &Path) -> rusqlite::Result<Connection> {
    let lock = Connection::open(path)?;
    lock.busy_timeout(Duration::ZERO)?;
    lock.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    lock.execute_batch(
        "BEGIN EXCLUSIVE;
         CREATE TABLE IF NOT EXISTS writer (pid INTEGER);
         DELETE FROM writer;
         INSERT INTO writer (pid) VALUES (1);
         COMMIT;",
    )?;
    Ok(lock)
}

/// A connection to the existing `<dir>/flowbot.sqlite` opened with `flags` (never creating it),
/// waiting up to [`BUSY_TIMEOUT`] for the writing process; for readers and operators.
fn open_existing(dir: &Path, flags: OpenFlags) -> StoreResult<(Connection, PathBuf)> {
    let path = dir.join(FILE_NAME);
    if !path.is_file() {
        return Err(StoreError::Unavailable(format!(
            "no embedded store at {} (nothing was ever recorded there)",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(&path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(map_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    Ok((conn, path))
}

/// Brings a file created by an older flowbot up to [`SCHEMA`] (which only creates what is missing).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_case_version = conn
        .prepare("SELECT 1 FROM pragma_table_info('cases') WHERE name = 'version'")?
        .exists([])?;
    if !has_case_version {
        // Cases filed before versions existed count as written once.
        conn.execute_batch("ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;")?;
    }
    let has_enqueued_at = conn
        .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'enqueued_at'")?
        .exists([])?;
    if !has_enqueued_at {
        conn.execute_batch(
            "ALTER TABLE events ADD COLUMN enqueued_at INTEGER NOT NULL DEFAULT 0;",
        )?;
    }
    // Outbox items queued before retries were timed and outcomes tracked.
    for column in ["claimed_at", "first_failed", "unknown_since"] {
        let present = conn
            .prepare("SELECT 1 FROM pragma_table_info('outbox') WHERE name = ?1")?
            .exists([column])?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE outbox ADD COLUMN {column} INTEGER;"))?;
        }
    }
    Ok(())
}

fn sweep(tx: &Transaction<'_>, now_ms: i64) -> rusqlite::Result<()> {
    exec(
        tx,
        "DELETE FROM dedupe WHERE key IN
           (SELECT key FROM dedupe WHERE expires_at <= ?1 LIMIT ?2)",
        params![now_ms, SWEEP_BATCH],
    )?;
    exec(
        tx,
        "DELETE FROM done WHERE event_id IN
           (SELECT event_id FROM done WHERE expires_at <= ?1 LIMIT ?2)",
        params![now_ms, SWEEP_BATCH],
    )?;
    exec(
        tx,
        "DELETE FROM conversation_state WHERE conversation IN
           (SELECT conversation FROM conversation_state WHERE expires_at <= ?1 LIMIT ?2)",
        params![now_ms, SWEEP_BATCH],
    )?;
    Ok(())
}

/// The rows of `table` (one of the store's own table names).
fn count_rows(tx: &Transaction<'_>, table: &str) -> rusqlite::Result<u64> {
    query_row(tx, &format!("SELECT COUNT(*) FROM {table}"), [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// Queues `event` unless `key` was seen within its window (the body of
/// [`Store::dedupe_and_enqueue`], shared with firing timers).
fn enqueue_in(
    tx: &Transaction<'_>,
    key: &str,
    ttl_ms: i64,
    event: &NewEvent,
    now_ms: i64,
) -> rusqlite::Result<Enqueue> {
    let seen: Option<i64> = query_row(
        tx,
        "SELECT event_id FROM dedupe WHERE key = ?1 AND expires_at > ?2",
        params![key, now_ms],
        |r| r.get(0),
    )
    .optional()?;
    if let Some(id) = seen {
        return Ok(Enqueue::Duplicate {
            event_id: id as u64,
        });
    }
    exec(
        tx,
        "INSERT INTO events (conversation, payload, enqueued_at) VALUES (?1, ?2, ?3)",
        params![event.conversation, event.payload, now_ms],
    )?;
    let id = tx.last_insert_rowid();
    exec(
        tx,
        "INSERT OR REPLACE INTO dedupe (key, event_id, expires_at) VALUES (?1, ?2, ?3)",
        params![key, id, now_ms.saturating_add(ttl_ms)],
    )?;
    Ok(Enqueue::Accepted {
        event_id: id as u64,
    })
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn dedupe_and_enqueue(
        &self,
        dedupe_key: &str,
        ttl: Duration,
        event: &NewEvent,
        now_ms: i64,
    ) -> StoreResult<Enqueue> {
        let (key, event) = (dedupe_key.to_owned(), event.clone());
        let sweep_now = self
            .inner
            .enqueues
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY);
        self.tx(move |tx| {
            if sweep_now {
                sweep(tx, now_ms)?;
            }
            enqueue_in(tx, &key, ms(ttl), &event, now_ms)
        })
        .await
    }

    async fn claim_events(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<Claim>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let until = now_ms.saturating_add(ms(lease));
        self.tx(move |tx| events::claim_events(tx, now_ms, until, max))
            .await
    }

    async fn complete_events(
        &self,
        batch: &[(ClaimedEvent, Commit)],
        now_ms: i64,
    ) -> StoreResult<Vec<CommitOutcome>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.tx(move |tx| events::complete_events(tx, &batch, now_ms))
            .await
    }

    async fn defer_event(
        &self,
        event: &ClaimedEvent,
        until_ms: i64,
        notice: &[OutboxItem],
        now_ms: i64,
    ) -> StoreResult<bool> {
        let (event, notice) = (event.clone(), notice.to_vec());
        self.tx(move |tx| aside::defer_event(tx, &event, until_ms, &notice, now_ms))
            .await
    }

    async fn set_aside_event(
        &self,
        event: &ClaimedEvent,
        reason: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let (event, reason) = (event.clone(), reason.to_owned());
        self.tx(move |tx| aside::set_aside_event(tx, &event, &reason, now_ms))
            .await
    }

    async fn set_aside_events(&self) -> StoreResult<Vec<SetAsideEvent>> {
        self.tx(aside::set_aside_events).await
    }

    async fn rerun_set_aside(&self, event_id: u64, _now_ms: i64) -> StoreResult<Option<u64>> {
        self.tx(move |tx| aside::rerun_set_aside(tx, event_id))
            .await
    }

    async fn load_conversation(&self, conversation: &str) -> StoreResult<Option<VersionedState>> {
        // The trait takes no time here: expiry is judged by the store's clock.
        let (conversation, now_ms) = (conversation.to_owned(), self.clock.now_ms());
        self.tx(move |tx| records::load_state(tx, &conversation, now_ms))
            .await
    }

    async fn get_case(&self, number: &str) -> StoreResult<Option<CaseRecord>> {
        let number = number.to_owned();
        self.tx(move |tx| records::get_case(tx, &number)).await
    }

    async fn cases_in(&self, index: &str) -> StoreResult<Vec<String>> {
        let index = index.to_owned();
        self.tx(move |tx| records::cases_in(tx, &index)).await
    }

    async fn next_number(&self, series: &str) -> StoreResult<u64> {
        let series = series.to_owned();
        self.tx(move |tx| records::next_number(tx, &series)).await
    }

    async fn claim_outbox(
        &self,
        now_ms: i64,
        lease: Duration,
        max: usize,
    ) -> StoreResult<Vec<ClaimedOutbox>> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.tx(move |tx| outbox::claim(tx, now_ms, ms(lease), max))
            .await
    }

    async fn complete_outboxes(&self, ids: &[u64]) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.tx(move |tx| {
            for id in ids {
                exec(tx, "DELETE FROM outbox WHERE id = ?1", [id as i64])?;
            }
            Ok(())
        })
        .await
    }

    async fn defer_outbox(&self, id: u64, due_ms: i64) -> StoreResult<()> {
        self.tx(move |tx| {
            exec(
                tx,
                "UPDATE outbox SET due_at = ?2, lease_until = NULL WHERE id = ?1",
                params![id as i64, due_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn fail_outbox(
        &self,
        id: u64,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
        unknown_since_ms: Option<i64>,
    ) -> StoreResult<FailOutcome> {
        let error = error.to_owned();
        let retry = outbox::Retry {
            at_ms: retry_at_ms,
            now_ms,
            unknown_since_ms,
        };
        self.tx(move |tx| outbox::fail(tx, id as i64, &error, retry))
            .await
    }

    async fn renew_outbox(&self, ids: &[u64], lease_until_ms: i64) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.tx(move |tx| outbox::renew(tx, &ids, lease_until_ms))
            .await
    }

    async fn resend_dead_letters(&self, ids: &[u64], now_ms: i64) -> StoreResult<Vec<u64>> {
        let ids = ids.to_vec();
        self.tx(move |tx| outbox::resend(tx, &ids, now_ms)).await
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.tx(move |tx| outbox::dead_letters(tx, limit)).await
    }

    async fn queued_events(&self) -> StoreResult<u64> {
        self.tx(|tx| count_rows(tx, "events")).await
    }

    async fn queue_stats(&self) -> StoreResult<QueueStats> {
        self.tx(|tx| {
            Ok(QueueStats {
                events: count_rows(tx, "events")?,
                outbox: count_rows(tx, "outbox")?,
                dead_letters: count_rows(tx, "dead_letters")?,
            })
        })
        .await
    }

    async fn get_token(&self, app: &str, now_ms: i64) -> StoreResult<Option<CachedToken>> {
        let app = app.to_owned();
        self.tx(move |tx| {
            query_row(
                tx,
                "SELECT token, expires_at FROM tokens WHERE app = ?1 AND expires_at > ?2",
                params![app, now_ms],
                |r| {
                    Ok(CachedToken {
                        token: r.get(0)?,
                        expires_at_ms: r.get(1)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    async fn put_token(&self, app: &str, token: &CachedToken) -> StoreResult<()> {
        let (app, token) = (app.to_owned(), token.clone());
        self.tx(move |tx| {
            exec(
                tx,
                "INSERT OR REPLACE INTO tokens (app, token, expires_at) VALUES (?1, ?2, ?3)",
                params![app, token.token, token.expires_at_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn put_card_code(
        &self,
        task_id: &str,
        code: &str,
        expires_at_ms: i64,
    ) -> StoreResult<()> {
        let (task_id, code) = (task_id.to_owned(), code.to_owned());
        let now_ms = self.clock.now_ms();
        self.tx(move |tx| {
            exec(
                tx,
                "DELETE FROM card_codes WHERE expires_at <= ?1",
                params![now_ms],
            )?;
            exec(
                tx,
                "INSERT OR REPLACE INTO card_codes (task_id, code, expires_at) VALUES (?1, ?2, ?3)",
                params![task_id, code, expires_at_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn card_codes(
        &self,
        task_ids: &[String],
        now_ms: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let task_ids = task_ids.to_vec();
        self.tx(move |tx| {
            let mut query = tx.prepare_cached(
                "SELECT code FROM card_codes WHERE task_id = ?1 AND expires_at > ?2",
            )?;
            let mut codes = Vec::new();
            for task_id in task_ids {
                if let Some(code) = query
                    .query_row(params![task_id, now_ms], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    codes.push((task_id, code));
                }
            }
            Ok(codes)
        })
        .await
    }

    async fn invalidate_token(&self, app: &str, failed: &str) -> StoreResult<()> {
        let (app, failed) = (app.to_owned(), failed.to_owned());
        self.tx(move |tx| {
            exec(
                tx,
                "DELETE FROM tokens WHERE app = ?1 AND token = ?2",
                params![app, failed],
            )
            .map(drop)
        })
        .await
    }

    async fn try_lock(
        &self,
        name: &str,
        ttl: Duration,
        now_ms: i64,
    ) -> StoreResult<Option<LockToken>> {
        let name = name.to_owned();
        self.tx(move |tx| {
            let held = query_row(
                tx,
                "SELECT 1 FROM locks WHERE name = ?1 AND expires_at > ?2",
                params![name, now_ms],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
            if held {
                return Ok(None);
            }
            let token = random_token();
            exec(
                tx,
                "INSERT OR REPLACE INTO locks (name, token, expires_at) VALUES (?1, ?2, ?3)",
                params![name, token, now_ms.saturating_add(ms(ttl))],
            )?;
            Ok(Some(LockToken { name, token }))
        })
        .await
    }

    async fn unlock(&self, lock: &LockToken) -> StoreResult<()> {
        let lock = lock.clone();
        self.tx(move |tx| {
            exec(
                tx,
                "DELETE FROM locks WHERE name = ?1 AND token = ?2",
                params![lock.name, lock.token],
            )
            .map(drop)
        })
        .await
    }

    async fn rate_limit(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now_ms: i64,
    ) -> StoreResult<RateDecision> {
        let key = key.to_owned();
        let window = ms(window);
        self.tx(move |tx| {
            // The window is (now - window, now]: a call at t stops counting at t + window.
            exec(
                tx,
                "DELETE FROM rate_log WHERE key = ?1 AND at <= ?2",
                params![key, now_ms.saturating_sub(window)],
            )?;
            let (count, oldest): (i64, Option<i64>) = query_row(
                tx,
                "SELECT COUNT(*), MIN(at) FROM rate_log WHERE key = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if count < i64::from(limit) {
                exec(
                    tx,
                    "INSERT INTO rate_log (key, at) VALUES (?1, ?2)",
                    params![key, now_ms],
                )?;
                return Ok(RateDecision::Allowed);
            }
            let wait = oldest
                .map_or(window, |o| o.saturating_add(window) - now_ms)
                .max(1);
            Ok(RateDecision::RetryAfter(Duration::from_millis(wait as u64)))
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.tx(|tx| query_row(tx, "SELECT 1", [], |_| Ok(())))
            .await
    }

    async fn ping_write(&self, now_ms: i64) -> StoreResult<()> {
        self.tx(move |tx| {
            exec(
                tx,
                "INSERT OR REPLACE INTO readiness (id, written_at) VALUES (1, ?1)",
                [now_ms],
            )
            .map(|_| ())
        })
        .await
    }

    async fn schedule_timer(&self, timer: &Timer) -> StoreResult<()> {
        let timer = timer.clone();
        self.tx(move |tx| timers::schedule(tx, &timer)).await
    }

    async fn cancel_timer(&self, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.tx(move |tx| timers::cancel(tx, &id)).await
    }

    async fn fire_due_timers(
        &self,
        now_ms: i64,
        limit: usize,
        dedupe_ttl: Duration,
    ) -> StoreResult<Vec<String>> {
        if limit == 0 {
            return Ok(vec![]);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.tx(move |tx| timers::fire_due(tx, now_ms, limit, ms(dedupe_ttl)))
            .await
    }

    async fn pending_timers(&self) -> StoreResult<u64> {
        self.tx(timers::pending).await
    }

    async fn backlog(&self, now_ms: i64) -> StoreResult<Backlog> {
        self.tx(move |tx| {
            let oldest: Option<i64> = query_row(
                tx,
                "SELECT enqueued_at FROM events ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
            Ok(Backlog {
                oldest_event_ms: oldest.filter(|at| *at > 0),
                overdue_timers: timers::overdue(tx, now_ms)?,
            })
        })
        .await
    }
}
