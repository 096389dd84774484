//! Conformance of case versions: optimistic concurrency on cases written by events of different
//! conversations (`CaseWrite::expected_version`, checked inside `complete_event`). Properties run
//! on both backends through the parent's `properties!`, plus backend-specific upgrade checks.

use super::*;
use flowbot::adapters::store::CommitOutcome::Conflict;
use flowbot::adapters::store::{CaseRecord, CaseWrite};

/// A body write of case `number` expecting `expected` (`None`: no check).
fn versioned_write(
    number: &str,
    expected: Option<u64>,
    body: Option<&str>,
    history: &[&str],
) -> CaseWrite {
    CaseWrite {
        expected_version: expected,
        ..case(number, body, history)
    }
}

fn only_cases(cases: Vec<CaseWrite>) -> Commit {
    Commit {
        cases,
        ..Default::default()
    }
}

async fn version_of(store: &Arc<dyn Store>, number: &str) -> u64 {
    store
        .get_case(number)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("case {number} exists"))
        .version
}

/// Queues one event for each conversation and claims them all; returns them in the given order.
async fn claim_each(
    store: &Arc<dyn Store>,
    conversations: &[String],
    now: i64,
) -> Vec<ClaimedEvent> {
    for c in conversations {
        let key = format!("cv-{:016x}", rand::random::<u64>());
        enqueue(store, &key, ev(c, "tap"), now).await;
    }
    let mut by_conversation = HashMap::new();
    for _ in conversations {
        let e = claim(store, now).await.expect("one event per conversation");
        by_conversation.insert(e.conversation.clone(), e);
    }
    conversations
        .iter()
        .map(|c| by_conversation.remove(c).expect("claimed"))
        .collect()
}

/// Property 18: 20 events of 20 different conversations race to write case X expecting version 1:
/// exactly one commits (version 2, one history entry, its state, outbox item and index); the 19
/// others apply nothing and keep their events and leases. A loser that re-reads the case and
/// retries with the new version commits; one retrying with the stale version still conflicts.
pub(super) async fn case_version_one_winner_among_racers(store: Arc<dyn Store>) {
    let filing = versioned_write("X", Some(0), Some("v1"), &["created"]);
    assert_eq!(
        step(&store, "applicant", only_cases(vec![filing]), T0).await,
        Committed
    );
    assert_eq!(version_of(&store, "X").await, 1);

    let conversations: Vec<String> = (0..20).map(|i| format!("approver{i}")).collect();
    let events = claim_each(&store, &conversations, T0 + 1).await;
    let start = Arc::new(tokio::sync::Barrier::new(events.len()));
    let racers: Vec<_> = events
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, e)| {
            let (store, start) = (store.clone(), start.clone());
            let commit = Commit {
                outbox: vec![item(&format!("member:approver{i}"), &format!("o{i}"))],
                state: set_state(0, &format!("s{i}")),
                cases: vec![CaseWrite {
                    add_to: strings(&[&format!("decided-by:{i}")]),
                    ..versioned_write(
                        "X",
                        Some(1),
                        Some(&format!("w{i}")),
                        &[&format!("approved by {i}")],
                    )
                }],
                ..Default::default()
            };
            tokio::spawn(async move {
                start.wait().await;
                (i, store.complete_event(&e, &commit, T0 + 1).await.unwrap())
            })
        })
        .collect();
    let (mut winners, mut losers) = (vec![], vec![]);
    for r in racers {
        match r.await.unwrap() {
            (i, Committed) => winners.push(i),
            (i, Conflict) => losers.push(i),
            (i, other) => panic!("racer {i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one commit wins: {winners:?}");
    assert_eq!(losers.len(), 19);
    let w = winners[0];
    let expected = CaseRecord {
        number: "X".into(),
        version: 2,
        body: format!("w{w}"),
        history: vec!["created".into(), format!("approved by {w}")],
    };
    assert_eq!(store.get_case("X").await.unwrap(), Some(expected));
    for i in 0..20 {
        let state = store
            .load_conversation(&format!("approver{i}"))
            .await
            .unwrap();
        assert_eq!(state.is_some(), i == w, "state of approver{i}");
        let decided = store.cases_in(&format!("decided-by:{i}")).await.unwrap();
        assert_eq!(decided.len(), usize::from(i == w), "index of approver{i}");
    }
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        (stats.events, stats.outbox),
        (19, 1),
        "losers keep their events and queue nothing"
    );
    assert_eq!(
        claim(&store, T0 + 1).await,
        None,
        "losers keep their leases"
    );

    // The losers re-read and step again: the first with the fresh version commits, the next one
    // still holding version 1 (or 2, now stale too) conflicts.
    let (l1, l2) = (losers[0], losers[1]);
    let fresh = version_of(&store, "X").await;
    assert_eq!(fresh, 2);
    let retry = only_cases(vec![versioned_write(
        "X",
        Some(fresh),
        Some(&format!("w{l1}")),
        &[&format!("approved by {l1}")],
    )]);
    assert_eq!(
        store
            .complete_event(&events[l1], &retry, T0 + 2)
            .await
            .unwrap(),
        Committed
    );
    for stale in [1, 2] {
        let late = only_cases(vec![versioned_write(
            "X",
            Some(stale),
            Some("late"),
            &["late"],
        )]);
        assert_eq!(
            store
                .complete_event(&events[l2], &late, T0 + 2)
                .await
                .unwrap(),
            Conflict
        );
    }
    let got = store.get_case("X").await.unwrap().unwrap();
    assert_eq!(
        (got.version, got.body.as_str()),
        (3, format!("w{l1}").as_str())
    );
    assert_eq!(
        got.history,
        [
            "created".to_string(),
            format!("approved by {w}"),
            format!("approved by {l1}")
        ]
    );
}

