//! The change report (policy 5.1 note 3): within 5 working days of the change, late reports
//! asked for a reason and marked late, the propaganda department confirms with one tap, the
//! register takes the new values and the account's history keeps the old ones. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{approve_card, case_json, register, year};
use support::wait::until;

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(
    a_late_change_is_marked_late_and_updates_the_register,
    a_change_reported_today_is_on_time
);

/// A date `days` calendar days before today on the bot's clock, in the company's zone.
fn days_ago(bot: &TestBot, days: u64) -> String {
    let d = bot.clock.now().today - chrono::Days::new(days);
    d.format("%Y-%m-%d").to_string()
}

async fn a_late_change_is_marked_late_and_updates_the_register(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, register_number) = register(&bot).await;
    // Three weeks ago is more than 5 working days ago, holidays or not.
    let changed_on = days_ago(&bot, 21);
    bot.say(
        "zhangsan",
        &[
            "变更",
            "1",
            "共青团某某公司委员会",
            &changed_on,
            "负责人出差，未及时报备",
            "确认",
        ],
    )
    .await;
    let number = format!("BG-{}-0001", year(&bot));
    assert!(
        bot.wait_for_text("zhangsan", &number, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(bot.wait_for_text("zhangsan", "已超过期限", WAIT).await);
    let asked = bot
        .texts_to("zhangsan")
        .iter()
        .any(|t| t.contains("请说明逾期原因"));
    assert!(asked, "a late report asks for a reason");
    let report = case_json(&bot, &number).await;
    assert_eq!(report["late"], true);
    assert!(report["due_date"].as_str().unwrap() < days_ago(&bot, 0).as_str());

    approve_card(&bot, "chenjing", "BG-", "rc-confirm").await;
    assert!(bot.wait_for_text("zhangsan", "确认，办理完毕", WAIT).await);
    until("the register has the new account name", || async {
        case_json(&bot, &registration).await["answers"]
            .to_string()
            .contains("共青团某某公司委员会")
    })
    .await;
    let history = bot
        .store
        .get_case(&registration)
        .await
        .unwrap()
        .unwrap()
        .history;
    let last = history.last().unwrap();
    assert!(
        last.contains("团委青年之声") && last.contains(&number),
        "the old name stays in the history: {last}"
    );
    let _ = register_number;
    bot.stop().await;
}

async fn a_change_reported_today_is_on_time(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    bot.say(
        "zhangsan",
        &["变更", "3", "改为由团委宣传委员专人维护", "今天", "确认"],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "本次报备在期限内", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let report = case_json(&bot, &format!("BG-{}-0001", year(&bot))).await;
    assert_eq!(report["late"], false);
    let asked = bot
        .texts_to("zhangsan")
        .iter()
        .any(|t| t.contains("请说明逾期原因"));
    assert!(!asked, "no reason is asked for an on-time report");
    bot.stop().await;
}
