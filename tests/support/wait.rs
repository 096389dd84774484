//! Waiting on facts, not on time: a condition is polled until it holds, and a wait that runs
//! out fails the test with what it was waiting for.

use std::future::Future;
use std::time::{Duration, Instant};

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
