//! A new year's calendar file dropped into the running bot's `bot-scripts/calendar/` takes
//! effect without a restart: before it, 2027 counts only the statutory holidays of the
//! national rules (provisional); after the reload a departure's deadline counts the file's
//! National Day week and make-up Saturday. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use chrono::NaiveDate;
use support::bot::{Backend, spawn_bot};
use support::flows::{admin_leaves, jump_to, register};
use support::wait::until;

/// A fictional 2027 notice (the real one is not published yet): National Day 10-01..10-07,
/// make-up days 09-26 (Sun) and 10-09 (Sat).
const CN_2027: &str = "year = 2027\n\n[[holiday]]\nname = \"国庆节\"\n\
start = \"2027-10-01\"\nend = \"2027-10-07\"\nmakeup = [\"2027-09-26\", \"2027-10-09\"]\n";

on_both_stores!(a_calendar_file_dropped_in_is_used_by_the_next_deadline);

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn a_calendar_file_dropped_in_is_used_by_the_next_deadline(backend: Backend) {
    let scripts = support::scripts::copy_shipped();
    let dir = scripts.path().to_path_buf();
    let Some(bot) = spawn_bot(backend, |s| {
        s.scripts_dir = dir;
        s.calendar_poll = Duration::from_millis(20);
    })
    .await
    else {
        return;
    };
    jump_to(&bot, date("2027-09-30"));
    register(&bot).await;
    // Without the file: 国庆 1–3 October by the national rules, so 5 working days after
    // Thursday 09-30 end on Friday 10-08, provisional.
    let before = bot.calendar.add_working_days(date("2027-09-30"), 5);
    assert_eq!(
        (before.date, before.provisional),
        (date("2027-10-08"), true)
    );

    let file = scripts.path().join("calendar/cn-2027.toml");
    std::fs::write(&file, CN_2027).unwrap();
    until("the running bot reloads its calendar", || async {
        bot.calendar.has_year(2027)
    })
    .await;

    // 张三 leaves: the duty's deadline counts 10-08, the make-up Saturday 10-09, 10-11..10-13.
    let deadline = admin_leaves(&bot).await;
    assert_eq!(deadline, date("2027-10-13"));
    let told = bot
        .texts_to("liuyang")
        .into_iter()
        .find(|t| t.contains("已离职"))
        .expect("the unit leader is told");
    assert!(told.contains("请在 2027-10-13 前报备变更"), "{told}");
    bot.stop().await;
}
