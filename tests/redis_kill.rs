//! Kill -9 of Redis in the middle of a burst of callbacks: a throw-away `redis-server` (AOF,
//! `appendfsync always`, on a free port in a temp dir, never the shared Redis) is killed
//! while the bot answers a burst and restarted on the same port and folder. While it is down,
//! callbacks get a non-200 answer at once (none hangs) and `/readyz` fails; once it is back the
//! same bot process (no restart) accepts and answers again, and every callback acknowledged
//! with 200, before or after, is answered. Prints the figures (messages, lost, duplicated).

mod support;

use std::time::Duration;

use support::process::{Burst, Figures, RedisServer, StoreAt, start_bot};
use support::wait::until;
use support::{FakeWeCom, bot::CORP_ID, bot::SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_callbacks_survive_kill_9_of_redis_and_the_bot_recovers_without_restart() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let store = StoreAt::Redis {
        url: redis.url(),
        prefix: "flowbot-redis-kill".into(),
        data: data.path().to_owned(),
    };
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;
    let mut bot = start_bot(&store, &fake.base_url(), 2);
    bot.wait_ready().await;

    let burst = Burst::start(vec![bot.url.clone()], 8, 1_000_000);
    until("the burst got going", || {
        std::future::ready(burst.acked() > 200)
    })
    .await;
    redis.kill9();
    let acked_before = burst.acked();
    // Redis is down: callbacks are refused (each answered, none hangs), readiness fails.
    until("callbacks are refused while Redis is down", || {
        std::future::ready(burst.refused() > 50)
    })
    .await;
    let ready = reqwest::get(format!("{}/readyz", bot.url)).await.unwrap();
    assert!(!ready.status().is_success(), "/readyz fails without Redis");

    redis.restart().await;
    until("the same bot accepts callbacks again", || {
        std::future::ready(burst.acked() > acked_before + 200)
    })
    .await;
    assert!(
        bot.child.try_wait().unwrap().is_none(),
        "the bot was not restarted"
    );
    let log = burst.finish().await;
    let refusals: Vec<u16> = log.refused.iter().map(|(status, _)| *status).collect();
    assert!(
        refusals.iter().all(|s| *s >= 500),
        "refused with a 5xx, WeCom retries: {:?}",
        &refusals[..refusals.len().min(10)]
    );
    let slowest = log.refused.iter().map(|(_, took)| *took).max().unwrap();
    assert_eq!(
        log.unanswered,
        0,
        "every callback got an answer within {:?} (slowest refusal {slowest:?})",
        support::process::CALLBACK_TIMEOUT
    );

    let all_answered =
        support::process::all_answered(&fake, &log.acked, Duration::from_secs(60)).await;
    assert!(store.wait_settled(Duration::from_secs(30)).await);
    bot.terminate().await;
    let stats = store.queue_stats().await;
    let figures = Figures::count(&fake, &log.acked);
    figures.print("kill -9 of Redis (AOF always)");
    let statuses: std::collections::BTreeSet<u16> = refusals.iter().copied().collect();
    eprintln!(
        "refused while Redis was down: {} with {statuses:?} (slowest answer {slowest:?})",
        log.refused.len()
    );
    assert!(all_answered && figures.lost == 0, "{figures:?}");
    assert_eq!((stats.events, stats.outbox), (0, 0), "the bot had settled");
    assert_eq!(figures.duplicated, 0, "{figures:?}");
}
