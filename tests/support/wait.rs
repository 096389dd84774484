//! Waiting on facts, not on time: a condition is polled until it holds, and a wait that runs
//! out fails the test with what it was waiting for.

use std::future::Future;
use std::time::{Duration, Instant};

use flowbot::store::Store;

/// How long a test waits for a fact before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `check` until it holds; panics after [`WAIT`] naming `what`.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the store has no event queued or in hand and no outbox item waiting or in
/// flight: everything the bot was given has been handled and delivered (or dead-lettered).
pub async fn until_settled(store: &dyn Store) {
    until("the queue and the outbox are empty", || async {
        let stats = store.queue_stats().await.expect("queue stats");
        stats.events == 0 && stats.outbox == 0
    })
    .await;
}
