//! A campaign over 1,000 accounts in 50 units opens in one confirmed step and every message
//! goes out, paced, none dropped: each administrator gets the opening message and the card
//! (the fake WeCom counts them), and each account has exactly one task. Both stores. The
//! opening time is printed, not asserted (`scripts/bench` runs this in release and shows it).

#[path = "export/seed.rs"]
#[allow(dead_code)]
mod seed;
#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use flowbot::adapters::store::Store;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::domain::engine::Answer;
use flowbot::domain::records::Case;
use support::bot::{Backend, spawn_bot};
use support::flows::{ask, year};

const ACCOUNTS: usize = 1_000;
const UNITS: usize = 50;

on_both_stores!(a_campaign_over_a_thousand_accounts_sends_every_message);

/// `n` registered accounts spread over `units` units, administrator `admin-<i>` each.
pub fn accounts(year: i32, n: usize, units: usize) -> Vec<Case> {
    let template = seed::cases().remove(0);
    (0..n)
        .map(|i| {
            let mut c = template.clone();
            c.number = format!("BA-{year}-{:04}", i + 1);
            c.unit = format!("unit-{:02}", i % units);
            c.unit_name = format!("单位{:02}", i % units);
            c.register_number = Some(format!("DJ-{year}-{:04}", i + 1));
            c.answers.set(
                "admin",
                Answer::Member {
                    userid: format!("admin-{i:04}"),
                    name: format!("管理员{i}"),
                },
            );
            c
        })
        .collect()
}

/// A store holding the accounts, written before the bot starts (so that its workers do not
/// take the seeding event): the embedded store's folder, or the Redis key prefix.
async fn seeded(backend: Backend, year: i32, data: &std::path::Path) -> Option<String> {
    let prefix = format!("flowbot-test-{:016x}", rand::random::<u64>());
    let store: Arc<dyn Store> = match backend {
        Backend::Embedded => Arc::new(EmbeddedStore::open(data).expect("open")),
        Backend::Redis => Arc::new(support::store::redis_store(&prefix).await?),
    };
    seed::write(&store, &accounts(year, ACCOUNTS, UNITS)).await;
    Some(prefix)
}

async fn a_campaign_over_a_thousand_accounts_sends_every_message(backend: Backend) {
    let y = flowbot::base::clock::Clock::default().now().today.year();
    let data = tempfile::tempdir().expect("temp dir");
    let Some(prefix) = seeded(backend, y, data.path()).await else {
        return;
    };
    let Some(bot) = spawn_bot(backend, |s| {
        s.data_dir = data.path().to_owned();
        s.redis_prefix = prefix;
    })
    .await
    else {
        return;
    };
    assert_eq!(year(&bot), y);
    let asked = ask(&bot, "lina", &format!("年审 开始 {y}"), "确认").await;
    assert!(asked.contains("50 个单位的 1000 个"), "{asked}");
    let started = std::time::Instant::now();
    bot.say("lina", &["确认"]).await;
    // Opened: the campaign's tasks are committed (waiting on the fact, not on a time).
    let index = format!("annual:{y}");
    let give_up = started + Duration::from_secs(300);
    while bot.store.cases_in(&index).await.unwrap().len() < ACCOUNTS {
        assert!(
            std::time::Instant::now() < give_up,
            "the tasks are not written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let opening = started.elapsed();
    assert!(
        bot.wait_for_text("lina", "已发起", Duration::from_secs(300))
            .await,
        "{:#?}",
        bot.texts_to("lina")
    );
    assert!(
        bot.texts_to("lina")
            .iter()
            .any(|t| t.contains("1000 个账号"))
    );
    let all_sent = bot
        .fake
        .wait_until(
            // Every message to the administrators (and lina's two answers) was accepted.
            |f| f.accepted_bodies("/message/send").len() >= 2 * ACCOUNTS + 2,
            Duration::from_secs(300),
        )
        .await;
    assert!(all_sent, "every administrator got the message and the card");
    eprintln!(
        "annual review over {ACCOUNTS} accounts in {UNITS} units ({backend:?} store): opened in {:.2} s, all {} messages delivered after {:.2} s",
        opening.as_secs_f64(),
        2 * ACCOUNTS,
        started.elapsed().as_secs_f64()
    );
    bot.settle(Duration::from_secs(120)).await;
    for i in 0..ACCOUNTS {
        let sent = bot.fake.sent_to(&format!("admin-{i:04}"));
        assert_eq!(sent.len(), 2, "admin-{i:04}: {sent:#?}");
        assert!(sent.iter().any(|m| m["msgtype"] == "template_card"));
    }
    let tasks = bot.store.cases_in(&format!("annual:{y}")).await.unwrap();
    assert_eq!(tasks.len(), ACCOUNTS);
    assert!(bot.store.dead_letters(10).await.unwrap().is_empty());
    bot.stop().await;
}
