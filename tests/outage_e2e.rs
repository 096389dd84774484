//! A dependency outage is not poison, through the real protocol: with WeCom's contacts API
//! (`user/get`) failing for hours, a member's message waits and is tried again with back-off,
//! never set aside; after a minute the member is told once that the answer is delayed; when the
//! API is back the message is answered. Both stores.

#[macro_use]
mod support;

use flowbot::runtime::config::DirectorySource;
use support::bot::{Backend, spawn_bot};
use support::wait::{WAIT, until};

on_both_stores!(a_message_waits_out_a_contacts_outage_and_is_answered_after_it);

const FORM_STARTS: &str = "下面开始填写《新媒体建设备案登记表》";
const DELAYED: &str = "正在排队处理";

async fn a_message_waits_out_a_contacts_outage_and_is_answered_after_it(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.directory = DirectorySource::WeCom).await else {
        return;
    };
    bot.fake.fail_next("/user/get", -1, u32::MAX);
    bot.say("zhangsan", &["备案"]).await;
    let tries = || bot.fake.requests_to("/user/get").len();
    until("the message is tried and waits", || async { tries() >= 2 }).await;

    // A minute on (the bot's clock), still waiting: the member is told, once.
    let start = bot.clock.offset_ms();
    bot.clock.set_offset_ms(start + 61_000);
    assert!(
        bot.wait_for_text("zhangsan", DELAYED, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // Hours of outage: tried again and again, never set aside, told only once.
    for hour in 1..=3 {
        let before = tries();
        bot.clock.set_offset_ms(start + hour * 3_600_000);
        until("tried again", || async { tries() > before }).await;
    }
    assert!(bot.store.set_aside_events().await.unwrap().is_empty());
    let told = |bot: &support::bot::TestBot| {
        bot.texts_to("zhangsan")
            .iter()
            .filter(|t| t.contains(DELAYED))
            .count()
    };
    assert_eq!(told(&bot), 1);
    assert!(
        !bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.contains(FORM_STARTS))
    );

    // The API is back: the message is answered.
    bot.fake.heal("/user/get");
    bot.clock.set_offset_ms(start + 3 * 3_600_000 + 6 * 60_000);
    assert!(
        bot.wait_for_text("zhangsan", FORM_STARTS, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    assert_eq!(told(&bot), 1);
    assert_eq!(bot.store.queue_stats().await.unwrap().events, 0);
    bot.stop().await;
}
