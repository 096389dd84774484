//! One conformance suite for both `Store` backends.
//!
//! Every property is an `async fn(Arc<dyn Store>)`; the `properties!` macro generates one
//! `#[tokio::test]` per property and backend. The embedded backend runs in a fresh temp dir, the
//! Redis backend at `REDIS_URL` (default `redis://127.0.0.1:6379`) under a random key prefix whose
//! keys are deleted afterwards, also when the test panics. Without Redis the Redis tests print a
//! loud SKIP, unless `REDIS_REQUIRED` is set, in which case they fail.
//! Time is injected through `now_ms`; nothing sleeps. The properties of conversation state, cases
//! and number series are in `store_conformance/records.rs`, those of case versions (optimistic
//! concurrency across conversations) in `store_conformance/case_versions.rs`, the backlog the
//! metrics sample in `store_conformance/backlog.rs`.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowbot::adapters::store::CommitOutcome::{AlreadyDone, Committed};
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::redis::RedisStore;
use flowbot::adapters::store::{
    ClaimedEvent, Commit, CommitOutcome, Enqueue, FailOutcome, NewEvent, OutboxItem, QueueStats,
    RateDecision, Store,
};

#[path = "store_conformance/records.rs"]
mod records;
use records::*;
#[path = "store_conformance/case_versions.rs"]
mod case_versions;
use case_versions::*;
#[path = "store_conformance/backlog.rs"]
mod backlog;
use backlog::*;
#[path = "store_conformance/batches.rs"]
mod batches;
use batches::*;

/// A realistic epoch, so server-side safety TTLs derived from timestamps stay sane.
const T0: i64 = 1_800_000_000_000;
const SEC: i64 = 1000;

fn ev(conversation: &str, payload: &str) -> NewEvent {
    NewEvent {
        conversation: conversation.into(),
        payload: payload.into(),
    }
}

fn item(channel: &str, payload: &str) -> OutboxItem {
    OutboxItem {
        channel: channel.into(),
        payload: payload.into(),
    }
}

fn secs(s: i64) -> Duration {
    Duration::from_millis((s * SEC) as u64)
}

async fn enqueue(store: &Arc<dyn Store>, key: &str, e: NewEvent, now: i64) -> u64 {
    match store
        .dedupe_and_enqueue(key, secs(3600), &e, now)
        .await
        .unwrap()
    {
        Enqueue::Accepted { event_id } => event_id,
        other => panic!("expected Accepted for {key}, got {other:?}"),
    }
}

async fn claim(store: &Arc<dyn Store>, now: i64) -> Option<ClaimedEvent> {
    store.claim_event(now, secs(30)).await.unwrap()
}

/// Completes `e` with only outbox items, the way the worker does.
async fn complete(
    store: &Arc<dyn Store>,
    e: &ClaimedEvent,
    outbox: &[OutboxItem],
    now: i64,
) -> CommitOutcome {
    let commit = Commit {
        outbox: outbox.to_vec(),
        ..Default::default()
    };
    store.complete_event(e, &commit, now).await.unwrap()
}

#[macro_use]
mod support;
use support::store::*;

store_properties!(
    dedupe_one_winner_and_ttl,
    fifo_and_one_at_a_time,
    concurrent_workers_drain_in_order,
    lease_expiry_and_idempotent_complete,
    outbox_claim_defer_fail_dead_letter,
    outbox_concurrent_claimers_disjoint,
    token_cache,
    card_codes_until_they_expire,
    lock_exclusion_expiry_stale_unlock,
    rate_limit_matches_exact_model,
    ping_answers,
    state_cas_one_winner_among_racers,
    stale_state_version_applies_nothing,
    second_completion_applies_nothing,
    state_delete_and_untouched,
    cases_body_history_and_indexes,
    next_number_concurrent_distinct,
    case_version_one_winner_among_racers,
    case_conflict_applies_nothing,
    case_expected_version_zero_and_none,
    backlog_oldest_event_and_overdue_timers,
    claim_events_heads_of_distinct_conversations_with_state,
    complete_events_each_all_or_nothing,
    concurrent_batch_claimers_never_share_a_conversation,
    complete_outboxes_removes_only_those,
);

