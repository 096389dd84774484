//! Incident reports (舆情上报) through the real protocol on a simulated clock: a report filed at
//! 02:00 on a holiday (a screenshot first, then `舆情` and two answers) reaches the unit's
//! leader and the department at once (cards, the screenshot forwarded, the group message) and
//! escalates rung by rung (+5 min all and the group, +15 the head, +30 the next level, each
//! recorded) until one tap acknowledges it for everyone: every card is updated and the ladder
//! stops. Then the department's instruction, the unit's report, `舆情 列表` and `办结`, with the
//! times kept. `状态 YQ-…` shows the incident; the other case commands say they do not apply
//! (never an error, nothing set aside). Both stores.

#[macro_use]
mod support;

use chrono::NaiveDate;
use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::jump_to_time;
use support::wait::{WAIT, until};

on_both_stores!(
    an_incident_at_two_on_a_holiday_escalates_until_a_tap_stops_it_for_all,
    the_department_instructs_the_unit_reports_and_the_department_closes,
    case_commands_given_an_incident_number_answer_and_never_fail,
);

const ROBOT_KEY: &str = "xcb-robot-key";

async fn bot(backend: Backend) -> Option<TestBot> {
    spawn_bot(backend, |s| {
        s.robot_keys.insert("xcb".into(), ROBOT_KEY.into());
    })
    .await
}

/// Files an incident as 张三 (团委) with a screenshot sent first; returns its number.
async fn report(bot: &TestBot) -> String {
    bot.send_image("zhangsan", "shot-1", b"\x89PNG-comments")
        .await;
    assert!(bot.wait_for_text("zhangsan", "已收到截图", WAIT).await);
    bot.say("zhangsan", &["舆情"]).await;
    assert!(bot.wait_for_text("zhangsan", "已附上 1 张截图", WAIT).await);
    bot.say("zhangsan", &["青年之声"]).await;
    assert!(bot.wait_for_text("zhangsan", "发生了什么", WAIT).await);
    bot.say(
        "zhangsan",
        &["微博评论区出现大量不实信息 https://weibo.com/123"],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "已上报，编号 YQ-2026-0001", WAIT)
            .await
    );
    "YQ-2026-0001".to_owned()
}

fn cards_to(bot: &TestBot, user: &str) -> usize {
    bot.fake
        .sent_to(user)
        .iter()
        .filter(|m| m["msgtype"] == "template_card")
        .count()
}

fn texts_with(bot: &TestBot, user: &str, needle: &str) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

/// Moves the bot's clock ahead by `minutes` and lets everything due happen.
async fn minutes_later(bot: &TestBot, minutes: i64) {
    bot.clock
        .set_offset_ms(bot.clock.offset_ms() + minutes * 60_000);
    bot.settle(WAIT).await;
}

async fn incident_json(bot: &TestBot, number: &str) -> serde_json::Value {
    let record = bot
        .store
        .get_case(number)
        .await
        .unwrap()
        .expect("the incident");
    serde_json::from_str(&record.body).unwrap()
}

async fn an_incident_at_two_on_a_holiday_escalates_until_a_tap_stops_it_for_all(backend: Backend) {
    let Some(bot) = bot(backend).await else {
        return;
    };
    // 国庆节, 02:00: in quiet hours, on a holiday.
    jump_to_time(&bot, NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), 2);
    let number = report(&bot).await;
    bot.settle(WAIT).await;
    // At once: the unit's leader and the department (陈静, 李娜) get the card and the screenshot.
    for user in ["liuyang", "chenjing", "lina"] {
        assert_eq!(cards_to(&bot, user), 1, "{user} got the card at once");
        let media = bot.fake.media_sent_to(user);
        assert_eq!(media.len(), 1, "{user} got the screenshot");
        assert_eq!(media[0].0, "image");
        assert_eq!(media[0].2, b"\x89PNG-comments");
    }
    assert_eq!(cards_to(&bot, "wangqiang"), 0);
    let group = bot.fake.robot_messages(ROBOT_KEY);
    assert_eq!(group.len(), 1, "{group:?}");
    let markdown = group[0]["markdown"]["content"].as_str().unwrap();
    assert!(
        markdown.contains("【舆情上报】") && markdown.contains("<@lina>"),
        "{markdown}"
    );

    // +5 min: everyone again, and the group.
    minutes_later(&bot, 5).await;
    for user in ["liuyang", "chenjing", "lina"] {
        assert_eq!(texts_with(&bot, user, "已过去 5 分钟"), 1, "{user}");
    }
    assert_eq!(bot.fake.robot_messages(ROBOT_KEY).len(), 2);
    // +15 min: the department's head.
    minutes_later(&bot, 10).await;
    assert_eq!(texts_with(&bot, "chenjing", "已过去 15 分钟"), 1);
    assert_eq!(texts_with(&bot, "lina", "已过去 15 分钟"), 0);
    // +30 min: the next level gets a card of their own.
    minutes_later(&bot, 15).await;
    assert_eq!(cards_to(&bot, "wangqiang"), 1);
    assert_eq!(bot.fake.media_sent_to("wangqiang").len(), 1);
    let steps = incident_json(&bot, &number).await["escalations"].clone();
    assert_eq!(steps.as_array().unwrap().len(), 3, "{steps}");

    // 李娜 taps 已知悉: every card is updated, the reporter told, the ladder stopped.
    let (task_id, ack, _) = bot.last_card("lina").expect("李娜's card");
    assert_eq!(ack, format!("inc_ack:{number}"));
    let (status, _) = bot.post(&bot.tap("lina", &ack, &task_id, "tap-code")).await;
    assert_eq!(status, 200);
    assert!(bot.wait_for_text("zhangsan", "李娜已知悉", WAIT).await);
    bot.settle(WAIT).await;
    let updates = bot.fake.accepted_bodies("/update_template_card");
    assert_eq!(updates.len(), 2, "both cards updated: {updates:?}");
    for update in &updates {
        assert_eq!(update["button"]["replace_name"], "李娜已知悉");
    }
    let mut updated: Vec<String> = updates
        .iter()
        .flat_map(|u| u["userids"].as_array().unwrap().clone())
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    updated.sort();
    assert_eq!(updated, ["chenjing", "lina", "liuyang", "wangqiang"]);
    let incident = incident_json(&bot, &number).await;
    assert_eq!(incident["status"], "acknowledged");
    assert_eq!(incident["acknowledged_by"], "lina");
    let minutes = (incident["acknowledged_ms"].as_i64().unwrap()
        - incident["reported_ms"].as_i64().unwrap())
        / 60_000;
    assert_eq!(minutes, 30);

    // Nothing more escalates.
    let before = bot.fake.requests().len();
    minutes_later(&bot, 120).await;
    assert_eq!(bot.fake.requests().len(), before);
    assert_eq!(bot.store.pending_timers().await.unwrap(), 0);
    bot.stop().await;
}

