//! Durable timers and the scheduler, on both stores: competing schedulers fire each timer once,
//! catch-up after downtime fires overdue timers once in due order, cancel and reschedule work,
//! timers in a `Commit` apply atomically with it, and a fired timer arrives through `claim_event`.
//!
//! Time is injected (`now_ms`); nothing sleeps. Redis runs at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`) under a random prefix deleted afterwards; without Redis the Redis
//! tests print a SKIP, unless `REDIS_REQUIRED` is set. The 1M-timer benchmark is in
//! `scheduler/bench.rs` (`#[ignore]`d).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::{
    ClaimedEvent, Commit, CommitOutcome, Enqueue, NewEvent, StateWrite, Store, Timer,
};
use flowbot::base::clock::Clock;
use flowbot::runtime::scheduler::Scheduler;
use tokio::sync::Notify;

#[path = "scheduler/bench.rs"]
mod bench;

const T0: i64 = 1_800_000_000_000;
const SEC: i64 = 1000;
const LEASE: Duration = Duration::from_secs(30);

#[macro_use]
mod support;
use support::store::*;

store_properties!(
    competing_schedulers_fire_ten_thousand_timers_once,
    catch_up_after_an_hour_fires_overdue_timers_once_in_due_order,
    cancelled_timer_never_fires,
    rescheduling_moves_a_timer,
    commit_applies_timers_atomically,
    fired_timer_arrives_through_claim_event,
    refiring_the_same_schedule_is_deduplicated,
);

// ---------------------------------------------------------------------------------------------
// Helpers

fn timer(id: &str, due_ms: i64, conversation: &str) -> Timer {
    Timer {
        id: id.into(),
        due_ms,
        conversation: conversation.into(),
        payload: format!("{{\"timer\":\"{id}\"}}"),
    }
}

fn scheduler(store: &Arc<dyn Store>) -> Scheduler {
    Scheduler::new(store.clone(), Arc::new(Notify::new()), Clock::default())
}

