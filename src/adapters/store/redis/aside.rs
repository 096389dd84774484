//! Events that wait or are set aside, on Redis: deferring a claimed event while a dependency is
//! down, setting one aside after it failed on its own, listing and re-queueing those. Each is one
//! Lua script (`lua/defer_event.lua`, `lua/set_aside.lua`, `lua/rerun_set_aside.lua`).

use std::sync::LazyLock;

use super::RedisConnection;
use redis::Script;

use super::{map_err, ms};
use crate::adapters::store::keys::Keys;
use crate::adapters::store::{
    ClaimedEvent, DONE_MARKER_TTL, OutboxItem, SetAsideEvent, StoreError, StoreResult,
};

static DEFER: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/defer_event.lua")));
static SET_ASIDE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../lua/finish_event.lua"),
        include_str!("../lua/set_aside.lua")
    ))
});
static RERUN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/rerun_set_aside.lua")));

pub(super) async fn defer_event(
    con: &RedisConnection,
    k: &Keys,
    event: &ClaimedEvent,
    until_ms: i64,
    notice: &[OutboxItem],
    now_ms: i64,
) -> StoreResult<bool> {
    let mut inv = DEFER.key(k.event(event.event_id));
    inv.key(k.leased())
        .key(k.conversation(&event.conversation))
        .key(k.outbox_seq())
        .key(k.outbox_due())
        .arg(event.event_id)
        .arg(&event.conversation)
        .arg(until_ms)
        .arg(now_ms)
        .arg(k.outbox_item_prefix())
        .arg(notice.len());
    for item in notice {
        inv.arg(&item.channel).arg(&item.payload);
    }
    let deferred: i64 = inv.invoke_async(&mut con.clone()).await.map_err(map_err)?;
    Ok(deferred == 1)
}

pub(super) async fn set_aside_event(
    con: &RedisConnection,
    k: &Keys,
    event: &ClaimedEvent,
    reason: &str,
    now_ms: i64,
) -> StoreResult<bool> {
    let done: i64 = SET_ASIDE
        .key(k.done(event.event_id))
        .key(k.event(event.event_id))
        .key(k.conversation(&event.conversation))
        .key(k.ready())
        .key(k.leased())
        .key(k.event_count())
        .key(k.set_aside())
        .arg(event.event_id)
        .arg(&event.conversation)
        .arg(ms(DONE_MARKER_TTL))
        .arg(reason)
        .arg(now_ms)
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    Ok(done == 1)
}

pub(super) async fn set_aside_events(
    con: &RedisConnection,
    k: &Keys,
) -> StoreResult<Vec<SetAsideEvent>> {
    let raw: Vec<String> = redis::cmd("HVALS")
        .arg(k.set_aside())
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    let mut events = raw
        .iter()
        .map(|json| {
            serde_json::from_str::<SetAsideEvent>(json)
                .map_err(|e| StoreError::Corrupt(format!("set-aside event: {e}")))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    events.sort_by_key(|e| e.event_id);
    Ok(events)
}

pub(super) async fn rerun_set_aside(
    con: &RedisConnection,
    k: &Keys,
    event_id: u64,
) -> StoreResult<Option<u64>> {
    let id: u64 = RERUN
        .key(k.set_aside())
        .key(k.event_seq())
        .key(k.ready())
        .key(k.leased())
        .key(k.event_count())
        .arg(event_id)
        .arg(k.event_prefix())
        .arg(k.conversation_prefix())
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    Ok((id > 0).then_some(id))
}
