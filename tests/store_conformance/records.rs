//! Conformance of conversation state (versioned CAS), cases and number series: properties run on
//! both backends through the parent's `properties!`, plus backend-specific checks.

use super::*;
use flowbot::adapters::store::CommitOutcome::Conflict;
use flowbot::adapters::store::{CaseRecord, CaseWrite, StateWrite, VersionedState};

pub(super) fn set_state(expected_version: u64, state: &str) -> Option<StateWrite> {
    Some(StateWrite {
        expected_version,
        state: Some(state.into()),
    })
}

pub(super) fn case(number: &str, body: Option<&str>, history: &[&str]) -> CaseWrite {
    CaseWrite {
        number: number.into(),
        body: body.map(Into::into),
        history: history.iter().map(|h| h.to_string()).collect(),
        ..Default::default()
    }
}

pub(super) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub(super) fn versioned(version: u64, state: &str) -> Option<VersionedState> {
    Some(VersionedState {
        version,
        state: state.into(),
    })
}

/// Queues and claims one event of `conversation`, then completes it with `commit`.
pub(super) async fn step(
    store: &Arc<dyn Store>,
    conversation: &str,
    commit: Commit,
    now: i64,
) -> CommitOutcome {
    let key = format!("step-{:016x}", rand::random::<u64>());
    enqueue(store, &key, ev(conversation, "step"), now).await;
    let e = claim(store, now).await.expect("the step's event");
    assert_eq!(e.conversation, conversation);
    store.complete_event(&e, &commit, now).await.unwrap()
}

/// Property 9: 20 concurrent commits on one conversation expecting the same version: exactly one
/// applies (its state, outbox item and case), the other 19 apply nothing and keep their events.
pub(super) async fn state_cas_one_winner_among_racers(store: Arc<dyn Store>) {
    let mut events = vec![];
    for i in 0..20 {
        let id = enqueue(&store, &format!("k{i}"), ev("A", &format!("e{i}")), T0).await;
        events.push(ClaimedEvent {
            event_id: id,
            conversation: "A".into(),
            payload: format!("e{i}"),
            attempt: 1,
        });
    }
    assert_eq!(
        claim(&store, T0).await.unwrap(),
        events[0],
        "the head is claimed"
    );
    let racers: Vec<_> = events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let store = store.clone();
            let commit = Commit {
                outbox: vec![item("member:a", &format!("o{i}"))],
                state: set_state(0, &format!("s{i}")),
                cases: vec![case(&format!("C{i}"), Some("{}"), &["created"])],
                ..Default::default()
            };
            tokio::spawn(async move { (i, store.complete_event(&e, &commit, T0).await.unwrap()) })
        })
        .collect();
    let mut winners = vec![];
    for r in racers {
        match r.await.unwrap() {
            (i, Committed) => winners.push(i),
            (_, Conflict) => {}
            (i, other) => panic!("racer {i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one commit wins: {winners:?}");
    let w = winners[0];
    let state = store.load_conversation("A").await.unwrap();
    assert_eq!(state, versioned(1, &format!("s{w}")));
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        (stats.events, stats.outbox),
        (19, 1),
        "losers keep their events"
    );
    let sent = store.claim_outbox(T0, secs(30), 10).await.unwrap();
    assert_eq!(sent[0].payload, format!("o{w}"));
    for i in 0..20 {
        let got = store.get_case(&format!("C{i}")).await.unwrap();
        assert_eq!(got.is_some(), i == w, "case C{i}");
    }
}

