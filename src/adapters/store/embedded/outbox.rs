//! Outbox transactions of [`super::EmbeddedStore`] that take more than one statement: claiming
//! with leases (renewed while a sender works), failing into dead letters, reading them back and
//! queueing them again.

use rusqlite::{Transaction, params};

use super::exec;

use crate::adapters::store::{ClaimedOutbox, DEAD_LETTER_CAP, DeadLetter, FailOutcome};

/// Returns expired leases to waiting, then leases up to `max` due items until `now + lease_ms`.
pub(super) fn claim(
    tx: &Transaction<'_>,
    now_ms: i64,
    lease_ms: i64,
    max: i64,
) -> rusqlite::Result<Vec<ClaimedOutbox>> {
    // Expired leases go back to waiting, due when their lease ran out; the dead or stalled
    // sender may have sent them: their outcome is unknown from its claim on.
    exec(
        tx,
        "UPDATE outbox SET due_at = lease_until, lease_until = NULL,
                unknown_since = COALESCE(unknown_since, claimed_at)
         WHERE lease_until IS NOT NULL AND lease_until <= ?1",
        [now_ms],
    )?;
    let items = {
        let mut q = tx.prepare_cached(
            "SELECT id, channel, payload, failures, first_failed, unknown_since FROM outbox
             WHERE lease_until IS NULL AND due_at <= ?1
             ORDER BY due_at, id LIMIT ?2",
        )?;
        q.query_map(params![now_ms, max], |r| {
            Ok(ClaimedOutbox {
                id: r.get::<_, i64>(0)? as u64,
                channel: r.get(1)?,
                payload: r.get(2)?,
                failures: r.get(3)?,
                first_failed_ms: r.get(4)?,
                unknown_since_ms: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut lease_it =
        tx.prepare_cached("UPDATE outbox SET lease_until = ?2, claimed_at = ?3 WHERE id = ?1")?;
    for item in &items {
        lease_it.execute(params![
            item.id as i64,
            now_ms.saturating_add(lease_ms),
            now_ms
        ])?;
    }
    Ok(items)
}

/// Extends the leases of the items among `ids` that are still claimed.
pub(super) fn renew(
    tx: &Transaction<'_>,
    ids: &[u64],
    lease_until_ms: i64,
) -> rusqlite::Result<()> {
    let mut renew = tx.prepare_cached(
        "UPDATE outbox SET lease_until = ?2 WHERE id = ?1 AND lease_until IS NOT NULL",
    )?;
    for id in ids {
        renew.execute(params![*id as i64, lease_until_ms])?;
    }
    Ok(())
}

/// Queues the dead letters named by `ids` (all when empty) again, due at `now_ms`, oldest
/// first, and removes them from the dead letters. Returns the ids queued.
pub(super) fn resend(tx: &Transaction<'_>, ids: &[u64], now_ms: i64) -> rusqlite::Result<Vec<u64>> {
    let letters: Vec<(i64, i64, String, String)> = {
        let mut q =
            tx.prepare_cached("SELECT seq, id, channel, payload FROM dead_letters ORDER BY seq")?;
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut queued = Vec::new();
    for (seq, id, channel, payload) in letters {
        if !ids.is_empty() && !ids.contains(&(id as u64)) {
            continue;
        }
        let inserted = exec(
            tx,
            "INSERT OR IGNORE INTO outbox (id, channel, payload, failures, due_at)
             VALUES (?1, ?2, ?3, 0, ?4)",
            params![id, channel, payload, now_ms],
        )?;
        if inserted > 0 {
            queued.push(id as u64);
        }
        exec(tx, "DELETE FROM dead_letters WHERE seq = ?1", [seq])?;
    }
    Ok(queued)
}

/// How a failed attempt is recorded (see [`fail`]).
pub(super) struct Retry {
    /// Due again then; `None`: dead-lettered.
    pub at_ms: Option<i64>,
    pub now_ms: i64,
    /// The attempt's start, when its outcome is unknown.
    pub unknown_since_ms: Option<i64>,
}

/// Counts a failed delivery: due again at `retry_at_ms`, or moved to the capped dead letters.
pub(super) fn fail(
    tx: &Transaction<'_>,
    id: i64,
    error: &str,
    retry: Retry,
) -> rusqlite::Result<FailOutcome> {
    let now_ms = retry.now_ms;
    if let Some(at) = retry.at_ms {
        exec(
            tx,
            "UPDATE outbox SET failures = failures + 1, due_at = ?2, lease_until = NULL,
                    first_failed = COALESCE(first_failed, ?3),
                    unknown_since = COALESCE(unknown_since, ?4)
             WHERE id = ?1",
            params![id, at, now_ms, retry.unknown_since_ms],
        )?;
        return Ok(FailOutcome::Rescheduled);
    }
    let moved = exec(
        tx,
        "INSERT INTO dead_letters (id, channel, payload, failures, last_error, failed_at)
         SELECT id, channel, payload, failures + 1, ?2, ?3 FROM outbox WHERE id = ?1",
        params![id, error, now_ms],
    )?;
    if moved > 0 {
        exec(tx, "DELETE FROM outbox WHERE id = ?1", [id])?;
        exec(
            tx,
            "DELETE FROM dead_letters WHERE seq <= (SELECT MAX(seq) FROM dead_letters) - ?1",
            [DEAD_LETTER_CAP as i64],
        )?;
    }
    Ok(FailOutcome::DeadLettered)
}

/// The most recent dead letters, newest first.
pub(super) fn dead_letters(tx: &Transaction<'_>, limit: i64) -> rusqlite::Result<Vec<DeadLetter>> {
    let mut q = tx.prepare_cached(
        "SELECT id, channel, payload, failures, last_error, failed_at FROM dead_letters
         ORDER BY seq DESC LIMIT ?1",
    )?;
    q.query_map([limit], |r| {
        Ok(DeadLetter {
            id: r.get::<_, i64>(0)? as u64,
            channel: r.get(1)?,
            payload: r.get(2)?,
            failures: r.get(3)?,
            last_error: r.get(4)?,
            failed_at_ms: r.get(5)?,
        })
    })?
    .collect()
}