async fn the_department_instructs_the_unit_reports_and_the_department_closes(backend: Backend) {
    let Some(bot) = bot(backend).await else {
        return;
    };
    let number = report(&bot).await;
    bot.say("zhangsan", &["较大"]).await;
    assert!(bot.wait_for_text("zhangsan", "严重程度“较大”", WAIT).await);
    assert!(bot.wait_for_text("lina", "严重程度“较大”", WAIT).await);

    bot.say("zhangsan", &["舆情 列表"]).await;
    assert!(bot.wait_for_text("zhangsan", "仅限党委宣传部", WAIT).await);
    bot.say("lina", &["舆情 列表"]).await;
    assert!(bot.wait_for_text("lina", "未办结的舆情共 1 件", WAIT).await);
    assert!(
        bot.texts_to("lina")
            .iter()
            .any(|t| t.contains(&number) && t.contains("尚无人确认"))
    );

    bot.say(
        "lina",
        &[&format!("口径 {number} 统一回复：已核实，正在处理")],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "统一回复：已核实", WAIT)
            .await
    );
    assert!(bot.wait_for_text("liuyang", "统一回复：已核实", WAIT).await);
    bot.say(
        "zhangsan",
        &[&format!("处置 {number} 已删除不实评论并发布说明")],
    )
    .await;
    assert!(bot.wait_for_text("chenjing", "已删除不实评论", WAIT).await);
    assert!(
        bot.wait_for_text("zhangsan", "已将处置情况报告党委宣传部", WAIT)
            .await
    );

    bot.say("zhangsan", &[&format!("办结 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "仅限党委宣传部", WAIT).await);
    bot.say("lina", &[&format!("办结 {number}")]).await;
    assert!(
        bot.wait_for_text("zhangsan", "已由党委宣传部李娜办结", WAIT)
            .await
    );
    until("the incident is closed", || async {
        incident_json(&bot, &number).await["status"] == "closed"
    })
    .await;
    let incident = incident_json(&bot, &number).await;
    assert!(incident["closed_ms"].as_i64().is_some());
    bot.settle(WAIT).await;
    assert_eq!(bot.store.pending_timers().await.unwrap(), 0);
    bot.say("lina", &["舆情 列表"]).await;
    assert!(
        bot.wait_for_text("lina", "目前没有未办结的舆情", WAIT)
            .await
    );
    bot.stop().await;
}

async fn case_commands_given_an_incident_number_answer_and_never_fail(backend: Backend) {
    let Some(bot) = bot(backend).await else {
        return;
    };
    let number = report(&bot).await;
    bot.settle(WAIT).await;

    // 状态: the reporter and the department see where it stands; others learn nothing.
    bot.say("zhangsan", &[&format!("状态 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "目前尚无人确认", WAIT).await);
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.starts_with(&format!("舆情 {number}（团委")) && t.contains("不实信息"))
    );
    bot.say("wangqiang", &[&format!("状态 {number}")]).await;
    assert!(
        bot.wait_for_text("wangqiang", &format!("没有找到舆情 {number}"), WAIT)
            .await
    );
    let (task_id, ack, _) = bot.last_card("lina").expect("李娜's card");
    bot.post(&bot.tap("lina", &ack, &task_id, "tap-code")).await;
    assert!(bot.wait_for_text("zhangsan", "李娜已知悉", WAIT).await);
    bot.say("lina", &[&format!("状态 {number}")]).await;
    assert!(
        bot.wait_for_text("lina", "目前已知悉，由李娜负责", WAIT)
            .await
    );

    // The other case commands do not apply to an incident, and change nothing.
    let version = bot.store.get_case(&number).await.unwrap().unwrap().version;
    for command in ["撤回", "催办", "同意", "驳回", "修改"] {
        bot.say("zhangsan", &[&format!("{command} {number}")]).await;
        until("the command is answered", || async {
            texts_with(&bot, "zhangsan", "不适用这项操作")
                == ["撤回", "催办", "同意", "驳回", "修改"]
                    .iter()
                    .position(|c| *c == command)
                    .unwrap()
                    + 1
        })
        .await;
    }
    bot.settle(WAIT).await;
    let record = bot.store.get_case(&number).await.unwrap().unwrap();
    assert_eq!(record.version, version);
    assert!(bot.store.dead_letters(10).await.unwrap().is_empty());
    bot.stop().await;
}