/// Property 10: a commit expecting a stale version applies nothing, keeps its lease, and its event
/// is handed out again after the lease; re-run against the fresh version it commits.
pub(super) async fn stale_state_version_applies_nothing(store: Arc<dyn Store>) {
    let one = Commit {
        state: set_state(0, "one"),
        ..Default::default()
    };
    assert_eq!(step(&store, "A", one, T0).await, Committed);
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "one")
    );

    let id = enqueue(&store, "k", ev("A", "second"), T0 + 1).await;
    let e = claim(&store, T0 + 1).await.unwrap();
    assert_eq!(e.event_id, id);
    let mut stale = Commit {
        outbox: vec![item("member:a", "reply")],
        state: set_state(0, "two"),
        cases: vec![CaseWrite {
            add_to: strings(&["pending:lisi"]),
            ..case("BA2026-1", Some("{\"n\":1}"), &["created"])
        }],
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&e, &stale, T0 + 2).await.unwrap(),
        Conflict
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "one")
    );
    let stats = store.queue_stats().await.unwrap();
    assert_eq!(
        (stats.events, stats.outbox),
        (1, 0),
        "no outbox item, event kept"
    );
    assert_eq!(store.get_case("BA2026-1").await.unwrap(), None);
    assert!(store.cases_in("pending:lisi").await.unwrap().is_empty());
    assert!(claim(&store, T0 + 29 * SEC).await.is_none(), "still leased");

    let again = claim(&store, T0 + 1 + 30 * SEC)
        .await
        .expect("claimable after the lease");
    assert_eq!((again.event_id, again.attempt), (id, 2));
    stale.state = set_state(1, "two");
    assert_eq!(
        store
            .complete_event(&again, &stale, T0 + 31 * SEC)
            .await
            .unwrap(),
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(2, "two")
    );
    assert_eq!(store.queue_stats().await.unwrap().outbox, 1);
    assert_eq!(store.cases_in("pending:lisi").await.unwrap(), ["BA2026-1"]);
}

/// Property 11: a second completion of the same event (or of an unknown event) is AlreadyDone and
/// applies nothing, even when its state write would match.
pub(super) async fn second_completion_applies_nothing(store: Arc<dyn Store>) {
    enqueue(&store, "k", ev("A", "x"), T0).await;
    let e = claim(&store, T0).await.unwrap();
    let first = Commit {
        outbox: vec![item("member:a", "m1")],
        state: set_state(0, "s1"),
        cases: vec![CaseWrite {
            add_to: strings(&["ix"]),
            ..case("K", Some("b1"), &["h1"])
        }],
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&e, &first, T0).await.unwrap(),
        Committed
    );
    let second = Commit {
        outbox: vec![item("member:a", "m2")],
        state: set_state(1, "s2"),
        cases: vec![CaseWrite {
            add_to: strings(&["ix2"]),
            expected_version: Some(1),
            ..case("K", Some("b2"), &["h2"])
        }],
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&e, &second, T0 + 1).await.unwrap(),
        AlreadyDone
    );
    let unknown = ClaimedEvent {
        event_id: 999_999,
        ..e.clone()
    };
    assert_eq!(
        store
            .complete_event(&unknown, &second, T0 + 1)
            .await
            .unwrap(),
        AlreadyDone
    );

    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "s1")
    );
    let expected = CaseRecord {
        number: "K".into(),
        version: 1,
        body: "b1".into(),
        history: strings(&["h1"]),
    };
    assert_eq!(store.get_case("K").await.unwrap(), Some(expected));
    assert!(store.cases_in("ix2").await.unwrap().is_empty());
    assert_eq!(store.queue_stats().await.unwrap().outbox, 1);
}

/// Property 12: `state: None` deletes the state (version back to 0); a commit without a state
/// write leaves it untouched.
pub(super) async fn state_delete_and_untouched(store: Arc<dyn Store>) {
    assert_eq!(store.load_conversation("A").await.unwrap(), None);
    let write = |expected, state: Option<&str>| Commit {
        state: Some(StateWrite {
            expected_version: expected,
            state: state.map(Into::into),
        }),
        ..Default::default()
    };
    assert_eq!(step(&store, "A", write(0, Some("a")), T0).await, Committed);
    assert_eq!(step(&store, "B", write(0, Some("b")), T0).await, Committed);
    assert_eq!(
        step(&store, "A", Commit::default(), T0 + 1).await,
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "a")
    );
    assert_eq!(
        step(&store, "A", write(1, Some("a2")), T0 + 2).await,
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(2, "a2")
    );

    assert_eq!(step(&store, "A", write(2, None), T0 + 3).await, Committed);
    assert_eq!(store.load_conversation("A").await.unwrap(), None);
    assert_eq!(
        store.load_conversation("B").await.unwrap(),
        versioned(1, "b")
    );
    // Deleted is absent: version 0 again.
    let e = {
        enqueue(&store, "k-stale", ev("A", "x"), T0 + 4).await;
        claim(&store, T0 + 4).await.unwrap()
    };
    assert_eq!(
        store
            .complete_event(&e, &write(2, Some("x")), T0 + 4)
            .await
            .unwrap(),
        Conflict
    );
    assert_eq!(
        store
            .complete_event(&e, &write(0, Some("a3")), T0 + 4)
            .await
            .unwrap(),
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "a3")
    );
}