/// Property 19: a case version conflict applies nothing of its commit (no state, no outbox item,
/// no other case's body, history or index change, no new case), wherever the stale write sits in
/// the commit, and the event stays claimed; a state conflict with valid case versions applies
/// nothing either. Re-run with the fresh versions, the same event commits; completing it again
/// is AlreadyDone even with a stale case version.
pub(super) async fn case_conflict_applies_nothing(store: Arc<dyn Store>) {
    let filing = vec![
        CaseWrite {
            add_to: strings(&["ix:x"]),
            ..case("X", Some("x1"), &["created"])
        },
        CaseWrite {
            add_to: strings(&["ix:y"]),
            ..case("Y", Some("y1"), &["created"])
        },
    ];
    assert_eq!(
        step(&store, "applicant", only_cases(filing), T0).await,
        Committed
    );
    let x_before = store.get_case("X").await.unwrap();
    let y_before = store.get_case("Y").await.unwrap();
    assert_eq!(x_before.as_ref().unwrap().version, 1);

    let commit_with = |x_expected: u64, state_expected: u64| Commit {
        outbox: vec![item("member:a", "decided")],
        state: set_state(state_expected, "a1"),
        cases: vec![
            CaseWrite {
                remove_from: strings(&["ix:y"]),
                add_to: strings(&["ix:new"]),
                ..case("Y", Some("y2"), &["touched"])
            },
            versioned_write("Z", Some(0), Some("z1"), &["created"]),
            CaseWrite {
                add_to: strings(&["ix:new"]),
                ..versioned_write("X", Some(x_expected), Some("x2"), &["approved"])
            },
        ],
        ..Default::default()
    };
    let e = claim_each(&store, &["A".to_string()], T0 + 1)
        .await
        .remove(0);
    for (x_expected, state_expected) in [(0, 0), (2, 0), (1, 7)] {
        assert_eq!(
            store
                .complete_event(&e, &commit_with(x_expected, state_expected), T0 + 1)
                .await
                .unwrap(),
            Conflict,
            "X expecting {x_expected}, state expecting {state_expected}"
        );
        assert_eq!(store.load_conversation("A").await.unwrap(), None);
        assert_eq!(store.get_case("X").await.unwrap(), x_before);
        assert_eq!(store.get_case("Y").await.unwrap(), y_before);
        assert_eq!(store.get_case("Z").await.unwrap(), None);
        assert!(store.cases_in("ix:new").await.unwrap().is_empty());
        assert_eq!(store.cases_in("ix:y").await.unwrap(), ["Y"]);
        let stats = store.queue_stats().await.unwrap();
        assert_eq!((stats.events, stats.outbox), (1, 0));
        assert_eq!(claim(&store, T0 + 1).await, None, "the event stays claimed");
    }

    assert_eq!(
        store
            .complete_event(&e, &commit_with(1, 0), T0 + 2)
            .await
            .unwrap(),
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "a1")
    );
    assert_eq!(
        (
            version_of(&store, "X").await,
            version_of(&store, "Y").await,
            version_of(&store, "Z").await
        ),
        (2, 2, 1)
    );
    assert_eq!(store.cases_in("ix:new").await.unwrap(), ["Y", "X"]);
    assert_eq!(store.queue_stats().await.unwrap().outbox, 1);
    assert_eq!(
        store
            .complete_event(&e, &commit_with(0, 0), T0 + 3)
            .await
            .unwrap(),
        AlreadyDone,
        "already done is answered before any version check"
    );
    assert_eq!(version_of(&store, "X").await, 2);
}

