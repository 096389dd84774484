//! Durable timers in the embedded store: an indexed table, each operation one transaction run by
//! [`super::EmbeddedStore`]. Firing moves due rows into the event queue in the same transaction.

use rusqlite::{Transaction, params};

use super::{enqueue_in, query_row};
use crate::adapters::store::{NewEvent, Timer, timer_dedupe_key};

pub(super) fn schedule(tx: &Transaction<'_>, timer: &Timer) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT OR REPLACE INTO timers (id, due_at, conversation, payload)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    upsert.execute(params![
        timer.id,
        timer.due_ms,
        timer.conversation,
        timer.payload
    ])?;
    Ok(())
}

pub(super) fn cancel(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    let mut delete = tx.prepare_cached("DELETE FROM timers WHERE id = ?1")?;
    Ok(delete.execute([id])? > 0)
}

/// Cancels then schedules, as a [`crate::adapters::store::Commit`] asks.
pub(super) fn apply_commit(
    tx: &Transaction<'_>,
    cancel_ids: &[String],
    schedule_timers: &[Timer],
) -> rusqlite::Result<()> {
    for id in cancel_ids {
        cancel(tx, id)?;
    }
    for timer in schedule_timers {
        schedule(tx, timer)?;
    }
    Ok(())
}

/// See [`crate::adapters::store::Store::fire_due_timers`].
pub(super) fn fire_due(
    tx: &Transaction<'_>,
    now_ms: i64,
    limit: i64,
    dedupe_ttl_ms: i64,
) -> rusqlite::Result<Vec<String>> {
    let due: Vec<Timer> = {
        let mut q = tx.prepare_cached(
            "SELECT id, due_at, conversation, payload FROM timers
             WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        )?;
        q.query_map(params![now_ms, limit], |r| {
            Ok(Timer {
                id: r.get(0)?,
                due_ms: r.get(1)?,
                conversation: r.get(2)?,
                payload: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut fired = Vec::with_capacity(due.len());
    for timer in due {
        cancel(tx, &timer.id)?;
        let event = NewEvent {
            conversation: timer.conversation,
            payload: timer.payload,
        };
        let key = timer_dedupe_key(&timer.id, timer.due_ms);
        enqueue_in(tx, &key, dedupe_ttl_ms, &event, now_ms)?;
        fired.push(timer.id);
    }
    Ok(fired)
}

pub(super) fn overdue(tx: &Transaction<'_>, now_ms: i64) -> rusqlite::Result<u64> {
    query_row(
        tx,
        "SELECT COUNT(*) FROM timers WHERE due_at <= ?1",
        [now_ms],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

pub(super) fn pending(tx: &Transaction<'_>) -> rusqlite::Result<u64> {
    query_row(tx, "SELECT COUNT(*) FROM timers", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}