/// Property 13: case bodies are replaced (or kept), history is append-only across commits, index
/// memberships are added and removed, and `cases_in` lists them in the order they were added.
pub(super) async fn cases_body_history_and_indexes(store: Arc<dyn Store>) {
    let c1 = CaseWrite {
        add_to: strings(&["applicant:zhangsan", "pending:lisi", "unit:3"]),
        ..case("BA2026-1", Some("{\"v\":1}"), &["created"])
    };
    let c2 = CaseWrite {
        add_to: strings(&["pending:lisi", "unit:3"]),
        ..case("BA2026-2", Some("{\"w\":1}"), &["created"])
    };
    let commit = Commit {
        cases: vec![c1, c2],
        ..Default::default()
    };
    assert_eq!(step(&store, "zhangsan", commit, T0).await, Committed);

    // Approved by lisi, forwarded to wangwu: the body is kept.
    let forward = CaseWrite {
        remove_from: strings(&["pending:lisi"]),
        add_to: strings(&["pending:wangwu", "unit:3"]),
        ..case("BA2026-1", None, &["approved by lisi", "forwarded"])
    };
    let commit = Commit {
        cases: vec![forward],
        ..Default::default()
    };
    assert_eq!(step(&store, "lisi", commit, T0 + 1).await, Committed);
    let got = store.get_case("BA2026-1").await.unwrap().unwrap();
    assert_eq!(got.body, "{\"v\":1}", "None keeps the body");
    assert_eq!(got.history, ["created", "approved by lisi", "forwarded"]);
    assert_eq!(store.cases_in("pending:lisi").await.unwrap(), ["BA2026-2"]);
    assert_eq!(
        store.cases_in("pending:wangwu").await.unwrap(),
        ["BA2026-1"]
    );
    assert_eq!(
        store.cases_in("unit:3").await.unwrap(),
        ["BA2026-1", "BA2026-2"],
        "adding a member again keeps its place"
    );

    // Closed: the body is replaced, the history grows.
    let close = CaseWrite {
        remove_from: strings(&["pending:wangwu"]),
        ..case("BA2026-1", Some("{\"v\":2}"), &["closed"])
    };
    let commit = Commit {
        cases: vec![close],
        ..Default::default()
    };
    assert_eq!(step(&store, "wangwu", commit, T0 + 2).await, Committed);
    let expected = CaseRecord {
        number: "BA2026-1".into(),
        version: 2,
        body: "{\"v\":2}".into(),
        history: strings(&["created", "approved by lisi", "forwarded", "closed"]),
    };
    assert_eq!(store.get_case("BA2026-1").await.unwrap(), Some(expected));
    assert!(store.cases_in("pending:wangwu").await.unwrap().is_empty());
    assert_eq!(
        store.get_case("BA2026-2").await.unwrap().unwrap().history,
        ["created"]
    );
    assert_eq!(store.get_case("BA2026-404").await.unwrap(), None);
    assert!(store.cases_in("nobody").await.unwrap().is_empty());

    // Order added, not lexical; removed then re-added goes to the end; a case with history only.
    let numbers = ["9", "10", "1", "zz", "a"];
    let cases = numbers
        .iter()
        .map(|n| CaseWrite {
            add_to: strings(&["unit:9"]),
            ..case(n, None, &["noted"])
        })
        .collect();
    let commit = Commit {
        cases,
        ..Default::default()
    };
    assert_eq!(step(&store, "x", commit, T0 + 3).await, Committed);
    assert_eq!(store.cases_in("unit:9").await.unwrap(), numbers);
    let moved = CaseWrite {
        remove_from: strings(&["unit:9"]),
        add_to: strings(&["unit:9"]),
        ..case("10", None, &[])
    };
    let commit = Commit {
        cases: vec![moved],
        ..Default::default()
    };
    assert_eq!(step(&store, "x", commit, T0 + 4).await, Committed);
    assert_eq!(
        store.cases_in("unit:9").await.unwrap(),
        ["9", "1", "zz", "a", "10"]
    );
    let history_only = CaseRecord {
        number: "zz".into(),
        version: 0,
        body: String::new(),
        history: strings(&["noted"]),
    };
    assert_eq!(store.get_case("zz").await.unwrap(), Some(history_only));
}