// ---------------------------------------------------------------------------------------------
// Properties

/// Property 1: N concurrent deliveries of one key: one Accepted, the rest Duplicate with its id, one event.
async fn dedupe_one_winner_and_ttl(store: Arc<dyn Store>) {
    let ttl = secs(60);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .dedupe_and_enqueue("msg-1", ttl, &ev("alice", &format!("p{i}")), T0)
                    .await
            })
        })
        .collect();
    let mut accepted = vec![];
    let mut duplicates = vec![];
    for t in tasks {
        match t.await.unwrap().unwrap() {
            Enqueue::Accepted { event_id } => accepted.push(event_id),
            Enqueue::Duplicate { event_id } => duplicates.push(event_id),
        }
    }
    assert_eq!(accepted.len(), 1, "exactly one delivery is accepted");
    assert_eq!(duplicates.len(), 49);
    assert!(
        duplicates.iter().all(|&d| d == accepted[0]),
        "duplicates report the original id"
    );
    assert_eq!(store.queue_stats().await.unwrap().events, 1);

    let first = claim(&store, T0).await.expect("the event is claimable");
    assert_eq!(first.event_id, accepted[0]);
    assert!(
        claim(&store, T0).await.is_none(),
        "exactly one event was queued"
    );

    // Still a duplicate just before the TTL ends, accepted again once it has passed.
    let e = ev("alice", "again");
    let before = store
        .dedupe_and_enqueue("msg-1", ttl, &e, T0 + 60 * SEC - 1)
        .await
        .unwrap();
    assert_eq!(
        before,
        Enqueue::Duplicate {
            event_id: accepted[0]
        }
    );
    match store
        .dedupe_and_enqueue("msg-1", ttl, &e, T0 + 60 * SEC)
        .await
        .unwrap()
    {
        Enqueue::Accepted { event_id } => assert_ne!(event_id, accepted[0]),
        other => panic!("expected Accepted after the TTL, got {other:?}"),
    }
}

/// Property 2a: FIFO per conversation, one event of a conversation at a time.
async fn fifo_and_one_at_a_time(store: Arc<dyn Store>) {
    for (i, (c, p)) in [
        ("A", "a1"),
        ("B", "b1"),
        ("A", "a2"),
        ("B", "b2"),
        ("A", "a3"),
    ]
    .into_iter()
    .enumerate()
    {
        enqueue(&store, &format!("k{i}"), ev(c, p), T0 + i as i64).await;
    }
    let a1 = claim(&store, T0 + 10).await.unwrap();
    assert_eq!(
        (a1.conversation.as_str(), a1.payload.as_str(), a1.attempt),
        ("A", "a1", 1)
    );
    let b1 = claim(&store, T0 + 10).await.unwrap();
    assert_eq!(b1.payload, "b1");
    assert!(
        claim(&store, T0 + 10).await.is_none(),
        "A and B are both leased"
    );

    assert_eq!(complete(&store, &a1, &[], T0 + 11).await, Committed);
    let a2 = claim(&store, T0 + 12).await.unwrap();
    assert_eq!(a2.payload, "a2");
    assert!(claim(&store, T0 + 12).await.is_none(), "a3 waits for a2");
    assert_eq!(complete(&store, &b1, &[], T0 + 13).await, Committed);
    assert_eq!(claim(&store, T0 + 14).await.unwrap().payload, "b2");
    assert_eq!(complete(&store, &a2, &[], T0 + 15).await, Committed);
    assert_eq!(claim(&store, T0 + 16).await.unwrap().payload, "a3");
    assert_eq!(
        store.queue_stats().await.unwrap().events,
        2,
        "b2 and a3 are being handled"
    );
}

