//! The event commit (state CAS, cases, outbox, completion) and the record queries, each run by
//! [`super::EmbeddedStore`] inside one transaction.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{exec, ms, query_row};
use crate::adapters::store::{
    CONVERSATION_STATE_TTL, CaseRecord, CaseWrite, ClaimedEvent, Commit, CommitOutcome,
    DONE_MARKER_TTL, VersionedState,
};

/// The live state of `conversation` at `now_ms` (an expired row counts as absent).
pub(super) fn load_state(
    tx: &Transaction<'_>,
    conversation: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<VersionedState>> {
    query_row(
        tx,
        "SELECT version, state FROM conversation_state
         WHERE conversation = ?1 AND expires_at > ?2",
        params![conversation, now_ms],
        |r| {
            Ok(VersionedState {
                version: r.get::<_, i64>(0)? as u64,
                state: r.get(1)?,
            })
        },
    )
    .optional()
}

/// See [`crate::adapters::store::Store::complete_event`]: every check runs before the first write.
pub(super) fn complete_event(
    tx: &Transaction<'_>,
    event: &ClaimedEvent,
    commit: &Commit,
    now_ms: i64,
) -> rusqlite::Result<CommitOutcome> {
    let id = event.event_id as i64;
    let done = query_row(tx, "SELECT 1 FROM done WHERE event_id = ?1", [id], |_| {
        Ok(())
    })
    .optional()?
    .is_some();
    let conversation: Option<String> = query_row(
        tx,
        "SELECT conversation FROM events WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()?;
    if done || conversation.as_deref() != Some(event.conversation.as_str()) {
        return Ok(CommitOutcome::AlreadyDone);
    }
    let mut current_state = 0;
    if let Some(write) = &commit.state {
        current_state = load_state(tx, &event.conversation, now_ms)?.map_or(0, |s| s.version);
        if current_state != write.expected_version {
            return Ok(CommitOutcome::Conflict);
        }
    }
    for case in &commit.cases {
        if let Some(expected) = case.expected_version
            && case_version(tx, &case.number)? != expected
        {
            return Ok(CommitOutcome::Conflict);
        }
    }
    // Checks passed: from here on everything is applied.
    if let Some(write) = &commit.state {
        match &write.state {
            Some(state) => {
                exec(
                    tx,
                    "INSERT OR REPLACE INTO conversation_state
                       (conversation, version, state, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        event.conversation,
                        (current_state + 1) as i64,
                        state,
                        now_ms.saturating_add(ms(CONVERSATION_STATE_TTL))
                    ],
                )?;
            }
            None => {
                exec(
                    tx,
                    "DELETE FROM conversation_state WHERE conversation = ?1",
                    [&event.conversation],
                )?;
            }
        }
    }
    for case in &commit.cases {
        write_case(tx, case)?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (channel, payload, failures, due_at) VALUES (?1, ?2, 0, ?3)",
    )?;
    for item in &commit.outbox {
        insert.execute(params![item.channel, item.payload, now_ms])?;
    }
    super::timers::apply_commit(tx, &commit.cancel_timers, &commit.timers)?;
    exec(tx, "DELETE FROM events WHERE id = ?1", [id])?;
    exec(
        tx,
        "INSERT OR REPLACE INTO done (event_id, expires_at) VALUES (?1, ?2)",
        params![id, now_ms.saturating_add(ms(DONE_MARKER_TTL))],
    )?;
    exec(
        tx,
        "DELETE FROM leases WHERE conversation = ?1",
        [&event.conversation],
    )?;
    Ok(CommitOutcome::Committed)
}

/// The case's version: 0 while no body was ever written.
fn case_version(tx: &Transaction<'_>, number: &str) -> rusqlite::Result<u64> {
    let version: Option<i64> = query_row(
        tx,
        "SELECT version FROM cases WHERE number = ?1",
        [number],
        |r| r.get(0),
    )
    .optional()?;
    Ok(version.map_or(0, |v| v as u64))
}

fn write_case(tx: &Transaction<'_>, case: &CaseWrite) -> rusqlite::Result<()> {
    if let Some(body) = &case.body {
        exec(
            tx,
            "INSERT INTO cases (number, body, version) VALUES (?1, ?2, 1)
             ON CONFLICT (number) DO UPDATE SET body = excluded.body, version = version + 1",
            params![case.number, body],
        )?;
    }
    let mut append =
        tx.prepare_cached("INSERT INTO case_history (number, entry) VALUES (?1, ?2)")?;
    for entry in &case.history {
        append.execute(params![case.number, entry])?;
    }
    let mut remove = tx.prepare_cached("DELETE FROM case_index WHERE idx = ?1 AND number = ?2")?;
    for index in &case.remove_from {
        remove.execute(params![index, case.number])?;
    }
    let mut add =
        tx.prepare_cached("INSERT OR IGNORE INTO case_index (idx, number) VALUES (?1, ?2)")?;
    for index in &case.add_to {
        add.execute(params![index, case.number])?;
    }
    Ok(())
}

pub(super) fn get_case(tx: &Transaction<'_>, number: &str) -> rusqlite::Result<Option<CaseRecord>> {
    let row: Option<(String, i64)> = query_row(
        tx,
        "SELECT body, version FROM cases WHERE number = ?1",
        [number],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?;
    let history = {
        let mut q =
            tx.prepare_cached("SELECT entry FROM case_history WHERE number = ?1 ORDER BY seq")?;
        q.query_map([number], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?
    };
    if row.is_none() && history.is_empty() {
        return Ok(None);
    }
    let (body, version) = row.unwrap_or_default();
    Ok(Some(CaseRecord {
        number: number.to_owned(),
        version: version as u64,
        body,
        history,
    }))
}

pub(super) fn cases_in(tx: &Transaction<'_>, index: &str) -> rusqlite::Result<Vec<String>> {
    let mut q = tx.prepare_cached("SELECT number FROM case_index WHERE idx = ?1 ORDER BY seq")?;
    q.query_map([index], |r| r.get(0))?.collect()
}

pub(super) fn next_number(tx: &Transaction<'_>, series: &str) -> rusqlite::Result<u64> {
    query_row(
        tx,
        "INSERT INTO number_series (series, last) VALUES (?1, 1)
         ON CONFLICT (series) DO UPDATE SET last = last + 1
         RETURNING last",
        [series],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}