/// Property 20: `Some(0)` commits for a case that does not exist yet (or has history only) and
/// conflicts once it has a body; `None` never conflicts, not even among concurrent writers of
/// different conversations; only writes that set a body bump the version.
pub(super) async fn case_expected_version_zero_and_none(store: Arc<dyn Store>) {
    let new = versioned_write("N", Some(0), Some("n1"), &["created"]);
    assert_eq!(
        step(&store, "a", only_cases(vec![new]), T0).await,
        Committed
    );
    assert_eq!(version_of(&store, "N").await, 1);
    let again = versioned_write("N", Some(0), Some("dup"), &["created again"]);
    assert_eq!(
        step(&store, "a", only_cases(vec![again]), T0).await,
        Conflict
    );
    // That event is still leased: step would claim nothing, so complete it with no case.
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(stats.events, 1);
    let e = store
        .claim_event(T0 + 60 * SEC, secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        complete(&store, &e, &[], T0 + 60 * SEC).await,
        Committed,
        "the conflicting event is handed out again after its lease"
    );
    let got = store.get_case("N").await.unwrap().unwrap();
    assert_eq!((got.version, got.body.as_str()), (1, "n1"));
    assert_eq!(got.history, ["created"]);

    // None: no check; a body bumps the version, history and indexes alone do not.
    let overwrite = versioned_write("N", None, Some("n2"), &["edited"]);
    assert_eq!(
        step(&store, "b", only_cases(vec![overwrite]), T0).await,
        Committed
    );
    assert_eq!(version_of(&store, "N").await, 2);
    let note = CaseWrite {
        add_to: strings(&["ix:n"]),
        ..versioned_write("N", None, None, &["noted"])
    };
    assert_eq!(
        step(&store, "c", only_cases(vec![note]), T0).await,
        Committed
    );
    assert_eq!(version_of(&store, "N").await, 2);
    let checked_note = versioned_write("N", Some(2), None, &["checked note"]);
    assert_eq!(
        step(&store, "c", only_cases(vec![checked_note]), T0).await,
        Committed
    );
    let got = store.get_case("N").await.unwrap().unwrap();
    assert_eq!((got.version, got.body.as_str()), (2, "n2"));
    assert_eq!(got.history, ["created", "edited", "noted", "checked note"]);
    assert_eq!(store.cases_in("ix:n").await.unwrap(), ["N"]);

    // Ten writers of ten conversations, none checking: all commit, each bumps the version once.
    let conversations: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
    let events = claim_each(&store, &conversations, T0 + 1).await;
    let writers: Vec<_> = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let store = store.clone();
            let commit = only_cases(vec![versioned_write(
                "N",
                None,
                Some(&format!("b{i}")),
                &[&format!("by {i}")],
            )]);
            tokio::spawn(async move { store.complete_event(&e, &commit, T0 + 1).await.unwrap() })
        })
        .collect();
    for w in writers {
        assert_eq!(w.await.unwrap(), Committed);
    }
    let got = store.get_case("N").await.unwrap().unwrap();
    assert_eq!(got.version, 12);
    assert_eq!(got.history.len(), 14);

    // A case with history only is at version 0: Some(0) still commits its first body.
    let history_only = versioned_write("H", None, None, &["noted"]);
    assert_eq!(
        step(&store, "d", only_cases(vec![history_only]), T0 + 2).await,
        Committed
    );
    assert_eq!(version_of(&store, "H").await, 0);
    let first_body = versioned_write("H", Some(0), Some("h1"), &["filed"]);
    assert_eq!(
        step(&store, "d", only_cases(vec![first_body]), T0 + 2).await,
        Committed
    );
    let expected = CaseRecord {
        number: "H".into(),
        version: 1,
        body: "h1".into(),
        history: strings(&["noted", "filed"]),
    };
    assert_eq!(store.get_case("H").await.unwrap(), Some(expected));
}

