//! Conformance of the worker's batched operations: `claim_events` (the heads of distinct
//! conversations, each leased, with its conversation's state) and `complete_events` (one store
//! operation, each event's commit all or nothing with its own version checks), and the sender's
//! `complete_outboxes`. Properties run on both backends through the parent's `properties!`.

use super::*;
use flowbot::adapters::store::CommitOutcome::Conflict;
use flowbot::adapters::store::{CaseWrite, Claim};

async fn claim_batch(store: &Arc<dyn Store>, now: i64, max: usize) -> Vec<Claim> {
    store.claim_events(now, secs(30), max).await.unwrap()
}

/// Property B1: one claim hands out the head of each ready conversation (oldest head first, at
/// most `max`), each with its stored state and version; while they are leased nothing of them
/// is handed out again, and a conversation's next event comes after its head is completed.
pub(super) async fn claim_events_heads_of_distinct_conversations_with_state(store: Arc<dyn Store>) {
    assert_eq!(
        step(&store, "B", state_commit(0, "b1"), T0).await,
        Committed
    );
    enqueue(&store, "a1", ev("A", "a1"), T0 + 1).await;
    enqueue(&store, "a2", ev("A", "a2"), T0 + 1).await;
    enqueue(&store, "b2", ev("B", "b2"), T0 + 1).await;
    enqueue(&store, "c1", ev("C", "c1"), T0 + 1).await;
    assert!(claim_batch(&store, T0 + 2, 0).await.is_empty(), "max 0");
    let first = claim_batch(&store, T0 + 2, 2).await;
    let heads: Vec<_> = first.iter().map(|c| c.event.payload.as_str()).collect();
    assert_eq!(heads, ["a1", "b2"], "oldest heads first, at most max");
    assert_eq!(first[0].state, None, "A has no state");
    assert_eq!(
        first[1].state,
        versioned(1, "b1"),
        "B's state with its version"
    );
    assert!(first.iter().all(|c| c.event.attempt == 1));
    let rest = claim_batch(&store, T0 + 2, 10).await;
    let heads: Vec<_> = rest.iter().map(|c| c.event.payload.as_str()).collect();
    assert_eq!(heads, ["c1"], "leased conversations are skipped");
    assert!(claim_batch(&store, T0 + 2, 10).await.is_empty());
    let done = store
        .complete_events(&[(first[0].event.clone(), state_commit(0, "a"))], T0 + 3)
        .await
        .unwrap();
    assert_eq!(done, [Committed]);
    let next = claim_batch(&store, T0 + 3, 10).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event.payload, "a2");
    assert_eq!(
        next[0].state,
        versioned(1, "a"),
        "the state its head committed"
    );
    let again = claim_batch(&store, T0 + 31 * SEC, 10).await;
    assert_eq!(again.len(), 3, "leases expire: B, C and A handed out again");
    assert!(again.iter().all(|c| c.event.attempt == 2));
}

/// Property B2: a batch commit applies each event on its own, in order: a stale state version or
/// a case moved by an earlier event of the same batch is a conflict for that event alone (it
/// applies nothing and stays leased), an event already completed is `AlreadyDone`, the others
/// commit.
pub(super) async fn complete_events_each_all_or_nothing(store: Arc<dyn Store>) {
    for c in ["A", "B", "C", "D"] {
        enqueue(&store, c, ev(c, c), T0).await;
    }
    let claims = claim_batch(&store, T0, 4).await;
    assert_eq!(claims.len(), 4);
    let claimed: Vec<ClaimedEvent> = claims.into_iter().map(|c| c.event).collect();
    assert_eq!(
        store
            .complete_event(&claimed[3], &Commit::default(), T0)
            .await
            .unwrap(),
        Committed
    );
    let with_case = |state: &str, out: &str| Commit {
        outbox: vec![item("member:x", out)],
        state: set_state(0, state),
        cases: vec![CaseWrite {
            expected_version: Some(0),
            ..case("N-1", Some(state), &[state])
        }],
        ..Default::default()
    };
    let batch = vec![
        (claimed[0].clone(), with_case("a", "oa")),
        (claimed[1].clone(), with_case("b", "ob")),
        (claimed[2].clone(), state_commit(7, "c")),
        (claimed[3].clone(), state_commit(0, "d")),
    ];
    let outcomes = store.complete_events(&batch, T0 + 1).await.unwrap();
    assert_eq!(outcomes, [Committed, Conflict, Conflict, AlreadyDone]);
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "a")
    );
    for c in ["B", "C", "D"] {
        assert_eq!(store.load_conversation(c).await.unwrap(), None, "{c}");
    }
    let case = store.get_case("N-1").await.unwrap().unwrap();
    assert_eq!((case.version, case.history), (1, strings(&["a"])));
    let sent = store.claim_outbox(T0 + 1, secs(30), 10).await.unwrap();
    let payloads: Vec<_> = sent.iter().map(|o| o.payload.as_str()).collect();
    assert_eq!(payloads, ["oa"], "only the committed event's message");
    assert_eq!(store.queue_stats().await.unwrap().events, 2, "B and C stay");
    assert_eq!(
        store.queued_events().await.unwrap(),
        2,
        "the cheap count agrees"
    );
    assert!(
        claim_batch(&store, T0 + 2, 10).await.is_empty(),
        "still leased"
    );
    let retry = vec![
        (claimed[1].clone(), state_commit(0, "b")),
        (claimed[2].clone(), state_commit(0, "c")),
    ];
    let outcomes = store.complete_events(&retry, T0 + 2).await.unwrap();
    assert_eq!(outcomes, [Committed, Committed]);
    assert_eq!(store.queue_stats().await.unwrap().events, 0);
    assert_eq!(store.queued_events().await.unwrap(), 0);
    assert!(store.complete_events(&[], T0 + 3).await.unwrap().is_empty());
}

