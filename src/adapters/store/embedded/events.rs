//! The event pipeline's two hot operations on the embedded store, each one job of the writer
//! (one savepoint in one group commit) for a whole batch: claiming the head events of distinct
//! unleased conversations together with their conversations' states, and committing what their
//! handling changed (each event's checks before its writes, so a conflict applies nothing of it).

use rusqlite::{OptionalExtension, Transaction, params};

use super::records;
use crate::adapters::store::{Claim, ClaimedEvent, Commit, CommitOutcome};

/// See [`crate::adapters::store::Store::claim_events`].
pub(super) fn claim_events(
    tx: &Transaction<'_>,
    now_ms: i64,
    lease_until: i64,
    max: usize,
) -> rusqlite::Result<Vec<Claim>> {
    tx.prepare_cached("DELETE FROM leases WHERE lease_until <= ?1")?
        .execute([now_ms])?;
    // The oldest event of an unleased conversation is necessarily that conversation's head.
    let mut head = tx.prepare_cached(
        "SELECT id, conversation, payload, attempts FROM events
         WHERE conversation NOT IN (SELECT conversation FROM leases)
         ORDER BY id LIMIT 1",
    )?;
    let mut attempt =
        tx.prepare_cached("UPDATE events SET attempts = attempts + 1 WHERE id = ?1")?;
    let mut lease = tx.prepare_cached(
        "INSERT INTO leases (conversation, event_id, lease_until) VALUES (?1, ?2, ?3)",
    )?;
    let mut claims = Vec::new();
    while claims.len() < max {
        let row = head
            .query_row([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .optional()?;
        let Some((id, conversation, payload, attempts)) = row else {
            break;
        };
        attempt.execute([id])?;
        lease.execute(params![conversation, id, lease_until])?;
        let state = records::load_state(tx, &conversation, now_ms)?;
        claims.push(Claim {
            event: ClaimedEvent {
                event_id: id as u64,
                conversation,
                payload,
                attempt: u32::try_from(attempts + 1).unwrap_or(u32::MAX),
            },
            state,
        });
    }
    Ok(claims)
}

/// See [`crate::adapters::store::Store::complete_events`]: each event in order, as
/// [`records::complete_event`].
pub(super) fn complete_events(
    tx: &Transaction<'_>,
    batch: &[(ClaimedEvent, Commit)],
    now_ms: i64,
) -> rusqlite::Result<Vec<CommitOutcome>> {
    batch
        .iter()
        .map(|(event, commit)| records::complete_event(tx, event, commit, now_ms))
        .collect()
}