// ---------------------------------------------------------------------------------------------
// Upgrades of stores written before case versions existed

/// Property 21: an embedded file whose `cases` table predates versions is upgraded at open: its
/// cases count as version 1 and take versioned writes.
#[tokio::test]
async fn embedded_cases_from_before_versions_are_version_one() {
    let dir = tempfile::tempdir().unwrap();
    {
        let old = rusqlite::Connection::open(dir.path().join("flowbot.sqlite")).unwrap();
        old.execute_batch(
            "CREATE TABLE cases (number TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
             INSERT INTO cases (number, body) VALUES ('OLD', 'old body');",
        )
        .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    assert_eq!(version_of(&store, "OLD").await, 1);
    let stale = versioned_write("OLD", Some(0), Some("new"), &[]);
    assert_eq!(
        step(&store, "a", only_cases(vec![stale]), T0).await,
        Conflict
    );
    let e = store
        .claim_event(T0 + 60 * SEC, secs(30))
        .await
        .unwrap()
        .unwrap();
    let fresh = only_cases(vec![versioned_write("OLD", Some(1), Some("new"), &[])]);
    assert_eq!(
        store
            .complete_event(&e, &fresh, T0 + 60 * SEC)
            .await
            .unwrap(),
        Committed
    );
    let got = store.get_case("OLD").await.unwrap().unwrap();
    assert_eq!((got.version, got.body.as_str()), (2, "new"));
    drop(store);
    // Opening an upgraded file again changes nothing.
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    assert_eq!(version_of(&store, "OLD").await, 2);
}

/// Property 22: on Redis a case body without a `case-v:` key (written before versions existed)
/// counts as version 1; the first versioned write stores version 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cases_from_before_versions_are_version_one() {
    let Some(h) = redis_harness().await else {
        return;
    };
    let (url, prefix) = h.redis.clone().unwrap();
    let k = RedisStore::connect(&url, &prefix)
        .await
        .unwrap()
        .keys()
        .clone();
    let mut con = flowbot::adapters::store::redis::RedisConnection::open(&url)
        .await
        .unwrap();
    let _: () = ::redis::cmd("SET")
        .arg(k.case("OLD"))
        .arg("old body")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(version_of(&h.store, "OLD").await, 1);
    let stale = versioned_write("OLD", Some(0), Some("new"), &[]);
    assert_eq!(
        step(&h.store, "a", only_cases(vec![stale]), T0).await,
        Conflict
    );
    let e = h
        .store
        .claim_event(T0 + 60 * SEC, secs(30))
        .await
        .unwrap()
        .unwrap();
    let fresh = only_cases(vec![versioned_write("OLD", Some(1), Some("new"), &[])]);
    assert_eq!(
        h.store
            .complete_event(&e, &fresh, T0 + 60 * SEC)
            .await
            .unwrap(),
        Committed
    );
    let got = h.store.get_case("OLD").await.unwrap().unwrap();
    assert_eq!((got.version, got.body.as_str()), (2, "new"));
    let stored: String = ::redis::cmd("GET")
        .arg(k.case_version("OLD"))
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(stored, "2");
}
