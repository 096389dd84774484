//! WeCom failing on every endpoint for many minutes of the bot's clock: HTTP 500, 45009 (the
//! app's penalty), 42001 (token expired), then calls WeCom handles but answers too late for
//! the client (timeouts). Twenty members' replies and an approval card wait through it all;
//! when WeCom is back, everything is delivered, nothing twice, nothing dead-lettered. Prints
//! the figures. Both stores.

#[macro_use]
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::REGISTRATION;
use support::process::Figures;
use support::wait::until;

on_both_stores!(everything_is_delivered_once_after_wecom_fails_on_every_endpoint);

const MINUTE: i64 = 60_000;

/// Moves the bot's clock `minutes` ahead.
fn advance(bot: &TestBot, minutes: i64) {
    bot.clock
        .set_offset_ms(bot.clock.offset_ms() + minutes * MINUTE);
}

/// Waits until WeCom has answered `errcode` again (after `seen` such answers).
async fn failed_again(bot: &TestBot, errcode: i64, what: &str) {
    let count = || {
        bot.fake
            .requests()
            .iter()
            .filter(|r| r.errcode == errcode)
            .count()
    };
    let seen = count();
    until(what, || std::future::ready(count() > seen)).await;
}

async fn everything_is_delivered_once_after_wecom_fails_on_every_endpoint(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    // 张三's registration, all but its last answer, while WeCom works.
    let last = REGISTRATION.len() - 1;
    bot.say("zhangsan", &REGISTRATION[..last]).await;
    bot.settle(Duration::from_secs(20)).await;

    // WeCom fails on every endpoint ("" ends every path): HTTP 500 first.
    bot.fake.fail_http_next("", 500, u32::MAX);
    bot.fake.expire_token();
    bot.say("zhangsan", &REGISTRATION[last..]).await;
    let users: Vec<String> = (0..20).map(|i| format!("member{i:02}")).collect();
    for user in &users {
        bot.say(user, &["你好"]).await;
    }
    failed_again(&bot, -500, "WeCom answers HTTP 500").await;
    until("every message is handled, its replies wait", || async {
        bot.store.queue_stats().await.unwrap().events == 0
    })
    .await;

    // Two minutes on: 45009, the app's penalty, on every endpoint.
    bot.fake.heal("");
    bot.fake.fail_next("", 45009, u32::MAX);
    advance(&bot, 2);
    failed_again(&bot, 45009, "WeCom answers 45009").await;

    // The penalty waited out: every token is refused as expired (42001).
    bot.fake.heal("");
    bot.fake.fail_next("", 42001, u32::MAX);
    advance(&bot, 11);
    failed_again(&bot, 42001, "WeCom answers 42001").await;

    // Then WeCom handles sends but answers after the client's timeout: the bot cannot know
    // whether they were delivered.
    bot.fake.heal("");
    let sends = || bot.fake.requests_to("/message/send").len();
    let before = sends();
    bot.fake
        .slow_next("/message/send", Duration::from_secs(11), 4);
    advance(&bot, 11);
    until("four sends time out", || {
        std::future::ready(sends() >= before + 4)
    })
    .await;

    // WeCom is back: what the bot retries is delivered, once.
    advance(&bot, 11);
    bot.settle(Duration::from_secs(60)).await;
    assert!(
        bot.store.dead_letters(10).await.unwrap().is_empty(),
        "nothing is dead-lettered after minutes of outage"
    );
    let mut acked: BTreeSet<String> = users.iter().cloned().collect();
    acked.insert("zhangsan".into());
    let figures = Figures::count(&bot.fake, &acked);
    figures.print(&format!(
        "WeCom failing on every endpoint, {backend:?} store"
    ));
    assert_eq!(figures.lost, 0, "{figures:?}");
    assert_eq!(
        (figures.duplicated, figures.cards_duplicated),
        (0, 0),
        "{figures:?}"
    );
    assert!(
        bot.fake
            .sent_to("liuyang")
            .iter()
            .any(|m| m["msgtype"] == "template_card"),
        "the approval card reached 刘洋"
    );
    for user in &users {
        assert_eq!(
            bot.texts_to(user).len(),
            1,
            "{user}: {:?}",
            bot.texts_to(user)
        );
    }
    let failures = bot
        .fake
        .requests()
        .iter()
        .filter(|r| r.errcode != 0)
        .count();
    eprintln!("failed WeCom calls during the outage: {failures}");
    bot.stop().await;
}
