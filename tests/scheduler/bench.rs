//! Benchmark (ignored by default): 1,000,000 pending timers on Redis, the memory each costs and
//! how fast due ones are claimed into the event pipeline. Run with
//! `cargo test --release --test scheduler -- --ignored --nocapture timer_benchmark`.
//! Runs under a unique prefix, deleted afterwards (never FLUSHALL). The timers have the shape the
//! bot schedules for reminders (`event::timer`).
//!
//! Measured (Redis 7.0.15 on loopback, 2-core VM, release build; the bot's reminder timer shape:
//! id 24 B, conversation 20 B, payload 67 B): 1M pending cost 294 B/timer by `INFO used_memory`
//! (278 B by `MEMORY USAGE`: due zset 118 + data hash 160). Firing 50,000 due timers among 1M
//! pending, batches of 100: 75k timers/s with one scheduler, 70k/s with two competing; an empty
//! tick with 1M pending costs ~0.08 ms.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use flowbot::adapters::store::{Store, Timer};
use flowbot::base::clock::Clock;
use flowbot::dispatch::event::TimerJob;
use flowbot::runtime::scheduler::Scheduler;
use tokio::sync::Notify;

use super::{Harness, T0, redis_store, redis_url};

const PENDING: usize = 1_000_000;
const DUE: usize = 100_000;

/// A reminder timer exactly as the bot schedules one (a duty's rung, compact payload).
fn bench_timer(i: usize) -> Timer {
    // Past-due for the first DUE, a day or more ahead for the rest.
    let due_ms = if i < DUE {
        T0 + i as i64
    } else {
        T0 + 86_400_000 + i as i64
    };
    let duty = format!("RW-2026-{i:07}");
    let job = TimerJob::Rung {
        duty: duty.clone(),
        rung: 1,
        occurrence: 0,
    };
    flowbot::dispatch::event::timer(
        flowbot::domain::reminders::duty::rung_timer_id(&duty, 1, 0),
        due_ms,
        &job,
    )
}

async fn info_used_memory(con: &mut redis::aio::MultiplexedConnection) -> i64 {
    let _: redis::RedisResult<String> = redis::cmd("MEMORY").arg("PURGE").query_async(con).await;
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(con)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

async fn memory_usage(con: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(con)
        .await
        .unwrap()
}

fn report(line: String) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: 1M timers on Redis, run with --ignored --release"]
async fn timer_benchmark() {
    let prefix = format!("flowbot-bench-{:016x}", rand::random::<u64>());
    let Some(redis) = redis_store(&prefix).await else {
        return;
    };
    let keys = redis.keys().clone();
    let store: Arc<dyn Store> = Arc::new(redis);
    let _cleanup = Harness {
        store: store.clone(),
        _dir: None,
        redis: Some((redis_url(), prefix)),
    };
    let client = redis::Client::open(redis_url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();

    let sample = bench_timer(0);
    report(format!(
        "timer shape: id {} B, conversation {} B, payload {} B",
        sample.id.len(),
        sample.conversation.len(),
        sample.payload.len()
    ));
    let before = info_used_memory(&mut con).await;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    const TASKS: usize = 64;
    for t in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            for i in (t..PENDING).step_by(TASKS) {
                store.schedule_timer(&bench_timer(i)).await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let load = started.elapsed();
    assert_eq!(store.pending_timers().await.unwrap(), PENDING as u64);
    let after = info_used_memory(&mut con).await;
    let zset = memory_usage(&mut con, &keys.timer_due()).await;
    let hash = memory_usage(&mut con, &keys.timer_data()).await;
    report(format!(
        "scheduled {PENDING} timers in {:.1} s ({:.0}/s, 64 in flight)",
        load.as_secs_f64(),
        PENDING as f64 / load.as_secs_f64()
    ));
    report(format!(
        "memory: INFO used_memory delta {} B = {:.1} B/timer; MEMORY USAGE due zset {} B + data hash {} B = {:.1} B/timer",
        after - before,
        (after - before) as f64 / PENDING as f64,
        zset,
        hash,
        (zset + hash) as f64 / PENDING as f64
    ));

    // Nothing due yet at T0 - 1: the cost of looking with 1M pending.
    let s = Scheduler::new(store.clone(), Arc::new(Notify::new()), Clock::default());
    let started = Instant::now();
    for _ in 0..1000 {
        assert_eq!(s.tick(T0 - 1).await.unwrap(), 0);
    }
    report(format!(
        "empty tick with {PENDING} pending: {:.0} µs",
        started.elapsed().as_micros() as f64 / 1000.0
    ));

    // Half the due timers with one scheduler, half with two competing ones.
    let half = (DUE / 2) as i64;
    let started = Instant::now();
    let fired = s.tick(T0 + half - 1).await.unwrap();
    let one = started.elapsed();
    assert_eq!(fired, DUE / 2);
    report(format!(
        "one scheduler: fired {fired} due timers (batches of 100) among {PENDING} pending in {:.2} s = {:.0} timers/s",
        one.as_secs_f64(),
        fired as f64 / one.as_secs_f64()
    ));
    let rival = s.clone();
    let started = Instant::now();
    let (a, b) = tokio::join!(s.tick(T0 + DUE as i64), rival.tick(T0 + DUE as i64));
    let two = started.elapsed();
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a + b, DUE / 2);
    report(format!(
        "two competing schedulers: fired {a} + {b} in {:.2} s = {:.0} timers/s",
        two.as_secs_f64(),
        (a + b) as f64 / two.as_secs_f64()
    ));
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(stats.events, DUE as u64, "one event per fired timer");
    assert_eq!(
        store.pending_timers().await.unwrap(),
        (PENDING - DUE) as u64
    );
}
