//! A duty followed from opening to escalation on a simulated clock: 张三, the administrator of
//! a registered account, leaves the company (a `change_contact` callback); 团委's leader is told
//! and nudged on the right working days; the day after the deadline the propaganda department's
//! group robot gets a digest with @mentions; once the change report is confirmed the chase stops.
//!
//! The clock offset is process-wide, so both store backends run in this one test, in turn.

mod support;

use std::time::Duration;

use chrono::{NaiveDate, TimeZone};
use support::bot::{Backend, CORP_ID, TestBot, spawn_bot};
use support::flows::{approve_card, register};

const WAIT: Duration = Duration::from_secs(20);
const ROBOT_KEY: &str = "robot-key-xcb";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duty_is_chased_from_opening_to_escalation_and_stops_when_done() {
    for backend in [Backend::Embedded, Backend::Redis] {
        flowbot::clock::set_offset_ms(0);
        chase(backend).await;
        flowbot::clock::set_offset_ms(0);
        overdue_approval(backend).await;
        flowbot::clock::set_offset_ms(0);
        catch_up_sends_one_nudge(backend).await;
        flowbot::clock::set_offset_ms(0);
        digest_in_an_app_group_chat(backend).await;
    }
    flowbot::clock::set_offset_ms(0);
}

/// Moves the bot's clock to 10:00 Shanghai time on `day`.
fn jump_to(day: NaiveDate) {
    let target = chrono_tz::Asia::Shanghai
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .timestamp_millis();
    let real = flowbot::clock::now_ms() - flowbot::clock::offset_ms();
    flowbot::clock::set_offset_ms(target - real);
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
async fn overdue_approval(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = support::flows::file(&bot).await;
    assert_eq!(cards(&bot, "liuyang").len(), 1);
    let calendar = flowbot::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    let today = calendar.date_at_ms(flowbot::clock::now_ms());
    jump_to(calendar.add_working_days(today, 2).date);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        cards(&bot, "liuyang").len(),
        1,
        "not chased before the deadline has passed"
    );
    jump_to(calendar.add_working_days(today, 3).date);
    let chased = bot
        .fake
        .wait_until(
            |f| {
                f.sent_to("liuyang")
                    .iter()
                    .filter(|m| m["msgtype"] == "template_card")
                    .count()
                    == 2
            },
            WAIT,
        )
        .await;
    assert!(chased, "a fresh card after the deadline");
    let ids = cards(&bot, "liuyang");
    assert_ne!(ids[0], ids[1], "a fresh card has a fresh task id");
    approve_card(&bot, "liuyang", &number, "rc-fresh").await;
    assert!(
        bot.wait_for_text("zhangsan", "已通过", WAIT).await,
        "the fresh card decides"
    );
    bot.stop().await;
}

/// 张三 leaves; the unit's leader is told. Returns the duty's deadline.
async fn admin_leaves(bot: &TestBot) -> NaiveDate {
    let calendar = flowbot::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    let today = calendar.date_at_ms(flowbot::clock::now_ms());
    let now = flowbot::clock::now_ms() / 1000;
    let plain = format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>\
<ChangeType><![CDATA[delete_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID></xml>"
    );
    let (query, body) = flowbot::loadgen::signed_xml(&bot.crypto, &plain, now, "98");
    assert_eq!(bot.post_raw(&query, body).await.0, 200);
    assert!(
        count_with(bot, "liuyang", "已离职", 1).await,
        "the unit leader is told"
    );
    calendar.add_working_days(today, 5).date
}

/// The bot was down until the deadline day: T-2, T-1 and T are all due at once, and the
/// leader gets one nudge, not three.
async fn catch_up_sends_one_nudge(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    let deadline = admin_leaves(&bot).await;
    jump_to(deadline);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 1).await,
        "the nudge of the deadline day"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let nudges = texts(&bot, "liuyang")
        .iter()
        .filter(|t| t.contains("【提醒】"))
        .count();
    assert_eq!(nudges, 1, "the earlier, superseded rungs stay silent");
    bot.stop().await;
}

/// The same escalation in an app group chat (`appchat/send`) instead of a robot, when bot.toml
/// names one for the group.
async fn digest_in_an_app_group_chat(backend: Backend) {
    let scripts = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts");
    copy_dir(&shipped, scripts.path());
    let bot_toml = scripts.path().join("bot.toml");
    let text = std::fs::read_to_string(&bot_toml).unwrap();
    let text = text.replace(
        "title = \"党委宣传部新媒体工作群\"",
        "title = \"党委宣传部新媒体工作群\"\nappchat = \"wrkxcb01\"",
    );
    std::fs::write(&bot_toml, text).unwrap();
    let dir = scripts.path().to_owned();
    let Some(bot) = spawn_bot(backend, move |s| s.scripts_dir = dir).await else {
        return;
    };
    register(&bot).await;
    let deadline = admin_leaves(&bot).await;
    let calendar = flowbot::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    jump_to(calendar.add_working_days(deadline, 1).date);
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

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn chase(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.robot_keys.insert("xcb".into(), ROBOT_KEY.into());
    })
    .await
    else {
        return;
    };
    register(&bot).await;
    let calendar = flowbot::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    let deadline = admin_leaves(&bot).await;
    let deadline_text = deadline.format("%Y-%m-%d").to_string();
    assert!(
        texts(&bot, "liuyang")
            .iter()
            .any(|t| t.contains(&deadline_text)),
        "with the deadline"
    );

    // T-2 and T-1: the person due (团委's leader) is reminded, once each.
    jump_to(calendar.add_working_days(deadline, -2).date);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 1).await,
        "T-2 nudge: {:#?}",
        texts(&bot, "liuyang")
    );
    jump_to(calendar.add_working_days(deadline, -1).date);
    assert!(
        count_with(&bot, "liuyang", "【提醒】", 2).await,
        "T-1 nudge"
    );
    // T: the person due and the unit leader (the same person here: one message).
    jump_to(deadline);
    assert!(count_with(&bot, "liuyang", "【提醒】", 3).await, "T nudge");
    assert!(
        bot.fake.robot_messages(ROBOT_KEY).is_empty(),
        "no escalation before the deadline has passed"
    );

    // T+1: a digest in the propaganda department's group, @-mentioning who is due.
    jump_to(calendar.add_working_days(deadline, 1).date);
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
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        texts(&bot, "liuyang")
            .iter()
            .filter(|t| t.contains("【提醒】"))
            .count(),
        3,
        "each rung once"
    );

    // The report is filed and confirmed: the chase stops (the weekly repeat finds it done).
    bot.say(
        "zhangsan",
        &["变更", "1", "2", "zhangwei", "13900139001", "今天", "确认"],
    )
    .await;
    let got = bot
        .fake
        .wait_until(
            |f| {
                f.sent_to("chenjing")
                    .iter()
                    .any(|m| m["msgtype"] == "template_card" && m.to_string().contains("BG-"))
            },
            WAIT,
        )
        .await;
    assert!(
        got,
        "the propaganda department gets the change report's card"
    );
    approve_card(&bot, "chenjing", "BG-", "rc-confirm-change").await;
    assert!(
        bot.wait_for_text("zhangsan", "办理完毕", WAIT).await,
        "{:#?}",
        texts(&bot, "zhangsan")
    );
    jump_to(calendar.add_working_days(deadline, 7).date);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        bot.fake.robot_messages(ROBOT_KEY).len(),
        1,
        "no digest for a finished duty"
    );
    bot.stop().await;
}
