//! The pipeline's backlog as the metrics sample it (`Store::backlog`): when the oldest queued
//! event was queued (leased or not, a fired timer's too) and how many timers are overdue.

use super::*;
use flowbot::adapters::store::{Backlog, Timer};

/// Property: the oldest queued event is the head of the oldest conversation, leased or ready;
/// its enqueue time moves on as events complete; timers due by `now` count as overdue.
pub(super) async fn backlog_oldest_event_and_overdue_timers(store: Arc<dyn Store>) {
    let empty = Backlog {
        oldest_event_ms: None,
        overdue_timers: 0,
    };
    assert_eq!(store.backlog(T0).await.unwrap(), empty);
    enqueue(&store, "b1", ev("a", "1"), T0).await;
    enqueue(&store, "b2", ev("b", "2"), T0 + SEC).await;
    enqueue(&store, "b3", ev("a", "3"), T0 + 2 * SEC).await;
    let oldest = |at: i64| Backlog {
        oldest_event_ms: Some(at),
        overdue_timers: 0,
    };
    assert_eq!(store.backlog(T0 + 5 * SEC).await.unwrap(), oldest(T0));
    // Leased, the head of `a` is still the oldest.
    let first = claim(&store, T0 + 5 * SEC).await.unwrap();
    assert_eq!(first.conversation, "a");
    assert_eq!(store.backlog(T0 + 5 * SEC).await.unwrap(), oldest(T0));
    assert_eq!(complete(&store, &first, &[], T0 + 6 * SEC).await, Committed);
    assert_eq!(store.backlog(T0 + 6 * SEC).await.unwrap(), oldest(T0 + SEC));

    // A timer due at T0 + 10 s: pending before, overdue after, and once fired an event queued
    // when it fired.
    let timer = Timer {
        id: "backlog".into(),
        due_ms: T0 + 10 * SEC,
        conversation: "c".into(),
        payload: "t".into(),
    };
    store.schedule_timer(&timer).await.unwrap();
    assert_eq!(store.backlog(T0 + 9 * SEC).await.unwrap().overdue_timers, 0);
    assert_eq!(
        store.backlog(T0 + 10 * SEC).await.unwrap().overdue_timers,
        1
    );
    let fired = store
        .fire_due_timers(T0 + 12 * SEC, 10, secs(3600))
        .await
        .unwrap();
    assert_eq!(fired, ["backlog"]);
    assert_eq!(
        store.backlog(T0 + 12 * SEC).await.unwrap(),
        oldest(T0 + SEC)
    );
    while let Some(e) = claim(&store, T0 + 13 * SEC).await {
        let left = store.backlog(T0 + 13 * SEC).await.unwrap().oldest_event_ms;
        let expected = match e.payload.as_str() {
            "2" => T0 + SEC,
            "3" => T0 + 2 * SEC,
            _ => T0 + 12 * SEC,
        };
        assert_eq!(left, Some(expected), "while {} is in hand", e.payload);
        assert_eq!(complete(&store, &e, &[], T0 + 13 * SEC).await, Committed);
    }
    assert_eq!(store.backlog(T0 + 13 * SEC).await.unwrap(), empty);
}

/// An embedded file whose events predate enqueue times opens, and its old events count as of
/// unknown age (no age rather than a wrong one) until they are handled.
#[tokio::test]
async fn embedded_events_from_before_enqueue_times_have_no_age() {
    let dir = tempfile::tempdir().unwrap();
    {
        let old = rusqlite::Connection::open(dir.path().join("flowbot.sqlite")).unwrap();
        old.execute_batch(
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL,
                                  payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
             INSERT INTO events (conversation, payload) VALUES ('old', 'p');",
        )
        .unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    assert_eq!(store.backlog(T0).await.unwrap().oldest_event_ms, None);
    enqueue(&store, "new", ev("new", "q"), T0).await;
    let old = claim(&store, T0).await.unwrap();
    assert_eq!(old.conversation, "old");
    assert_eq!(complete(&store, &old, &[], T0).await, Committed);
    assert_eq!(store.backlog(T0).await.unwrap().oldest_event_ms, Some(T0));
}