/// Property 2b: 4 workers drain 200 events over 10 conversations: each completed once, order kept, never
/// two events of one conversation in flight.
async fn concurrent_workers_drain_in_order(store: Arc<dyn Store>) {
    for i in 0..200 {
        let conv = format!("c{}", i % 10);
        enqueue(&store, &format!("k{i}"), ev(&conv, &i.to_string()), T0).await;
    }
    let in_flight = Arc::new(Mutex::new(HashSet::<String>::new()));
    let completed = Arc::new(Mutex::new(Vec::<(String, u32)>::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, in_flight, completed) =
                (store.clone(), in_flight.clone(), completed.clone());
            tokio::spawn(async move {
                loop {
                    let Some(e) = store.claim_event(T0, secs(600)).await.unwrap() else {
                        if store.queue_stats().await.unwrap().events == 0 {
                            return;
                        }
                        tokio::task::yield_now().await;
                        continue;
                    };
                    assert!(
                        in_flight.lock().unwrap().insert(e.conversation.clone()),
                        "two events of {} handed out at once",
                        e.conversation
                    );
                    tokio::task::yield_now().await;
                    let n: u32 = e.payload.parse().unwrap();
                    completed.lock().unwrap().push((e.conversation.clone(), n));
                    in_flight.lock().unwrap().remove(&e.conversation);
                    assert_eq!(complete(&store, &e, &[], T0).await, Committed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let completed = completed.lock().unwrap();
    assert_eq!(completed.len(), 200);
    let unique: HashSet<u32> = completed.iter().map(|(_, n)| *n).collect();
    assert_eq!(unique.len(), 200, "each event completed exactly once");
    let mut last: HashMap<&str, u32> = HashMap::new();
    for (c, n) in completed.iter() {
        if let Some(prev) = last.insert(c, *n) {
            assert!(prev < *n, "conversation {c}: {n} completed after {prev}");
        }
    }
}

/// Property 3: A dead worker's event comes back after the lease; a stale second completion is a no-op.
async fn lease_expiry_and_idempotent_complete(store: Arc<dyn Store>) {
    let id = enqueue(&store, "k", ev("A", "hello"), T0).await;
    let first = store.claim_event(T0, secs(30)).await.unwrap().unwrap();
    assert_eq!((first.event_id, first.attempt), (id, 1));
    assert!(
        store
            .claim_event(T0 + 29 * SEC, secs(30))
            .await
            .unwrap()
            .is_none()
    );
    let second = store
        .claim_event(T0 + 30 * SEC, secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.event_id, second.attempt), (id, 2));

    let out = [item("member:a", "reply")];
    assert_eq!(
        complete(&store, &second, &out, T0 + 31 * SEC).await,
        Committed
    );
    assert_eq!(
        complete(&store, &first, &out, T0 + 32 * SEC).await,
        AlreadyDone,
        "stale worker"
    );
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            events: 0,
            outbox: 1,
            dead_letters: 0
        }
    );
    assert!(
        store
            .claim_event(T0 + 100 * SEC, secs(30))
            .await
            .unwrap()
            .is_none()
    );
}

/// Property 4: Outbox: order, leases, defer (no failure counted), fail (counted, rescheduled, or dead).
async fn outbox_claim_defer_fail_dead_letter(store: Arc<dyn Store>) {
    enqueue(&store, "k", ev("A", "x"), T0).await;
    let e = claim(&store, T0).await.unwrap();
    let items: Vec<_> = (0..3)
        .map(|i| item(&format!("ch{i}"), &format!("m{i}")))
        .collect();
    assert_eq!(complete(&store, &e, &items, T0).await, Committed);
    let lease = secs(30);

    assert!(
        store
            .claim_outbox(T0 - 1, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let got = store.claim_outbox(T0, lease, 10).await.unwrap();
    let payloads: Vec<_> = got.iter().map(|c| c.payload.as_str()).collect();
    assert_eq!(
        payloads,
        ["m0", "m1", "m2"],
        "due order, ties in queueing order"
    );
    assert_eq!(got[1].channel, "ch1");
    assert!(got.iter().all(|c| c.failures == 0));
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        store
            .claim_outbox(T0 + SEC, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "all leased"
    );
    let (a, b, c) = (got[0].id, got[1].id, got[2].id);

    // Pacing: back to due later, without counting a failure.
    store.defer_outbox(a, T0 + 100 * SEC).await.unwrap();
    // A failure, retried at T0 + 200 s.
    let fo = store
        .fail_outbox(b, "503", Some(T0 + 200 * SEC), T0 + SEC, None)
        .await
        .unwrap();
    assert_eq!(fo, FailOutcome::Rescheduled);
    store.complete_outboxes(&[c]).await.unwrap();
    assert_eq!(store.queue_stats().await.unwrap().outbox, 2);

    assert!(
        store
            .claim_outbox(T0 + 99 * SEC, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let got = store
        .claim_outbox(T0 + 100 * SEC, secs(1000), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].id, got[0].failures),
        (a, 0),
        "deferral is not a failure"
    );
    assert!(
        store
            .claim_outbox(T0 + 199 * SEC, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let got = store.claim_outbox(T0 + 200 * SEC, lease, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].id, got[0].failures), (b, 1));

    // Both fail for good: dead letters, newest first.
    let fo = store
        .fail_outbox(b, "bad b", None, T0 + 201 * SEC, None)
        .await
        .unwrap();
    assert_eq!(fo, FailOutcome::DeadLettered);
    let fo = store
        .fail_outbox(a, "bad a", None, T0 + 202 * SEC, None)
        .await
        .unwrap();
    assert_eq!(fo, FailOutcome::DeadLettered);
    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(
        (dead[0].id, dead[0].failures, dead[0].failed_at_ms),
        (a, 1, T0 + 202 * SEC)
    );
    assert_eq!((dead[1].id, dead[1].failures), (b, 2));
    assert_eq!(
        (dead[0].last_error.as_str(), dead[0].payload.as_str()),
        ("bad a", "m0")
    );
    assert_eq!(dead[1].channel, "ch1");
    assert_eq!(store.dead_letters(1).await.unwrap().len(), 1);
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            events: 0,
            outbox: 0,
            dead_letters: 2
        }
    );
    assert!(
        store
            .claim_outbox(T0 + 10_000 * SEC, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Property 4b: Two concurrent claimers get disjoint sets; expired leases return the items.
async fn outbox_concurrent_claimers_disjoint(store: Arc<dyn Store>) {
    enqueue(&store, "k", ev("A", "x"), T0).await;
    let e = claim(&store, T0).await.unwrap();
    let items: Vec<_> = (0..20).map(|i| item("ch", &format!("m{i}"))).collect();
    assert_eq!(complete(&store, &e, &items, T0).await, Committed);
    let lease = secs(30);
    let claimers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_outbox(T0, lease, 15).await.unwrap() })
        })
        .collect();
    let mut ids = vec![];
    for c in claimers {
        ids.extend(c.await.unwrap().into_iter().map(|c| c.id));
    }
    assert_eq!(ids.len(), 20);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        20,
        "disjoint claims"
    );
    assert!(
        store
            .claim_outbox(T0 + 29 * SEC, lease, 50)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_outbox(T0 + 30 * SEC, lease, 50).await.unwrap();
    assert_eq!(again.len(), 20, "expired leases are returned to due");
}

/// Sent cards' response codes: remembered per task id until they expire; unknown ids are
/// skipped; remembering again replaces.
async fn card_codes_until_they_expire(store: Arc<dyn Store>) {
    let ids = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(store.card_codes(&ids(&["a"]), T0).await.unwrap().is_empty());
    assert!(store.card_codes(&[], T0).await.unwrap().is_empty());
    store
        .put_card_code("a", "rc-a", T0 + 10 * SEC)
        .await
        .unwrap();
    store
        .put_card_code("b", "rc-b", T0 + 20 * SEC)
        .await
        .unwrap();
    assert_eq!(
        store.card_codes(&ids(&["b", "x", "a"]), T0).await.unwrap(),
        [
            ("b".to_owned(), "rc-b".to_owned()),
            ("a".to_owned(), "rc-a".to_owned())
        ]
    );
    assert_eq!(
        store
            .card_codes(&ids(&["a", "b"]), T0 + 15 * SEC)
            .await
            .unwrap(),
        [("b".to_owned(), "rc-b".to_owned())],
        "a has expired"
    );
    store
        .put_card_code("b", "rc-b2", T0 + 20 * SEC)
        .await
        .unwrap();
    assert_eq!(
        store.card_codes(&ids(&["b"]), T0).await.unwrap(),
        [("b".to_owned(), "rc-b2".to_owned())]
    );
}

/// Property 5: Token cache: expiry on read, compare-and-delete invalidation.
async fn token_cache(store: Arc<dyn Store>) {
    assert_eq!(store.get_token("app", T0).await.unwrap(), None);
    let tok = flowbot::adapters::store::CachedToken {
        token: "t1".into(),
        expires_at_ms: T0 + 7200 * SEC,
    };
    store.put_token("app", &tok).await.unwrap();
    assert_eq!(store.get_token("app", T0).await.unwrap(), Some(tok.clone()));
    assert_eq!(store.get_token("other", T0).await.unwrap(), None);
    assert_eq!(
        store.get_token("app", T0 + 7200 * SEC).await.unwrap(),
        None,
        "expired"
    );

    store.invalidate_token("app", "stale").await.unwrap();
    assert_eq!(
        store.get_token("app", T0).await.unwrap(),
        Some(tok.clone()),
        "stale: no-op"
    );
    store.invalidate_token("app", "t1").await.unwrap();
    assert_eq!(store.get_token("app", T0).await.unwrap(), None);

    let tok2 = flowbot::adapters::store::CachedToken {
        token: "t2".into(),
        expires_at_ms: T0 + 60 * SEC,
    };
    store.put_token("app", &tok).await.unwrap();
    store.put_token("app", &tok2).await.unwrap();
    assert_eq!(store.get_token("app", T0).await.unwrap(), Some(tok2));
}

/// Property 6: Lock: one holder among racers, expiry lets the next in, stale unlock is a no-op.
async fn lock_exclusion_expiry_stale_unlock(store: Arc<dyn Store>) {
    let ttl = secs(10);
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.try_lock("refresh", ttl, T0).await.unwrap() })
        })
        .collect();
    let mut held = vec![];
    for r in racers {
        held.extend(r.await.unwrap());
    }
    assert_eq!(held.len(), 1, "exactly one racer holds the lock");
    let first = held.pop().unwrap();
    assert_eq!(first.name, "refresh");
    assert!(
        store
            .try_lock("refresh", ttl, T0 + 9 * SEC)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store.try_lock("other", ttl, T0).await.unwrap().is_some(),
        "locks are per name"
    );

    let second = store
        .try_lock("refresh", ttl, T0 + 10 * SEC)
        .await
        .unwrap()
        .expect("expired");
    assert_ne!(first.token, second.token);
    store.unlock(&first).await.unwrap();
    assert!(
        store
            .try_lock("refresh", ttl, T0 + 11 * SEC)
            .await
            .unwrap()
            .is_none(),
        "a stale unlock does not release the new holder"
    );
    store.unlock(&second).await.unwrap();
    assert!(
        store
            .try_lock("refresh", ttl, T0 + 11 * SEC)
            .await
            .unwrap()
            .is_some()
    );
}

