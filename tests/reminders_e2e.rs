//! Duties and approvals followed on each bot's own simulated clock: 张三, the administrator
//! of a registered account, leaves the company (a `change_contact` callback); 团委's leader is
//! told and nudged on the right working days; the day after the deadline the propaganda
//! department's group robot gets a digest with @mentions; once the change report is confirmed
//! the chase stops. Each scenario runs on each store backend with its own bot and clock.
//! "Nothing more happened" is asserted once the bot has settled: every timer due on its clock
//! fired, no event queued, the outbox empty.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{
    REPLACE_ADMIN, admin_leaves, approve_card, change_report_card, jump_to, jump_to_time, register,
};

const WAIT: Duration = Duration::from_secs(20);
const ROBOT_KEY: &str = "robot-key-xcb";

on_both_stores!(
    a_duty_is_chased_from_opening_to_escalation_and_stops_when_done,
    an_overdue_approval_is_chased_with_a_text_and_the_card_still_works,
    after_downtime_an_overdue_approval_gets_one_chase_in_working_time,
    after_downtime_only_the_latest_nudge_is_sent,
    the_digest_goes_to_an_app_group_chat_when_bot_toml_names_one,
);

/// Moves the bot's clock to 10:00 on `day` in the company's time zone.
/// The company's working-day calendar, as the bot loaded it.
fn calendar_of(bot: &TestBot) -> flowbot::base::calendar::Calendar {
    flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar
}

fn texts(bot: &TestBot, user: &str) -> Vec<String> {
    bot.texts_to(user)
}

async fn count_with(bot: &TestBot, user: &str, needle: &str, n: usize) -> bool {
    let (u, s) = (user.to_owned(), needle.to_owned());
    bot.fake
        .wait_until(
            move |f| {
                f.sent_to(&u)
                    .iter()
                    .filter(|m| m["text"]["content"].as_str().unwrap_or("").contains(&s))
                    .count()
                    >= n
            },
            WAIT,
        )
        .await
}

