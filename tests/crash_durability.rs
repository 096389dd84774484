//! Kill -9 the bot process in the middle of a burst of callbacks, while replies and an
//! approval card are being sent: after a restart on the same store every callback it
//! acknowledged with 200 is answered, and the card reaches its approver once (its task id).
//! Prints the figures (messages, lost, duplicated). On both stores.

mod support;

use std::time::Duration;

use support::flows::REGISTRATION;
use support::process::{Burst, Figures, StoreAt, crypto, start_bot};
use support::wait::until;
use support::{FakeWeCom, bot::CORP_ID, bot::SECRET};

/// 张三 sends `texts` (from [`REGISTRATION`], starting at `first`) through `url`, each
/// acknowledged before the next.
async fn say(url: &str, first: usize, texts: &[&str]) {
    let http = reqwest::Client::new();
    let crypto = crypto();
    let clock = flowbot::base::clock::Clock::default();
    for (i, text) in texts.iter().enumerate() {
        let i = first + i;
        let now = clock.now_ms() / 1000;
        let msg_id = 7_000_000_000 + i as u64;
        let (query, body) =
            flowbot::runtime::loadgen::signed_callback(&crypto, "zhangsan", msg_id, text, now);
        let answer = http
            .post(format!("{url}/wecom/callback?{query}"))
            .body(body)
            .send()
            .await
            .expect("the bot answers");
        assert!(answer.status().is_success(), "{text:?} acknowledged");
    }
}

fn card_sent(fake: &FakeWeCom) -> bool {
    fake.sent_to("liuyang")
        .iter()
        .any(|m| m["msgtype"] == "template_card")
}

async fn acknowledged_callbacks_survive_a_kill(store: StoreAt, test: &str) {
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;

    // First life: answering a burst and sending 张三's card, killed mid-burst with the card's
    // answer still on its way.
    let mut bot = start_bot(&store, &fake.base_url(), 2);
    bot.wait_ready().await;
    let last = REGISTRATION.len() - 1;
    say(&bot.url, 0, &REGISTRATION[..last]).await;
    // No limit that a fast bot could reach before the card goes out: the burst runs until the
    // kill ends it (a sender stops when no bot answers).
    let burst = Burst::start(vec![bot.url.clone()], 8, 1_000_000);
    until("the burst got going", || {
        std::future::ready(burst.acked() > 20)
    })
    .await;
    // WeCom turns slow for 刘洋 and 张三: the card (and a reply) are handled by WeCom but
    // their answers are not back at the kill.
    fake.slow_next_to("/message/send", "liuyang", Duration::from_secs(3), 1);
    fake.slow_next_to("/message/send", "zhangsan", Duration::from_secs(3), 1);
    say(&bot.url, last, &REGISTRATION[last..]).await;
    until("the approval card is on its way", || {
        std::future::ready(card_sent(&fake))
    })
    .await;
    assert!(burst.running(), "the kill comes in the middle of the burst");
    bot.kill9();
    let killed = std::time::Instant::now();
    let log = burst.join().await;
    assert!(
        log.acked.len() > 20,
        "the burst got going before the kill ({} acked)",
        log.acked.len()
    );

    // Second life on the same store: every acknowledged callback is answered.
    let mut bot = start_bot(&store, &fake.base_url(), 2);
    bot.wait_ready().await;
    let all_answered =
        support::process::all_answered(&fake, &log.acked, Duration::from_secs(120)).await;
    let cut_off = support::process::wait_resent(&fake, killed, Duration::from_secs(30)).await;
    assert!(store.wait_settled(Duration::from_secs(30)).await);
    bot.terminate().await;
    // Everything it was given is handled and delivered: no reply can still come.
    let stats = store.queue_stats().await;
    store.clean_up();
    assert_eq!((stats.events, stats.outbox), (0, 0), "the bot had settled");
    let figures = Figures::count(&fake, &log.acked);
    figures.print(test);
    eprintln!("{test}: {cut_off} sends were cut off by the kill and sent again");
    assert!(all_answered && figures.lost == 0, "{figures:?}");
    assert!(card_sent(&fake), "the approval card reached 刘洋");
    assert_eq!(
        figures.cards_duplicated, 0,
        "a card is never delivered twice"
    );
    // The card whose answer the kill cut off was sent again, and WeCom refused its task id.
    let refused = fake
        .requests_to("/message/send")
        .iter()
        .filter(|r| r.errcode == 42014)
        .count();
    assert!(refused >= 1, "the card was resent after the kill");
    assert!(
        figures.cards >= 1,
        "the approval card was counted: {figures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_keeps_every_acknowledged_callback_across_kill_9() {
    let data = tempfile::tempdir().unwrap();
    let store = StoreAt::Embedded(data.path().to_owned());
    acknowledged_callbacks_survive_a_kill(store, "kill -9 of the bot, embedded store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_keeps_every_acknowledged_callback_across_kill_9_of_the_bot() {
    let data = tempfile::tempdir().unwrap();
    let prefix = format!("flowbot-crash-{}", std::process::id());
    let Some(store) = StoreAt::shared_redis(&prefix, data.path()) else {
        return;
    };
    acknowledged_callbacks_survive_a_kill(store, "kill -9 of the bot, Redis store").await;
}
