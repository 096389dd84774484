//! The company clock end to end: bot.toml's `[calendar] time_zone` decides what "today" is for a
//! form's date answer, which year a case number counts in and the times a case's status shows,
//! on the bot's own clock. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use support::bot::{Backend, spawn_bot};
use support::flows::{REGISTRATION, case_json};

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(dates_numbers_and_times_are_in_the_zone_bot_toml_names);

async fn dates_numbers_and_times_are_in_the_zone_bot_toml_names(backend: Backend) {
    let scripts = support::scripts::with_bot_toml(
        "time_zone = \"Asia/Shanghai\"",
        "time_zone = \"America/New_York\"",
    );
    let dir = scripts.path().to_owned();
    let Some(bot) = spawn_bot(backend, move |s| s.scripts_dir = dir).await else {
        return;
    };
    // 03:30 UTC on 1 January 2027: New Year's Day in Shanghai, still New Year's Eve (22:30) in
    // New York.
    let target = Utc.with_ymd_and_hms(2027, 1, 1, 3, 30, 0).unwrap();
    let wall = bot.clock.now_ms() - bot.clock.offset_ms();
    bot.clock.set_offset_ms(target.timestamp_millis() - wall);

    let mut answers = REGISTRATION.to_vec();
    answers[1] = "今天"; // the account's creation date
    bot.say("zhangsan", &answers).await;
    let number = "BA-2026-0001";
    assert!(
        bot.wait_for_text("zhangsan", number, WAIT).await,
        "numbered in New York's year: {:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.contains("2026-12-31")),
        "the summary shows New York's date for 今天: {:#?}",
        bot.texts_to("zhangsan")
    );
    let case = case_json(&bot, number).await;
    let stored = case["answers"].to_string();
    assert!(
        stored.contains("2026-12-31") && !stored.contains("2027-01-01"),
        "{stored}"
    );

    bot.say("zhangsan", &[&format!("状态 {number}")]).await;
    assert!(
        bot.wait_for_text("zhangsan", "2026-12-31 22:30", WAIT)
            .await,
        "the history in New York time: {:#?}",
        bot.texts_to("zhangsan")
    );
    bot.stop().await;
}
