//! The event pipeline's two hot operations on Redis, each one script (one round trip) for a
//! whole batch: claiming the head events of distinct conversations together with their
//! conversations' states (`claim_events.lua`), and committing what their handling changed
//! (`complete_events.lua`, each event all or nothing with its own version checks).

use super::{RedisConnection, SCRIPTS, map_err, ms, records, timers};
use crate::adapters::store::keys::Keys;
use crate::adapters::store::{
    CONVERSATION_STATE_TTL, Claim, ClaimedEvent, Commit, CommitOutcome, DONE_MARKER_TTL,
    StoreError, StoreResult,
};
use std::time::Duration;

pub(super) async fn claim_events(
    con: &RedisConnection,
    k: &Keys,
    now_ms: i64,
    lease: Duration,
    max: usize,
) -> StoreResult<Vec<Claim>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    type Row = (u64, String, String, u32, Option<String>, Option<String>);
    let rows: Vec<Row> = SCRIPTS
        .claim_events
        .key(k.ready())
        .key(k.leased())
        .arg(now_ms)
        .arg(now_ms.saturating_add(ms(lease)))
        .arg(k.conversation_prefix())
        .arg(k.event_prefix())
        .arg(max)
        .arg(k.state_prefix())
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    rows.into_iter()
        .map(
            |(event_id, conversation, payload, attempt, version, state)| {
                Ok(Claim {
                    event: ClaimedEvent {
                        event_id,
                        conversation,
                        payload,
                        attempt,
                    },
                    state: records::versioned(version, state)?,
                })
            },
        )
        .collect()
}

pub(super) async fn complete_events(
    con: &RedisConnection,
    k: &Keys,
    batch: &[(ClaimedEvent, Commit)],
    now_ms: i64,
) -> StoreResult<Vec<CommitOutcome>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut inv = SCRIPTS.complete_events.key(k.ready());
    inv.key(k.leased())
        .key(k.event_count())
        .key(k.outbox_seq())
        .key(k.outbox_due())
        .key(k.case_index_seq())
        .key(k.timer_due())
        .key(k.timer_data());
    for (event, _) in batch {
        inv.key(k.done(event.event_id))
            .key(k.event(event.event_id))
            .key(k.conversation(&event.conversation))
            .key(k.state(&event.conversation));
    }
    inv.arg(now_ms)
        .arg(ms(DONE_MARKER_TTL))
        .arg(k.outbox_item_prefix())
        .arg(k.pipe_prefix())
        .arg(ms(CONVERSATION_STATE_TTL))
        .arg(batch.len());
    for (event, commit) in batch {
        inv.arg(event.event_id).arg(&event.conversation);
        records::push_commit(&mut inv, commit);
        timers::push_commit_timers(&mut inv, &commit.cancel_timers, &commit.timers);
    }
    let outcomes: Vec<i64> = inv.invoke_async(&mut con.clone()).await.map_err(map_err)?;
    if outcomes.len() != batch.len() {
        return Err(StoreError::Corrupt(format!(
            "complete_events answered {} outcomes for {} events",
            outcomes.len(),
            batch.len()
        )));
    }
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            1 => Ok(CommitOutcome::Committed),
            0 => Ok(CommitOutcome::AlreadyDone),
            -1 => Ok(CommitOutcome::Conflict),
            other => Err(StoreError::Corrupt(format!(
                "complete_events answered {other}"
            ))),
        })
        .collect()
}