/// Schedules `timers` from 16 concurrent tasks.
async fn schedule_all(store: &Arc<dyn Store>, timers: Vec<Timer>) {
    let chunk = timers.len().div_ceil(16).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for part in timers.chunks(chunk) {
        let (store, part) = (store.clone(), part.to_vec());
        tasks.spawn(async move {
            for t in &part {
                store.schedule_timer(t).await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
}

/// Claims and completes every queued event (one at a time), returning them in claim order.
async fn drain(store: &Arc<dyn Store>, now: i64) -> Vec<ClaimedEvent> {
    let mut out = vec![];
    while let Some(e) = store.claim_event(now, LEASE).await.unwrap() {
        let outcome = store
            .complete_event(&e, &Commit::default(), now)
            .await
            .unwrap();
        assert_eq!(outcome, CommitOutcome::Committed);
        out.push(e);
    }
    out
}

/// Like [`drain`] with 8 concurrent workers (order not kept): group commit keeps it quick.
async fn drain_concurrently(store: &Arc<dyn Store>, now: i64) -> Vec<ClaimedEvent> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.spawn(async move { drain(&store, now).await });
    }
    let mut out = vec![];
    while let Some(events) = tasks.join_next().await {
        out.extend(events.unwrap());
    }
    out
}

fn payload_of(id: &str) -> String {
    format!("{{\"timer\":\"{id}\"}}")
}

// ---------------------------------------------------------------------------------------------
// Properties

async fn competing_schedulers_fire_ten_thousand_timers_once(store: Arc<dyn Store>) {
    const N: i64 = 10_000;
    // Due over 10 s, on 50 conversations.
    let timers = (0..N)
        .map(|i| timer(&format!("t{i:05}"), T0 + i, &format!("c{}", i % 50)))
        .collect();
    schedule_all(&store, timers).await;
    assert_eq!(store.pending_timers().await.unwrap(), N as u64);

    // Two replicas tick over the same clock, every 250 ms of simulated time.
    let run = |s: Scheduler| async move {
        let mut fired = 0;
        for step in 0..=(N / 250 + 1) {
            fired += s.tick(T0 + step * 250).await.unwrap();
        }
        fired
    };
    let a = scheduler(&store);
    let (fa, fb) = tokio::join!(run(a.clone()), run(a.clone()));
    assert_eq!(fa + fb, N as usize, "each timer taken once ({fa} + {fb})");
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    assert_eq!(store.queue_stats().await.unwrap().events, N as u64);

    let events = drain_concurrently(&store, T0 + 20 * SEC).await;
    assert_eq!(events.len(), N as usize, "one event per timer");
    let payloads: HashSet<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    let expected: HashSet<String> = (0..N).map(|i| payload_of(&format!("t{i:05}"))).collect();
    assert_eq!(payloads.len(), N as usize, "no timer fired twice");
    assert!(expected.iter().all(|p| payloads.contains(p.as_str())));
    assert!(events.iter().all(|e| e.attempt == 1));
}

async fn catch_up_after_an_hour_fires_overdue_timers_once_in_due_order(store: Arc<dyn Store>) {
    // 250 timers due across the hour the scheduler was down, scheduled in scrambled order, on
    // three conversations; two share a due time (ties fire by id); two are still in the future.
    let mut timers: Vec<Timer> = (0..250)
        .map(|i| {
            let due = T0 + i * 14 * SEC;
            timer(&format!("r{i:03}"), due, ["a", "b", "c"][i as usize % 3])
        })
        .collect();
    timers.push(timer("r100b", T0 + 100 * 14 * SEC, "a"));
    timers.push(timer("later1", T0 + 3601 * SEC + 1, "a"));
    timers.push(timer("later2", T0 + 7200 * SEC, "b"));
    let mut scrambled = timers.clone();
    scrambled.sort_by_key(|t| (t.due_ms * 7919) % 1_000_003);
    for t in &scrambled {
        store.schedule_timer(t).await.unwrap();
    }

    let restart = T0 + 3601 * SEC;
    let s = scheduler(&store);
    assert_eq!(
        s.tick(restart).await.unwrap(),
        251,
        "every overdue timer, once"
    );
    assert_eq!(s.tick(restart).await.unwrap(), 0, "nothing fires twice");
    assert_eq!(store.pending_timers().await.unwrap(), 2);

    let mut expected: Vec<&Timer> = timers.iter().filter(|t| t.due_ms <= restart).collect();
    expected.sort_by(|x, y| (x.due_ms, &x.id).cmp(&(y.due_ms, &y.id)));
    let got = drain(&store, restart).await;
    let got: Vec<&str> = got.iter().map(|e| e.payload.as_str()).collect();
    let want: Vec<String> = expected.iter().map(|t| payload_of(&t.id)).collect();
    assert_eq!(got, want, "events in due order");

    // The rest fire when their time comes.
    assert_eq!(s.tick(T0 + 7200 * SEC).await.unwrap(), 2);
}

async fn cancelled_timer_never_fires(store: Arc<dyn Store>) {
    store.schedule_timer(&timer("a", T0, "u")).await.unwrap();
    store.schedule_timer(&timer("b", T0, "u")).await.unwrap();
    assert!(store.cancel_timer("a").await.unwrap());
    assert!(!store.cancel_timer("a").await.unwrap(), "already cancelled");
    assert!(!store.cancel_timer("nope").await.unwrap());
    assert_eq!(store.pending_timers().await.unwrap(), 1);
    let fired = store
        .fire_due_timers(T0 + 365 * 86_400 * SEC, 100, LEASE)
        .await
        .unwrap();
    assert_eq!(fired, vec!["b".to_string()]);
    let events = drain(&store, T0).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload, payload_of("b"));
}

async fn rescheduling_moves_a_timer(store: Arc<dyn Store>) {
    store
        .schedule_timer(&timer("x", T0 + 10 * SEC, "u"))
        .await
        .unwrap();
    let mut later = timer("x", T0 + 60 * SEC, "v");
    later.payload = "moved".into();
    store.schedule_timer(&later).await.unwrap();
    assert_eq!(store.pending_timers().await.unwrap(), 1, "one timer, moved");
    let s = scheduler(&store);
    assert_eq!(
        s.tick(T0 + 30 * SEC).await.unwrap(),
        0,
        "not at its old time"
    );
    assert_eq!(s.tick(T0 + 60 * SEC).await.unwrap(), 1);
    let events = drain(&store, T0 + 60 * SEC).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].conversation.as_str(), events[0].payload.as_str()),
        ("v", "moved")
    );

    // Moving earlier works too.
    store
        .schedule_timer(&timer("y", T0 + 900 * SEC, "u"))
        .await
        .unwrap();
    store
        .schedule_timer(&timer("y", T0 + 100 * SEC, "u"))
        .await
        .unwrap();
    assert_eq!(s.tick(T0 + 100 * SEC).await.unwrap(), 1);
    assert_eq!(store.pending_timers().await.unwrap(), 0);
}