/// Property 7: Rate limiter: decisions equal an exact sliding-window model over a pseudo-random sweep, so
/// never more than `limit` allowed in any window, and RetryAfter is exact.
async fn rate_limit_matches_exact_model(store: Arc<dyn Store>) {
    let (limit, window) = (5u32, 1000i64);
    let mut log: Vec<i64> = vec![];
    let mut allowed: Vec<i64> = vec![];
    let mut now = T0;
    let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut jump_to: Option<i64> = None;
    for _ in 0..600 {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        now = jump_to.take().unwrap_or(now + ((rng >> 33) % 120) as i64);
        let got = store.rate_limit("robot:1", limit, Duration::from_millis(window as u64), now);
        let got = got.await.unwrap();
        log.retain(|&t| t > now - window);
        let expected = if log.len() < limit as usize {
            log.push(now);
            RateDecision::Allowed
        } else {
            RateDecision::RetryAfter(Duration::from_millis((log[0] + window - now) as u64))
        };
        assert_eq!(got, expected, "at t0+{}", now - T0);
        match got {
            RateDecision::Allowed => allowed.push(now),
            // Sometimes retry exactly when told: it must be allowed then.
            RateDecision::RetryAfter(d) if rng.is_multiple_of(3) => {
                jump_to = Some(now + d.as_millis() as i64)
            }
            RateDecision::RetryAfter(_) => {}
        }
    }
    assert!(allowed.len() > 50, "the sweep exercised the limiter");
    for (i, &t) in allowed.iter().enumerate() {
        let in_window = allowed[i..].iter().take_while(|&&u| u < t + window).count();
        assert!(
            in_window <= limit as usize,
            "{in_window} allowed in the window from t0+{}",
            t - T0
        );
    }
    assert_eq!(
        store
            .rate_limit("robot:2", limit, Duration::from_millis(window as u64), now)
            .await
            .unwrap(),
        RateDecision::Allowed,
        "keys are independent"
    );
}

