//! Events that wait or are set aside, on SQLite: deferring a claimed event while a dependency is
//! down, setting one aside after it failed on its own, listing and re-queueing those. Each runs
//! in one transaction (see the [`crate::adapters::store::Store`] methods of the same names).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{exec, query_row, records};
use crate::adapters::store::{ClaimedEvent, Commit, CommitOutcome, OutboxItem, SetAsideEvent};

pub(super) fn defer_event(
    tx: &Transaction<'_>,
    event: &ClaimedEvent,
    until_ms: i64,
    notice: &[OutboxItem],
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let id = event.event_id as i64;
    let moved = exec(
        tx,
        "UPDATE leases SET lease_until = ?3 WHERE conversation = ?1 AND event_id = ?2",
        params![event.conversation, id, until_ms],
    )?;
    if moved == 0 {
        return Ok(false);
    }
    exec(
        tx,
        "UPDATE events SET attempts = MAX(attempts - 1, 0) WHERE id = ?1",
        [id],
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (channel, payload, failures, due_at) VALUES (?1, ?2, 0, ?3)",
    )?;
    for item in notice {
        insert.execute(params![item.channel, item.payload, now_ms])?;
    }
    Ok(true)
}

pub(super) fn set_aside_event(
    tx: &Transaction<'_>,
    event: &ClaimedEvent,
    reason: &str,
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let id = event.event_id as i64;
    let row: Option<(String, i64)> = query_row(
        tx,
        "SELECT payload, attempts FROM events WHERE id = ?1 AND conversation = ?2",
        params![id, event.conversation],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?;
    let Some((payload, attempts)) = row else {
        return Ok(false);
    };
    if records::complete_event(tx, event, &Commit::default(), now_ms)? != CommitOutcome::Committed {
        return Ok(false);
    }
    exec(
        tx,
        "INSERT OR REPLACE INTO set_aside (event_id, conversation, payload, attempts, reason, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, event.conversation, payload, attempts, reason, now_ms],
    )?;
    Ok(true)
}

pub(super) fn set_aside_events(tx: &Transaction<'_>) -> rusqlite::Result<Vec<SetAsideEvent>> {
    let mut select = tx.prepare(
        "SELECT event_id, conversation, payload, attempts, reason, at_ms FROM set_aside
         ORDER BY event_id",
    )?;
    let rows = select.query_map([], |r| {
        Ok(SetAsideEvent {
            event_id: r.get::<_, i64>(0)? as u64,
            conversation: r.get(1)?,
            payload: r.get(2)?,
            attempts: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            reason: r.get(4)?,
            at_ms: r.get(5)?,
        })
    })?;
    rows.collect()
}

pub(super) fn rerun_set_aside(
    tx: &Transaction<'_>,
    event_id: u64,
) -> rusqlite::Result<Option<u64>> {
    let row: Option<(String, String)> = query_row(
        tx,
        "SELECT conversation, payload FROM set_aside WHERE event_id = ?1",
        [event_id as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?;
    let Some((conversation, payload)) = row else {
        return Ok(None);
    };
    exec(
        tx,
        "INSERT INTO events (conversation, payload) VALUES (?1, ?2)",
        params![conversation, payload],
    )?;
    let id = tx.last_insert_rowid();
    exec(
        tx,
        "DELETE FROM set_aside WHERE event_id = ?1",
        [event_id as i64],
    )?;
    Ok(Some(id as u64))
}
