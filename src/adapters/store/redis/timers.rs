//! Durable timers on Redis: a ZSET of ids scored by due time plus one hash field per timer
//! holding its conversation and payload (no key per timer, see [`crate::adapters::store::keys`]). Firing is
//! one script that moves due timers into the event pipeline ("Option A" of the scheduler design),
//! so with several replicas each timer fires once.

use std::time::Duration;

use super::RedisConnection;
use redis::ScriptInvocation;

use super::{SCRIPTS, map_err, ms};
use crate::adapters::store::keys::Keys;
use crate::adapters::store::{StoreResult, Timer};

/// The hash value of a timer: `<conversation length>:<conversation><payload>`, unambiguous
/// whatever the conversation contains, and compact (no field names, no JSON).
pub(super) fn encode_data(timer: &Timer) -> String {
    let mut s = String::with_capacity(timer.conversation.len() + timer.payload.len() + 4);
    s.push_str(&timer.conversation.len().to_string());
    s.push(':');
    s.push_str(&timer.conversation);
    s.push_str(&timer.payload);
    s
}

/// Appends the commit's timer changes to `complete_event.lua`'s ARGV.
pub(super) fn push_commit_timers(
    inv: &mut ScriptInvocation<'_>,
    cancel: &[String],
    schedule: &[Timer],
) {
    inv.arg(cancel.len());
    for id in cancel {
        inv.arg(id);
    }
    inv.arg(schedule.len());
    for timer in schedule {
        inv.arg(&timer.id).arg(timer.due_ms).arg(encode_data(timer));
    }
}

pub(super) async fn schedule(con: &RedisConnection, k: &Keys, timer: &Timer) -> StoreResult<()> {
    let _: i64 = SCRIPTS
        .timer_schedule
        .key(k.timer_due())
        .key(k.timer_data())
        .arg(&timer.id)
        .arg(timer.due_ms)
        .arg(encode_data(timer))
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(super) async fn cancel(con: &RedisConnection, k: &Keys, id: &str) -> StoreResult<bool> {
    let removed: i64 = SCRIPTS
        .timer_cancel
        .key(k.timer_due())
        .key(k.timer_data())
        .arg(id)
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    Ok(removed == 1)
}

pub(super) async fn fire_due(
    con: &RedisConnection,
    k: &Keys,
    now_ms: i64,
    limit: usize,
    dedupe_ttl: Duration,
) -> StoreResult<Vec<String>> {
    if limit == 0 {
        return Ok(vec![]);
    }
    SCRIPTS
        .timer_fire
        .key(k.timer_due())
        .key(k.timer_data())
        .key(k.event_seq())
        .key(k.ready())
        .key(k.leased())
        .key(k.event_count())
        .arg(now_ms)
        .arg(limit)
        .arg(ms(dedupe_ttl).max(1))
        .arg(k.event_prefix())
        .arg(k.conversation_prefix())
        .arg(k.dedupe(""))
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)
}

pub(super) async fn pending(con: &RedisConnection, k: &Keys) -> StoreResult<u64> {
    redis::cmd("ZCARD")
        .arg(k.timer_due())
        .query_async(&mut con.clone())
        .await
        .map_err(map_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_encoding_is_length_prefixed() {
        let t = Timer {
            id: "x".into(),
            due_ms: 1,
            conversation: "a:1".into(),
            payload: "{\"k\":2}".into(),
        };
        assert_eq!(encode_data(&t), "3:a:1{\"k\":2}");
    }
}