fn cards(bot: &TestBot, user: &str) -> Vec<String> {
    bot.fake
        .sent_to(user)
        .iter()
        .filter(|m| m["msgtype"] == "template_card")
        .map(|m| {
            m["template_card"]["task_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// A leader who lets the approval deadline (2 working days) pass gets a fresh card, which works.
async fn an_overdue_approval_is_chased_with_a_text_and_the_card_still_works(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = support::flows::file(&bot).await;
    assert_eq!(cards(&bot, "liuyang").len(), 1);
    let calendar = calendar_of(&bot);
    let today = bot.clock.now().today;
    jump_to(&bot, calendar.add_working_days(today, 2).date);
    bot.settle(WAIT).await;
    assert_eq!(
        chases(&bot, "liuyang"),
        0,
        "not chased before the deadline has passed"
    );
    jump_to(&bot, calendar.add_working_days(today, 3).date);
    assert!(
        count_with(&bot, "liuyang", "【催办】", 1).await,
        "a chase the working morning after the deadline"
    );
    let chase = texts(&bot, "liuyang")
        .into_iter()
        .find(|t| t.contains("【催办】"))
        .unwrap();
    assert!(
        chase.contains(&number) && chase.contains("待办 卡片"),
        "{chase}"
    );
    bot.settle(WAIT).await;
    assert_eq!(
        cards(&bot, "liuyang").len(),
        1,
        "one live card per approver"
    );
    approve_card(&bot, "liuyang", &number, "rc-late").await;
    assert!(
        bot.wait_for_text("zhangsan", "已通过", WAIT).await,
        "the card still decides"
    );
    bot.stop().await;
}

/// The bot was down for two weeks and comes back at night: nothing is sent in the small hours,
/// and in the morning the approver gets one chase, not one for every missed day.
async fn after_downtime_an_overdue_approval_gets_one_chase_in_working_time(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    support::flows::file(&bot).await;
    let calendar = calendar_of(&bot);
    let later = calendar.add_working_days(bot.clock.now().today, 12).date;
    jump_to_time(&bot, later, 1);
    bot.settle(WAIT).await;
    assert_eq!(chases(&bot, "liuyang"), 0, "no chase at 01:00");
    jump_to(&bot, later);
    assert!(count_with(&bot, "liuyang", "【催办】", 1).await);
    bot.settle(WAIT).await;
    assert_eq!(chases(&bot, "liuyang"), 1, "one chase after the downtime");
    bot.stop().await;
}

/// How many chases `user` got.
fn chases(bot: &TestBot, user: &str) -> usize {
    texts(bot, user)
        .iter()
        .filter(|t| t.contains("【催办】"))
        .count()
}

/// The bot was down until the deadline day: T-2, T-1 and T are all due at once, and the
/// leader gets one nudge, not three.
async fn after_downtime_only_the_latest_nudge_is_sent(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    let deadline = admin_leaves(&bot).await;
    jump_to(&bot, deadline);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 1).await,
        "the nudge of the deadline day"
    );
    bot.settle(WAIT).await;
    let nudges = texts(&bot, "liuyang")
        .iter()
        .filter(|t| t.contains("【提醒】"))
        .count();
    assert_eq!(nudges, 1, "the earlier, superseded rungs stay silent");
    bot.stop().await;
}

/// The same escalation in an app group chat (`appchat/send`) instead of a robot, when bot.toml
/// names one for the group.
async fn the_digest_goes_to_an_app_group_chat_when_bot_toml_names_one(backend: Backend) {
    let scripts = support::scripts::with_bot_toml(
        "title = \"党委宣传部新媒体工作群\"",
        "title = \"党委宣传部新媒体工作群\"\nappchat = \"wrkxcb01\"",
    );
    let dir = scripts.path().to_owned();
    let Some(bot) = spawn_bot(backend, move |s| s.scripts_dir = dir).await else {
        return;
    };
    register(&bot).await;
    let deadline = admin_leaves(&bot).await;
    jump_to(&bot, calendar_of(&bot).add_working_days(deadline, 1).date);
    let got = bot
        .fake
        .wait_until(|f| !f.accepted_bodies("/appchat/send").is_empty(), WAIT)
        .await;
    assert!(got, "the digest in the app group chat");
    let sent = bot.fake.accepted_bodies("/appchat/send")[0].clone();
    assert_eq!(sent["chatid"], "wrkxcb01");
    assert!(sent.to_string().contains("团委青年之声"), "{sent}");
    bot.stop().await;
}

async fn a_duty_is_chased_from_opening_to_escalation_and_stops_when_done(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.robot_keys.insert("xcb".into(), ROBOT_KEY.into());
    })
    .await
    else {
        return;
    };
    register(&bot).await;
    let calendar = calendar_of(&bot);
    let deadline = admin_leaves(&bot).await;
    let deadline_text = deadline.format("%Y-%m-%d").to_string();
    assert!(
        texts(&bot, "liuyang")
            .iter()
            .any(|t| t.contains(&deadline_text)),
        "with the deadline"
    );

    // T-2 and T-1: the person due (团委's leader) is reminded, once each.
    jump_to(&bot, calendar.add_working_days(deadline, -2).date);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 1).await,
        "T-2 nudge: {:#?}",
        texts(&bot, "liuyang")
    );
    jump_to(&bot, calendar.add_working_days(deadline, -1).date);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 2).await,
        "T-1 nudge"
    );
    // T: the person due and the unit leader (the same person here: one message).
    jump_to(&bot, deadline);
    assert!(count_with(&bot, "liuyang", "【提醒】", 3).await, "T nudge");
    bot.settle(WAIT).await;
    assert!(
        bot.fake.robot_messages(ROBOT_KEY).is_empty(),
        "no escalation before the deadline has passed"
    );

    // T+1: a digest in the propaganda department's group, @-mentioning who is due.
    jump_to(&bot, calendar.add_working_days(deadline, 1).date);
    let got = bot
        .fake
        .wait_until(|f| !f.robot_messages(ROBOT_KEY).is_empty(), WAIT)
        .await;
    assert!(got, "the escalation digest");
    let digest = bot.fake.robot_messages(ROBOT_KEY)[0].clone();
    let content = digest.to_string();
    assert!(
        content.contains("团委") && content.contains("团委青年之声"),
        "{content}"
    );
    assert!(
        content.contains("liuyang"),
        "mentions the person due: {content}"
    );
    bot.settle(WAIT).await;
    assert_eq!(
        texts(&bot, "liuyang")
            .iter()
            .filter(|t| t.contains("【提醒】"))
            .count(),
        3,
        "each rung once"
    );

    // The report is filed and confirmed: the chase stops (the weekly repeat finds it done).
    bot.say("zhangsan", REPLACE_ADMIN).await;
    change_report_card(&bot).await;
    approve_card(&bot, "chenjing", "BG-", "rc-confirm-change").await;
    assert!(
        bot.wait_for_text("zhangsan", "办理完毕", WAIT).await,
        "{:#?}",
        texts(&bot, "zhangsan")
    );
    jump_to(&bot, calendar.add_working_days(deadline, 7).date);
    bot.settle(WAIT).await;
    assert_eq!(
        bot.fake.robot_messages(ROBOT_KEY).len(),
        1,
        "no digest for a finished duty"
    );
    bot.stop().await;
}