/// Property 14: 8 tasks drawing 50 numbers each from one series get 1..=400, each once; series are
/// independent.
pub(super) async fn next_number_concurrent_distinct(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = vec![];
                for _ in 0..50 {
                    got.push(store.next_number("BA2026").await.unwrap());
                }
                got
            })
        })
        .collect();
    let mut all = vec![];
    for t in tasks {
        let got = t.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "increasing per caller");
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=400).collect::<Vec<u64>>());
    assert_eq!(store.next_number("BA2027").await.unwrap(), 1);
    assert_eq!(store.next_number("BA2026").await.unwrap(), 401);
}

// ---------------------------------------------------------------------------------------------
// Embedded only

/// Property 15: conversation state, cases, indexes and number series survive a reopen.
#[tokio::test]
async fn embedded_records_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let commit = Commit {
            state: set_state(0, "{\"step\":2}"),
            cases: vec![CaseWrite {
                add_to: strings(&["pending:lisi"]),
                ..case("BA2026-1", Some("{}"), &["created"])
            }],
            ..Default::default()
        };
        assert_eq!(step(&store, "A", commit, T0).await, Committed);
        assert_eq!(store.next_number("BA2026").await.unwrap(), 1);
        assert_eq!(store.next_number("BA2026").await.unwrap(), 2);
    }
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "{\"step\":2}")
    );
    assert_eq!(
        store.get_case("BA2026-1").await.unwrap().unwrap().history,
        ["created"]
    );
    assert_eq!(store.cases_in("pending:lisi").await.unwrap(), ["BA2026-1"]);
    assert_eq!(
        store.next_number("BA2026").await.unwrap(),
        3,
        "never repeats"
    );
}

/// Property 15b: a read-only store (`flowbot export` while the bot runs) reads the records
/// while the writer holds the store, sees each later commit, writes nothing and takes no lock
/// the writer waits for; it also opens a store nobody holds.
#[tokio::test]
async fn embedded_read_only_reads_while_the_writer_runs() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        EmbeddedStore::open_read_only(dir.path()).is_err(),
        "nothing there yet"
    );
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let file = |n: &str| Commit {
        cases: vec![CaseWrite {
            add_to: strings(&["register"]),
            ..case(n, Some("{}"), &["created"])
        }],
        ..Default::default()
    };
    assert_eq!(step(&store, "A", file("BA2026-1"), T0).await, Committed);
    let reader = EmbeddedStore::open_read_only(dir.path()).unwrap();
    assert_eq!(reader.cases_in("register").await.unwrap(), ["BA2026-1"]);
    assert_eq!(step(&store, "A", file("BA2026-2"), T0 + 1).await, Committed);
    assert_eq!(
        reader.cases_in("register").await.unwrap(),
        ["BA2026-1", "BA2026-2"],
        "a later commit is seen"
    );
    assert!(reader.next_number("BA2026").await.is_err(), "no writes");
    assert_eq!(
        store.next_number("BA2026").await.unwrap(),
        1,
        "the writer goes on"
    );
    assert!(EmbeddedStore::open(dir.path()).is_err(), "still one writer");
    drop(store);
    let reader = EmbeddedStore::open_read_only(dir.path()).unwrap();
    assert_eq!(
        reader.get_case("BA2026-2").await.unwrap().unwrap().history,
        ["created"]
    );
}