/// Property B3: four workers claiming batches concurrently and committing them in one operation
/// never hold the same conversation at once, and complete every event exactly once, each
/// conversation's in order, its state stepping one version per event.
pub(super) async fn concurrent_batch_claimers_never_share_a_conversation(store: Arc<dyn Store>) {
    const CONVERSATIONS: usize = 30;
    const EACH: usize = 5;
    for n in 0..EACH {
        for c in 0..CONVERSATIONS {
            let key = format!("k{c}-{n}");
            enqueue(&store, &key, ev(&format!("c{c}"), &n.to_string()), T0).await;
        }
    }
    let in_flight = Arc::new(Mutex::new(HashSet::<String>::new()));
    let completed = Arc::new(Mutex::new(Vec::<(String, usize)>::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (store, in_flight, completed) =
                (store.clone(), in_flight.clone(), completed.clone());
            tokio::spawn(async move {
                loop {
                    let claims = store.claim_events(T0, secs(600), 7).await.unwrap();
                    if claims.is_empty() {
                        if store.queue_stats().await.unwrap().events == 0 {
                            return;
                        }
                        tokio::task::yield_now().await;
                        continue;
                    }
                    let mut batch = Vec::new();
                    for claim in claims {
                        let conversation = claim.event.conversation.clone();
                        assert!(
                            in_flight.lock().unwrap().insert(conversation.clone()),
                            "two events of {conversation} handed out at once"
                        );
                        let n: usize = claim.event.payload.parse().unwrap();
                        let version = claim.state.as_ref().map_or(0, |s| s.version);
                        assert_eq!(
                            version, n as u64,
                            "{conversation}: the state its last event wrote"
                        );
                        completed.lock().unwrap().push((conversation, n));
                        batch.push((claim.event, state_commit(version, &n.to_string())));
                    }
                    tokio::task::yield_now().await;
                    for (e, _) in &batch {
                        in_flight.lock().unwrap().remove(&e.conversation);
                    }
                    let outcomes = store.complete_events(&batch, T0).await.unwrap();
                    assert!(outcomes.iter().all(|o| *o == Committed), "{outcomes:?}");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let completed = completed.lock().unwrap();
    assert_eq!(completed.len(), CONVERSATIONS * EACH, "each event once");
    let mut next: HashMap<&str, usize> = HashMap::new();
    for (c, n) in completed.iter() {
        let expected = next.entry(c).or_default();
        assert_eq!(n, expected, "conversation {c} out of order");
        *expected += 1;
    }
}

fn state_commit(expected_version: u64, state: &str) -> Commit {
    Commit {
        state: set_state(expected_version, state),
        ..Default::default()
    }
}

/// Property B4: delivered outbox items are removed together, unknown ids ignored; the others
/// stay claimed and come back after their lease.
pub(super) async fn complete_outboxes_removes_only_those(store: Arc<dyn Store>) {
    enqueue(&store, "A", ev("A", "A"), T0).await;
    let e = claim(&store, T0).await.unwrap();
    let items = [
        item("member:a", "o1"),
        item("member:b", "o2"),
        item("member:c", "o3"),
    ];
    assert_eq!(complete(&store, &e, &items, T0).await, Committed);
    let claimed = store.claim_outbox(T0, secs(20), 10).await.unwrap();
    let ids: Vec<u64> = claimed.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), 3);
    store.complete_outboxes(&[]).await.unwrap();
    store
        .complete_outboxes(&[ids[0], ids[2], ids[2] + 1000])
        .await
        .unwrap();
    assert_eq!(store.queue_stats().await.unwrap().outbox, 1);
    let again = store
        .claim_outbox(T0 + 21 * SEC, secs(20), 10)
        .await
        .unwrap();
    let payloads: Vec<_> = again.iter().map(|o| o.payload.as_str()).collect();
    assert_eq!(payloads, ["o2"], "only the one not completed comes back");
}
