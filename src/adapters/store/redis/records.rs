//! Conversation state, cases and number series on Redis: the commit script's argument encoding
//! and the read paths. Key layout: [`crate::adapters::store::keys`].

use super::RedisConnection;
use redis::ScriptInvocation;

use super::map_err;
use crate::adapters::store::keys::Keys;
use crate::adapters::store::{CaseRecord, Commit, StoreError, StoreResult, VersionedState};

/// Appends `commit` to the script's ARGV as the flat record `complete_events.lua` reads.
pub(super) fn push_commit(inv: &mut ScriptInvocation<'_>, commit: &Commit) {
    match &commit.state {
        None => {
            inv.arg("0");
        }
        Some(w) => match &w.state {
            Some(state) => {
                inv.arg("1").arg(w.expected_version).arg(state);
            }
            None => {
                inv.arg("2").arg(w.expected_version);
            }
        },
    }
    let checks: Vec<(&str, u64)> = commit
        .cases
        .iter()
        .filter_map(|c| c.expected_version.map(|v| (c.number.as_str(), v)))
        .collect();
    inv.arg(checks.len());
    for (number, expected) in checks {
        inv.arg(number).arg(expected);
    }
    inv.arg(commit.outbox.len());
    for item in &commit.outbox {
        inv.arg(&item.channel).arg(&item.payload);
    }
    inv.arg(commit.cases.len());
    for case in &commit.cases {
        inv.arg(&case.number);
        match &case.body {
            Some(body) => inv.arg("1").arg(body),
            None => inv.arg("0"),
        };
        for list in [&case.history, &case.remove_from, &case.add_to] {
            inv.arg(list.len());
            for entry in list {
                inv.arg(entry);
            }
        }
    }
}

pub(super) async fn load_conversation(
    con: &RedisConnection,
    k: &Keys,
    conversation: &str,
) -> StoreResult<Option<VersionedState>> {
    let (version, state): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(k.state(conversation))
        .arg("v")
        .arg("d")
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    versioned(version, state)
}

/// A state hash's version and body as read (both or neither).
pub(super) fn versioned(
    version: Option<String>,
    state: Option<String>,
) -> StoreResult<Option<VersionedState>> {
    let (Some(version), Some(state)) = (version, state) else {
        return Ok(None);
    };
    let version = version
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("bad state version {version:?}")))?;
    Ok(Some(VersionedState { version, state }))
}

pub(super) async fn get_case(
    con: &RedisConnection,
    k: &Keys,
    number: &str,
) -> StoreResult<Option<CaseRecord>> {
    let (body, version, history): (Option<String>, Option<String>, Vec<String>) = redis::pipe()
        .atomic()
        .get(k.case(number))
        .get(k.case_version(number))
        .lrange(k.case_history(number), 0, -1)
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    if body.is_none() && history.is_empty() {
        return Ok(None);
    }
    // A body without a version was written before versions existed: it counts as version 1.
    let version = match version {
        Some(v) => v
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad case version {v:?}")))?,
        None => u64::from(body.is_some()),
    };
    Ok(Some(CaseRecord {
        number: number.to_owned(),
        version,
        body: body.unwrap_or_default(),
        history,
    }))
}

pub(super) async fn cases_in(
    con: &RedisConnection,
    k: &Keys,
    index: &str,
) -> StoreResult<Vec<String>> {
    redis::cmd("ZRANGE")
        .arg(k.case_index(index))
        .arg(0)
        .arg(-1)
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)
}

pub(super) async fn next_number(con: &RedisConnection, k: &Keys, series: &str) -> StoreResult<u64> {
    redis::cmd("INCR")
        .arg(k.number_seq(series))
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)
}