async fn ping_answers(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Embedded only

/// Property 8: Durability: queued events and outbox items survive a reopen; a second open is refused.
#[tokio::test]
async fn embedded_durable_and_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        match EmbeddedStore::open(dir.path()) {
            Err(e) => assert!(e.to_string().contains("in use"), "unclear error: {e}"),
            Ok(_) => panic!("a second open while the first is alive must be refused"),
        }
        for i in 0..3 {
            enqueue(&store, &format!("k{i}"), ev("A", &format!("e{i}")), T0).await;
        }
        let e = claim(&store, T0).await.unwrap();
        let out = [item("ch", "o1"), item("ch", "o2")];
        assert_eq!(complete(&store, &e, &out, T0).await, Committed);
    }
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            events: 2,
            outbox: 2,
            dead_letters: 0
        }
    );
    assert_eq!(claim(&store, T0).await.unwrap().payload, "e1");
    let got = store.claim_outbox(T0, secs(30), 10).await.unwrap();
    assert_eq!(
        got.iter().map(|c| c.payload.as_str()).collect::<Vec<_>>(),
        ["o1", "o2"]
    );
    // The dedupe keys survived too.
    let dup = store
        .dedupe_and_enqueue("k0", secs(3600), &ev("A", "e0"), T0 + 1)
        .await
        .unwrap();
    assert!(matches!(dup, Enqueue::Duplicate { .. }));
}

// ---------------------------------------------------------------------------------------------
// Throughput check of the callback hot path (manual: `cargo test --release --test
// store_conformance -- --ignored --nocapture`).

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "timing check, run by hand"]
async fn redis_enqueue_throughput() {
    let Some(h) = redis_harness().await else {
        return;
    };
    let (tasks, per_task) = (32, 1000);
    let start = std::time::Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = h.store.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    let e = ev(&format!("user{}", i % 50), "{\"text\":\"hello\"}");
                    let key = format!("msg-{t}-{i}");
                    store
                        .dedupe_and_enqueue(&key, secs(86_400), &e, T0)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let rate = f64::from(tasks * per_task) / start.elapsed().as_secs_f64();
    let _ = writeln!(std::io::stderr(), "dedupe_and_enqueue: {rate:.0}/s");
    assert!(rate >= 5000.0, "{rate:.0}/s is under the 5,000/s target");
}
