//! Outbox transactions of [`super::EmbeddedStore`] that take more than one statement: claiming
//! with leases, failing into dead letters, and reading them back.

use rusqlite::{Transaction, params};

use crate::adapters::store::{ClaimedOutbox, DEAD_LETTER_CAP, DeadLetter, FailOutcome};

/// Returns expired leases to waiting, then leases up to `max` due items until `now + lease_ms`.
pub(super) fn claim(
    tx: &Transaction<'_>,
    now_ms: i64,
    lease_ms: i64,
    max: i64,
) -> rusqlite::Result<Vec<ClaimedOutbox>> {
    // Expired leases go back to waiting, due when their lease ran out.
    tx.execute(
        "UPDATE outbox SET due_at = lease_until, lease_until = NULL
         WHERE lease_until IS NOT NULL AND lease_until <= ?1",
        [now_ms],
    )?;
    let items = {
        let mut q = tx.prepare_cached(
            "SELECT id, channel, payload, failures FROM outbox
             WHERE lease_until IS NULL AND due_at <= ?1
             ORDER BY due_at, id LIMIT ?2",
        )?;
        q.query_map(params![now_ms, max], |r| {
            Ok(ClaimedOutbox {
                id: r.get::<_, i64>(0)? as u64,
                channel: r.get(1)?,
                payload: r.get(2)?,
                failures: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut lease_it = tx.prepare_cached("UPDATE outbox SET lease_until = ?2 WHERE id = ?1")?;
    for item in &items {
        lease_it.execute(params![item.id as i64, now_ms.saturating_add(lease_ms)])?;
    }
    Ok(items)
}

/// Counts a failed delivery: due again at `retry_at_ms`, or moved to the capped dead letters.
pub(super) fn fail(
    tx: &Transaction<'_>,
    id: i64,
    error: &str,
    retry_at_ms: Option<i64>,
    now_ms: i64,
) -> rusqlite::Result<FailOutcome> {
    if let Some(at) = retry_at_ms {
        tx.execute(
            "UPDATE outbox SET failures = failures + 1, due_at = ?2, lease_until = NULL
             WHERE id = ?1",
            params![id, at],
        )?;
        return Ok(FailOutcome::Rescheduled);
    }
    let moved = tx.execute(
        "INSERT INTO dead_letters (id, channel, payload, failures, last_error, failed_at)
         SELECT id, channel, payload, failures + 1, ?2, ?3 FROM outbox WHERE id = ?1",
        params![id, error, now_ms],
    )?;
    if moved > 0 {
        tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        tx.execute(
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