/// Property 16: an embedded state expires 30 days after its last write (checked on read and by the
/// CAS, which then sees version 0); cases do not.
#[tokio::test]
async fn embedded_state_expires_after_ttl() {
    let h = embedded_harness();
    let store = h.store.clone();
    let day = 24 * 3600 * SEC;
    // The harness's store judges expiry on the wall clock, as this one reads it.
    let clock = flowbot::base::clock::Clock::default();
    let then = clock.now_ms() - 31 * day;
    let commit = Commit {
        state: set_state(0, "old"),
        cases: vec![case("K", Some("{}"), &["created"])],
        ..Default::default()
    };
    assert_eq!(step(&store, "A", commit, then).await, Committed);
    assert_eq!(store.load_conversation("A").await.unwrap(), None, "expired");
    assert!(
        store.get_case("K").await.unwrap().is_some(),
        "cases never expire"
    );
    let now = clock.now_ms();
    let stale = Commit {
        state: set_state(1, "new"),
        ..Default::default()
    };
    enqueue(&store, "k", ev("A", "x"), now).await;
    let e = claim(&store, now).await.unwrap();
    assert_eq!(
        store.complete_event(&e, &stale, now).await.unwrap(),
        Conflict
    );
    let fresh = Commit {
        state: set_state(0, "new"),
        ..Default::default()
    };
    assert_eq!(
        store.complete_event(&e, &fresh, now).await.unwrap(),
        Committed
    );
    assert_eq!(
        store.load_conversation("A").await.unwrap(),
        versioned(1, "new")
    );
}

// ---------------------------------------------------------------------------------------------
// Redis only

/// Property 17: on Redis the state key carries the 30-day sliding TTL; case, case version,
/// history, index and series keys carry none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_state_slides_records_never_expire() {
    let Some(h) = redis_harness().await else {
        return;
    };
    let (url, prefix) = h.redis.clone().unwrap();
    let raw = RedisStore::connect(&url, &prefix).await.unwrap();
    let commit = Commit {
        state: set_state(0, "s"),
        cases: vec![CaseWrite {
            add_to: strings(&["unit:3"]),
            ..case("BA2026-1", Some("{}"), &["created"])
        }],
        ..Default::default()
    };
    assert_eq!(step(&h.store, "A", commit, T0).await, Committed);
    h.store.next_number("BA2026").await.unwrap();
    let k = raw.keys();
    let con = flowbot::adapters::store::redis::RedisConnection::open(&url)
        .await
        .unwrap();
    let pttl = |key: String| {
        let mut con = con.clone();
        async move {
            ::redis::cmd("PTTL")
                .arg(&key)
                .query_async::<i64>(&mut con)
                .await
                .unwrap()
        }
    };
    let thirty_days = 30 * 24 * 3600 * SEC;
    let state_ttl = pttl(k.state("A")).await;
    assert!(
        state_ttl > thirty_days - 60 * SEC && state_ttl <= thirty_days,
        "state PTTL {state_ttl}"
    );
    for key in [
        k.case("BA2026-1"),
        k.case_version("BA2026-1"),
        k.case_history("BA2026-1"),
        k.case_index("unit:3"),
        k.case_index_seq(),
        k.number_seq("BA2026"),
    ] {
        assert_eq!(
            pttl(key.clone()).await,
            -1,
            "{key} must exist and never expire"
        );
    }
    let _: () = ::redis::cmd("PEXPIRE")
        .arg(k.state("A"))
        .arg(1000)
        .query_async(&mut con.clone())
        .await
        .unwrap();
    let commit = Commit {
        state: set_state(1, "s2"),
        ..Default::default()
    };
    assert_eq!(step(&h.store, "A", commit, T0 + 1).await, Committed);
    assert!(
        pttl(k.state("A")).await > thirty_days - 60 * SEC,
        "a write restarts the TTL"
    );
}
