//! The outbox operations behind delivery that survives outages, on both stores: what an item
//! remembers of its failures (the first one's time, the start of an attempt with an unknown
//! outcome, also when a sender died holding it), leases renewed while a sender works, and dead
//! letters queued again.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::{Commit, CommitOutcome, FailOutcome, NewEvent, OutboxItem, Store};
use support::store::*;

const T0: i64 = 1_800_000_000_000;
const SEC: i64 = 1000;

store_properties!(
    failures_remember_the_first_and_the_unknown_outcome,
    an_expired_lease_makes_the_outcome_unknown,
    a_renewed_lease_is_not_taken_over,
    dead_letters_are_queued_again_all_or_by_id,
);

/// Queues `payloads` as outbox items of channel `member:<payload>`, the way a worker commits.
async fn queue(store: &Arc<dyn Store>, payloads: &[&str]) -> Vec<u64> {
    let event = NewEvent {
        conversation: "c".into(),
        payload: "{}".into(),
    };
    store
        .dedupe_and_enqueue(
            &format!("k-{}", payloads.join("-")),
            Duration::from_secs(60),
            &event,
            T0,
        )
        .await
        .unwrap();
    let claimed = store
        .claim_event(T0, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let commit = Commit {
        outbox: payloads
            .iter()
            .map(|p| OutboxItem {
                channel: format!("member:{p}"),
                payload: (*p).to_owned(),
            })
            .collect(),
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&claimed, &commit, T0).await.unwrap(),
        CommitOutcome::Committed
    );
    let got = store
        .claim_outbox(T0, Duration::from_secs(1), 100)
        .await
        .unwrap();
    let ids = got.iter().map(|c| c.id).collect();
    for c in got {
        store.defer_outbox(c.id, T0).await.unwrap();
    }
    ids
}

async fn failures_remember_the_first_and_the_unknown_outcome(store: Arc<dyn Store>) {
    let id = queue(&store, &["a"]).await[0];
    let lease = Duration::from_secs(30);
    let got = store.claim_outbox(T0, lease, 10).await.unwrap();
    assert_eq!(
        (got[0].first_failed_ms, got[0].unknown_since_ms),
        (None, None)
    );
    // A definite failure: the first failure's time is kept, no unknown outcome.
    let fo = store
        .fail_outbox(id, "connect", Some(T0 + 10 * SEC), T0 + SEC, None)
        .await
        .unwrap();
    assert_eq!(fo, FailOutcome::Rescheduled);
    let got = store.claim_outbox(T0 + 10 * SEC, lease, 10).await.unwrap();
    assert_eq!(
        (
            got[0].failures,
            got[0].first_failed_ms,
            got[0].unknown_since_ms
        ),
        (1, Some(T0 + SEC), None)
    );
    // A timeout: the attempt's start is kept, and only the first one.
    store
        .fail_outbox(
            id,
            "timeout",
            Some(T0 + 20 * SEC),
            T0 + 15 * SEC,
            Some(T0 + 10 * SEC),
        )
        .await
        .unwrap();
    let got = store.claim_outbox(T0 + 20 * SEC, lease, 10).await.unwrap();
    store
        .fail_outbox(
            id,
            "timeout",
            Some(T0 + 30 * SEC),
            T0 + 25 * SEC,
            Some(T0 + 20 * SEC),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            got[0].failures,
            got[0].first_failed_ms,
            got[0].unknown_since_ms
        ),
        (2, Some(T0 + SEC), Some(T0 + 10 * SEC))
    );
    let got = store.claim_outbox(T0 + 30 * SEC, lease, 10).await.unwrap();
    assert_eq!(
        (
            got[0].failures,
            got[0].first_failed_ms,
            got[0].unknown_since_ms
        ),
        (3, Some(T0 + SEC), Some(T0 + 10 * SEC))
    );
}

async fn an_expired_lease_makes_the_outcome_unknown(store: Arc<dyn Store>) {
    queue(&store, &["a", "b"]).await;
    let lease = Duration::from_secs(20);
    let got = store.claim_outbox(T0 + SEC, lease, 10).await.unwrap();
    assert_eq!(got.len(), 2);
    // The sender dies holding both; another takes them over once the lease ran out.
    assert!(
        store
            .claim_outbox(T0 + 20 * SEC, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "still leased"
    );
    let again = store.claim_outbox(T0 + 21 * SEC, lease, 10).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(
        again
            .iter()
            .all(|c| c.unknown_since_ms == Some(T0 + SEC) && c.failures == 0),
        "{again:?}"
    );
}

async fn a_renewed_lease_is_not_taken_over(store: Arc<dyn Store>) {
    let ids = queue(&store, &["a", "b"]).await;
    let got = store
        .claim_outbox(T0, Duration::from_secs(2), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    // The sender still works on `a` and renews it; `b` is done.
    store.complete_outboxes(&[ids[1]]).await.unwrap();
    store.renew_outbox(&ids, T0 + 60 * SEC).await.unwrap();
    assert!(
        store
            .claim_outbox(T0 + 30 * SEC, Duration::from_secs(2), 10)
            .await
            .unwrap()
            .is_empty(),
        "renewed, not taken over"
    );
    assert_eq!(
        store.queue_stats().await.unwrap().outbox,
        1,
        "a renewal revives nothing"
    );
    let got = store
        .claim_outbox(T0 + 61 * SEC, Duration::from_secs(2), 10)
        .await
        .unwrap();
    assert_eq!(got.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[0]]);
    // Renewing an item no longer claimed leaves it due.
    store.defer_outbox(ids[0], T0 + 70 * SEC).await.unwrap();
    store.renew_outbox(&ids, T0 + 900 * SEC).await.unwrap();
    assert_eq!(
        store
            .claim_outbox(T0 + 70 * SEC, Duration::from_secs(2), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn dead_letters_are_queued_again_all_or_by_id(store: Arc<dyn Store>) {
    let ids = queue(&store, &["a", "b", "c"]).await;
    let lease = Duration::from_secs(30);
    let got = store.claim_outbox(T0, lease, 10).await.unwrap();
    assert_eq!(got.len(), 3);
    for id in &ids {
        store
            .fail_outbox(*id, "81013", None, T0 + SEC, Some(T0))
            .await
            .unwrap();
    }
    assert_eq!(store.dead_letters(10).await.unwrap().len(), 3);

    // By id: only `b`, as a fresh item (no failures, no unknown outcome), due now.
    let queued = store
        .resend_dead_letters(&[ids[1]], T0 + 100 * SEC)
        .await
        .unwrap();
    assert_eq!(queued, [ids[1]]);
    let dead: Vec<u64> = store
        .dead_letters(10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(dead, [ids[2], ids[0]]);
    assert!(
        store
            .resend_dead_letters(&[ids[1]], T0 + 100 * SEC)
            .await
            .unwrap()
            .is_empty(),
        "not dead anymore"
    );
    let got = store.claim_outbox(T0 + 100 * SEC, lease, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].id, got[0].payload.as_str(), got[0].channel.as_str()),
        (ids[1], "b", "member:b")
    );
    assert_eq!(
        (
            got[0].failures,
            got[0].first_failed_ms,
            got[0].unknown_since_ms
        ),
        (0, None, None)
    );

    // All: the rest, oldest first.
    let queued = store
        .resend_dead_letters(&[], T0 + 200 * SEC)
        .await
        .unwrap();
    assert_eq!(queued, [ids[0], ids[2]]);
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    let stats = store.queue_stats().await.unwrap();
    assert_eq!((stats.outbox, stats.dead_letters), (3, 0));
}
