//! The pipeline's backlog on Redis (`lua/backlog.lua`, one read-only script): the enqueue time
//! of the oldest queued event and the number of overdue timers, for the metrics.

use std::sync::LazyLock;

use super::RedisConnection;
use redis::Script;

use super::map_err;
use crate::adapters::store::keys::Keys;
use crate::adapters::store::{Backlog, StoreResult};

static BACKLOG: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/backlog.lua")));

pub(super) async fn read(con: &RedisConnection, k: &Keys, now_ms: i64) -> StoreResult<Backlog> {
    let (at, overdue): (i64, u64) = BACKLOG
        .key(k.ready())
        .key(k.leased())
        .key(k.timer_due())
        .arg(now_ms)
        .arg(k.conversation_prefix())
        .arg(k.event_prefix())
        .invoke_async(&mut con.clone())
        .await
        .map_err(map_err)?;
    Ok(Backlog {
        oldest_event_ms: (at > 0).then_some(at),
        overdue_timers: overdue,
    })
}
