//! Two replicas (two bot processes) on one Redis (a unique key prefix), 1,000 conversations
//! (distinct members) sent to both as a load balancer would; one replica is killed with
//! `kill -9` in the middle, with sends in flight: the other takes over its events and outbox
//! items, and every acknowledged message is answered exactly once. Prints the figures.

mod support;

use std::time::Duration;

use support::process::{Burst, Figures, StoreAt, start_bot};
use support::wait::until;
use support::{FakeWeCom, bot::CORP_ID, bot::SECRET};

const CONVERSATIONS: u64 = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_replica_answers_everything_once_when_one_is_killed() {
    let data = tempfile::tempdir().unwrap();
    let prefix = format!("flowbot-replicas-{}", std::process::id());
    let Some(store) = StoreAt::shared_redis(&prefix, data.path()) else {
        return;
    };
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;
    let mut a = start_bot(&store, &fake.base_url(), 2);
    let mut b = start_bot(&store, &fake.base_url(), 2);
    a.wait_ready().await;
    b.wait_ready().await;

    // WeCom is slow at first: replies are being sent (handled, not yet answered) at the kill.
    fake.slow_next("/message/send", Duration::from_secs(2), 16);
    let burst = Burst::start(vec![a.url.clone(), b.url.clone()], 8, CONVERSATIONS);
    until("half the conversations are in", || {
        std::future::ready(burst.acked() >= CONVERSATIONS as usize / 2)
    })
    .await;
    assert!(burst.running(), "the kill comes in the middle of the burst");
    a.kill9();
    let log = burst.join().await;
    assert_eq!(
        log.acked.len() as u64,
        CONVERSATIONS,
        "the surviving replica took every callback"
    );

    let all_answered =
        support::process::all_answered(&fake, &log.acked, Duration::from_secs(60)).await;
    assert!(store.wait_settled(Duration::from_secs(30)).await);
    b.terminate().await;
    let stats = store.queue_stats().await;
    store.clean_up();
    let figures = Figures::count(&fake, &log.acked);
    figures.print("two replicas on one Redis, one killed with kill -9");
    assert!(all_answered && figures.lost == 0, "{figures:?}");
    assert_eq!(figures.duplicated, 0, "answered exactly once: {figures:?}");
    for user in &log.acked {
        assert_eq!(fake.sent_to(user).len(), 1, "{user} answered once");
    }
    assert_eq!(
        (stats.events, stats.outbox),
        (0, 0),
        "everything was handled"
    );
}
