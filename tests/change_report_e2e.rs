//! The change report (policy 5.1 note 3): within 5 working days of the change, late reports
//! asked for a reason and marked late, the propaganda department confirms with one tap, the
//! register takes the new values and the account's history keeps the old ones. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{
    REPLACE_ADMIN, admin_leaves, approve_card, case_json, change_report_card, jump_to, register,
    year,
};
use support::wait::until;

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(
    a_late_change_is_marked_late_and_updates_the_register,
    a_change_reported_today_is_on_time,
    the_department_sees_old_and_new_values_and_the_deadline_on_its_card,
    a_departure_report_counts_from_the_day_the_bot_saw_the_departure,
    only_a_report_that_replaces_the_departed_person_closes_the_duty,
    the_signed_filing_prints_the_same_after_a_change_report
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

/// Every field of the team can change; the card shows old → new and whether it is on time.
async fn the_department_sees_old_and_new_values_and_the_deadline_on_its_card(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    bot.say(
        "zhangsan",
        &[
            "变更",
            "4",
            "王强",
            "010-87654321",
            "13700137000",
            "今天",
            "确认",
        ],
    )
    .await;
    let card = change_report_card(&bot).await;
    let note = card["template_card"]["sub_title_text"].as_str().unwrap();
    assert!(note.contains("按期报备（期限"), "{note}");
    assert!(note.contains("主管领导：刘洋 → 王强"), "{note}");
    approve_card(&bot, "chenjing", "BG-", "rc-confirm").await;
    let registration = format!("BA-{}-0001", year(&bot));
    until("the register has the new leader and phones", || async {
        let answers = case_json(&bot, &registration).await["answers"].to_string();
        answers.contains("王强") && answers.contains("13700137000") && answers.contains("87654321")
    })
    .await;
    bot.stop().await;
}

/// The bot saw 张三 leave: the report's deadline counts from that day, whatever date is typed.
async fn a_departure_report_counts_from_the_day_the_bot_saw_the_departure(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    let deadline = admin_leaves(&bot).await;
    let calendar = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    jump_to(&bot, calendar.add_working_days(deadline, 3).date);
    // 刘洋 reports the change, typing today as the date of the change.
    bot.say("liuyang", REPLACE_ADMIN).await;
    let number = format!("BG-{}-0001", year(&bot));
    assert!(
        bot.wait_for_text("liuyang", &number, WAIT).await,
        "{:#?}",
        bot.texts_to("liuyang")
    );
    let report = case_json(&bot, &number).await;
    assert_eq!(report["late"], true, "late by the departure's deadline");
    assert_eq!(report["due_date"], deadline.format("%Y-%m-%d").to_string());
    let note = change_report_card(&bot).await["template_card"]["sub_title_text"].to_string();
    assert!(note.contains("逾期报备"), "{note}");
    bot.stop().await;
}

/// A report that only renames the account leaves the departure's duty open; one that names a
/// new administrator closes it.
async fn only_a_report_that_replaces_the_departed_person_closes_the_duty(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (_, register_number) = register(&bot).await;
    admin_leaves(&bot).await;
    let open = |bot: &TestBot| {
        let store = bot.store.clone();
        let index = flowbot::domain::reminders::duty::open_index(&register_number);
        async move { store.cases_in(&index).await.unwrap().len() }
    };
    assert_eq!(open(&bot).await, 1, "the departure opened a duty");
    bot.say("liuyang", &["变更", "1", "团委之声", "今天", "确认"])
        .await;
    approve_card(&bot, "chenjing", "BG-", "rc-rename").await;
    assert!(bot.wait_for_text("liuyang", "确认，办理完毕", WAIT).await);
    bot.settle(WAIT).await;
    assert_eq!(
        open(&bot).await,
        1,
        "a rename does not replace the administrator"
    );
    bot.say("liuyang", REPLACE_ADMIN).await;
    let second = format!("BG-{}-0002", year(&bot));
    assert!(bot.wait_for_text("liuyang", &second, WAIT).await);
    approve_card(&bot, "chenjing", &second, "rc-replace").await;
    until("the duty is closed", || async { open(&bot).await == 0 }).await;
    bot.stop().await;
}

/// What was signed stays as signed: the registration's printed form is byte for byte the same
/// after a confirmed change report; the register entry prints the new values and the change
/// record (report, date, who confirmed, old → new).
async fn the_signed_filing_prints_the_same_after_a_change_report(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, register_number) = register(&bot).await;
    let scripts = std::sync::Arc::new(
        flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let print = |number: String, file: &'static str| {
        let (store, scripts, path) = (bot.store.clone(), scripts.clone(), dir.path().join(file));
        async move {
            flowbot::runtime::exports::form(store.as_ref(), &scripts, &number, &path)
                .await
                .unwrap();
            std::fs::read_to_string(path).unwrap()
        }
    };
    let signed = print(registration.clone(), "signed.html").await;
    bot.say(
        "zhangsan",
        &["变更", "1", "共青团某某公司委员会", "今天", "确认"],
    )
    .await;
    approve_card(&bot, "chenjing", "BG-", "rc-rename").await;
    assert!(bot.wait_for_text("zhangsan", "确认，办理完毕", WAIT).await);
    until("the register has the new name", || async {
        case_json(&bot, &registration).await["answers"]
            .to_string()
            .contains("共青团某某公司委员会")
    })
    .await;
    let again = print(registration.clone(), "again.html").await;
    assert_eq!(signed, again, "the filing prints as it was signed");
    assert!(signed.contains("团委青年之声") && !signed.contains("共青团某某公司委员会"));
    let entry = print(register_number.clone(), "entry.html").await;
    let report = format!("BG-{}-0001", year(&bot));
    for shown in [
        "共青团某某公司委员会",
        "变更记录",
        report.as_str(),
        "陈静确认",
        "团委青年之声 → 共青团某某公司委员会",
    ] {
        assert!(entry.contains(shown), "{shown} not in the entry's form");
    }
    bot.stop().await;
}