async fn commit_applies_timers_atomically(store: Arc<dyn Store>) {
    store
        .schedule_timer(&timer("old", T0 + 50 * SEC, "u"))
        .await
        .unwrap();
    store
        .schedule_timer(&timer("both", T0 + 5 * SEC, "u"))
        .await
        .unwrap();
    let event = NewEvent {
        conversation: "u".into(),
        payload: "{}".into(),
    };
    let enqueued = store
        .dedupe_and_enqueue("m1", LEASE, &event, T0)
        .await
        .unwrap();
    assert!(matches!(enqueued, Enqueue::Accepted { .. }));
    let claimed = store.claim_event(T0, LEASE).await.unwrap().unwrap();
    let commit = |expected_version| Commit {
        state: Some(StateWrite {
            expected_version,
            state: Some("{\"duty\":\"open\"}".into()),
        }),
        timers: vec![
            timer("remind-1", T0 + 10 * SEC, "u"),
            timer("remind-2", T0 + 20 * SEC, "w"),
            timer("both", T0 + 30 * SEC, "u"),
        ],
        cancel_timers: vec!["old".into(), "both".into()],
        ..Default::default()
    };

    // A conflicting commit (stale state version) adds and cancels nothing.
    let outcome = store
        .complete_event(&claimed, &commit(7), T0)
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::Conflict);
    assert_eq!(store.pending_timers().await.unwrap(), 2);

    assert_eq!(
        store
            .complete_event(&claimed, &commit(0), T0)
            .await
            .unwrap(),
        CommitOutcome::Committed
    );
    // old cancelled; both cancelled then scheduled again (moved to +30 s); two new ones.
    assert_eq!(store.pending_timers().await.unwrap(), 3);
    assert!(!store.cancel_timer("old").await.unwrap());

    // A second completion of the same event applies nothing either.
    let again = Commit {
        timers: vec![timer("stale", T0, "u")],
        cancel_timers: vec!["remind-1".into()],
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&claimed, &again, T0).await.unwrap(),
        CommitOutcome::AlreadyDone
    );
    assert_eq!(store.pending_timers().await.unwrap(), 3);

    let fired = store
        .fire_due_timers(T0 + 60 * SEC, 100, LEASE)
        .await
        .unwrap();
    assert_eq!(fired, ["remind-1", "remind-2", "both"]);
}

async fn fired_timer_arrives_through_claim_event(store: Arc<dyn Store>) {
    // A chat message of the same conversation queued first is handled first (FIFO).
    let chat = NewEvent {
        conversation: "zhangsan".into(),
        payload: "{\"chat\":1}".into(),
    };
    store
        .dedupe_and_enqueue("chat-1", LEASE, &chat, T0)
        .await
        .unwrap();
    let payload =
        "{\"kind\":\"reminder\",\"duty\":\"CR2026-7\",\"step\":\"T-1\",\"text\":\"提醒\"}";
    let t = Timer {
        id: "duty:CR2026-7:T-1".into(),
        due_ms: T0 + SEC,
        conversation: "zhangsan".into(),
        payload: payload.into(),
    };
    store.schedule_timer(&t).await.unwrap();
    assert!(
        store.claim_event(T0, LEASE).await.unwrap().is_some(),
        "the chat"
    );

    let notify = Arc::new(Notify::new());
    let s = Scheduler::new(store.clone(), notify.clone(), Clock::default());
    assert_eq!(s.tick(T0 + SEC).await.unwrap(), 1);
    tokio::time::timeout(Duration::from_millis(100), notify.notified())
        .await
        .expect("the scheduler wakes the workers");
    // The conversation is leased by the chat: the timer's event waits behind it.
    assert!(store.claim_event(T0 + SEC, LEASE).await.unwrap().is_none());
    assert_eq!(store.queue_stats().await.unwrap().events, 2);

    let after_lease = T0 + 31 * SEC;
    let chat_again = store
        .claim_event(after_lease, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chat_again.payload, "{\"chat\":1}");
    store
        .complete_event(&chat_again, &Commit::default(), after_lease)
        .await
        .unwrap();
    let fired = store
        .claim_event(after_lease, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fired.conversation, "zhangsan");
    assert_eq!(fired.payload, payload);
    assert_eq!(fired.attempt, 1);
}

async fn refiring_the_same_schedule_is_deduplicated(store: Arc<dyn Store>) {
    // The same timer re-derived for the same moment (e.g. after a failover) queues one event;
    // a different moment is a new firing.
    let t = timer("dup", T0, "u");
    store.schedule_timer(&t).await.unwrap();
    assert_eq!(store.fire_due_timers(T0, 10, LEASE).await.unwrap(), ["dup"]);
    store.schedule_timer(&t).await.unwrap();
    assert_eq!(store.fire_due_timers(T0, 10, LEASE).await.unwrap(), ["dup"]);
    assert_eq!(store.queue_stats().await.unwrap().events, 1);
    store
        .schedule_timer(&timer("dup", T0 + SEC, "u"))
        .await
        .unwrap();
    store.fire_due_timers(T0 + SEC, 10, LEASE).await.unwrap();
    assert_eq!(store.queue_stats().await.unwrap().events, 2);
    assert!(
        store
            .fire_due_timers(T0, 0, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
}
