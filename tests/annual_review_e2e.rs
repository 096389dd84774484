//! The annual review campaign (年审, policy 3.1.2) through the real protocol, on a simulated
//! clock, both stores: 团委 has four accounts in use (张三 administers them); 李娜 of the
//! department opens the campaign (confirmed; opening again creates nothing twice); 张三 gets a
//! message and a card per account, fills the reports (开始填写 or 年报); 团委's leader approves
//! and the department reviews: one passes (合格), one is sent back (需整改, with what to fix and
//! by when: the account is 整改中 and the resubmission is chased by its own ladder), one fails
//! (不合格: the account is ordered closed); the fourth is chased by the
//! ladder (direct, a digest in the department's group with @mentions, the leader at the
//! deadline, the department's group after it); `年审 进度` counts it per unit; `年审 结束`
//! marks the missing one 未报, and the XLSX of `导出 年审` shows each account's outcome.

#[macro_use]
mod support;

use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{
    ANNUAL_REPORT, FOUR_ACCOUNTS, approve_card, ask, case_json, jump_to, register_accounts, year,
};

const WAIT: Duration = Duration::from_secs(30);
const ROBOT_KEY: &str = "robot-key-xcb";

on_both_stores!(a_campaign_runs_from_opening_to_the_exported_results);

/// The 开始填写 cards 张三 has received.
fn fill_cards(bot: &TestBot) -> Vec<serde_json::Value> {
    bot.fake
        .sent_to("zhangsan")
        .into_iter()
        .filter(|m| {
            m["msgtype"] == "template_card"
                && m["template_card"]["button_list"][0]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("annual_fill:"))
        })
        .collect()
}

/// 张三 files the report of the `n`-th account (1-based in the unit's list) through `start`
/// (a keyword, or nothing when the form was opened by the card); returns its number.
async fn file_report(bot: &TestBot, start: Option<&str>, n: usize, expect: &str) {
    if let Some(word) = start {
        bot.say("zhangsan", &[word]).await;
    }
    let choice = n.to_string();
    bot.say("zhangsan", &[&choice]).await;
    bot.say("zhangsan", ANNUAL_REPORT).await;
    assert!(
        bot.wait_for_text("zhangsan", expect, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
}

/// The digests of missing reports in the department's group (the report sent back is chased
/// by its own ladder, `[duties.annual_rectify]`, whose digests are left out here).
fn robot_texts(bot: &TestBot) -> Vec<String> {
    bot.fake
        .robot_messages(ROBOT_KEY)
        .iter()
        .map(|m| m.to_string())
        .filter(|m| m.contains("年度报告尚未提交"))
        .collect()
}

async fn a_campaign_runs_from_opening_to_the_exported_results(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.robot_keys.insert("xcb".into(), ROBOT_KEY.into());
        // 张三 gets far more than WeCom's 30 messages a minute here; pacing is not the story.
        s.pacing.member_limit = 10_000;
    })
    .await
    else {
        return;
    };
    let y = year(&bot);
    let dj = register_accounts(&bot, &FOUR_ACCOUNTS).await;
    let calendar = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar;
    let deadline = calendar.add_working_days(bot.clock.now().today, 20).date;

    // Only the department opens it; the confirmation says what it covers.
    ask(
        &bot,
        "zhangsan",
        &format!("年审 开始 {y}"),
        "仅限党委宣传部",
    )
    .await;
    let asked = ask(&bot, "lina", &format!("年审 开始 {y}"), "确认").await;
    assert!(asked.contains("1 个单位的 4 个"), "{asked}");
    // Two members confirm one after the other: the second creates nothing.
    ask(&bot, "chenjing", &format!("年审 开始 {y}"), "确认请回复").await;
    let opened = ask(&bot, "lina", "确认", "已发起").await;
    assert!(opened.contains("4 个账号"), "{opened}");
    ask(&bot, "chenjing", "确认", "已经发起").await;
    bot.settle(WAIT).await;
    let tasks = bot.store.cases_in(&format!("annual:{y}")).await.unwrap();
    assert_eq!(tasks.len(), 4, "{tasks:?}");
    assert_eq!(fill_cards(&bot).len(), 4, "one card per account");
    let told = bot
        .texts_to("zhangsan")
        .iter()
        .filter(|t| t.contains("年审已开始"))
        .count();
    assert_eq!(told, 4, "one message per account");

    // Report 1 through the card's 开始填写; reports 2 and 3 through 年报.
    let card = fill_cards(&bot)[0]["template_card"].clone();
    let (task, key) = (
        card["task_id"].as_str().unwrap().to_owned(),
        card["button_list"][0]["key"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        bot.post(&bot.tap("zhangsan", &key, &task, "rc-fill"))
            .await
            .0,
        200
    );
    assert!(
        bot.wait_for_text("zhangsan", "请选择本次报告的账号", WAIT)
            .await
    );
    file_report(&bot, None, 1, &format!("NB-{y}-0001")).await;
    file_report(&bot, Some("年报"), 2, &format!("NB-{y}-0002")).await;
    file_report(&bot, Some("年报"), 3, &format!("NB-{y}-0003")).await;
    // One report per account.
    bot.say("zhangsan", &["年报", "1"]).await;
    bot.say("zhangsan", ANNUAL_REPORT).await;
    assert!(bot.wait_for_text("zhangsan", "只需提交一份", WAIT).await);
    bot.say("zhangsan", &["取消"]).await;

    // The leader approves all three; the department's card notes the failed self-check.
    for n in 1..=3 {
        let report = format!("NB-{y}-{n:04}");
        approve_card(&bot, "liuyang", &report, &format!("rc-nl{n}")).await;
    }
    // Each report approved by the leader goes on to the department, with a card of its own.
    let reports: Vec<String> = (1..=3).map(|n| format!("NB-{y}-{n:04}")).collect();
    assert!(
        bot.fake
            .wait_until(
                move |f| {
                    let cards = f.sent_to("chenjing");
                    reports
                        .iter()
                        .all(|r| cards.iter().any(|m| m.to_string().contains(r.as_str())))
                },
                WAIT,
            )
            .await,
        "the department has the three reports' cards"
    );
    let progress = ask(&bot, "lina", "年审 进度", "年审进度").await;
    assert!(
        progress.contains("团委：账号 4，已报 3，负责人已审批 3，合格 0"),
        "{progress}"
    );
    let dept_card = bot
        .fake
        .sent_to("chenjing")
        .into_iter()
        .rev()
        .find(|m| m.to_string().contains(&format!("NB-{y}-0001")))
        .expect("the department's card");
    assert!(
        dept_card.to_string().contains("自查未达标：执行发布前审核"),
        "{dept_card}"
    );

    // 合格, 需整改, 不合格.
    approve_card(&bot, "chenjing", &format!("NB-{y}-0001"), "rc-pass").await;
    bot.say("lina", &[&format!("驳回 NB-{y}-0002 请补充舆情处置情况")])
        .await;
    let rectify = format!("NB-{y}-0002 经党委宣传部审核需要整改：请补充舆情处置情况");
    assert!(
        bot.wait_for_text("zhangsan", &rectify, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // Only the department fails a report.
    ask(
        &bot,
        "liuyang",
        &format!("年审 不合格 NB-{y}-0003 未落实值守"),
        "仅限党委宣传部",
    )
    .await;
    let failed = ask(
        &bot,
        "lina",
        &format!("年审 不合格 NB-{y}-0003 未落实值守"),
        "不合格",
    )
    .await;
    assert!(failed.contains("已责令注销该账号（RW-"), "{failed}");
    assert!(
        bot.wait_for_text("zhangsan", "党委宣传部责令注销", WAIT)
            .await
    );
    let entry = case_json(&bot, &format!("BA-{y}-0003")).await;
    assert_eq!(entry["account_status"], "closing");
    bot.settle(WAIT).await;

    // The fourth is chased: T-3 directly, T-1 in the department's group with @mentions,
    // T the leader, T+1 and T+2 the department's group again.
    let nudges = |bot: &TestBot, user: &str| {
        bot.texts_to(user)
            .iter()
            .filter(|t| t.contains("年度报告截止日期"))
            .count()
    };
    jump_to(&bot, calendar.add_working_days(deadline, -3).date);
    bot.settle(WAIT).await;
    assert_eq!(
        nudges(&bot, "zhangsan"),
        1,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(nudges(&bot, "zhangsan") == 1 && robot_texts(&bot).is_empty());
    jump_to(&bot, calendar.add_working_days(deadline, -1).date);
    bot.settle(WAIT).await;
    let digests = robot_texts(&bot);
    assert_eq!(digests.len(), 1, "{digests:#?}");
    assert!(
        digests[0].contains("团委文艺") && digests[0].contains("zhangsan"),
        "{}",
        digests[0]
    );
    assert!(
        !digests[0].contains("团委青年之声"),
        "filed reports are not chased"
    );
    jump_to(&bot, deadline);
    bot.settle(WAIT).await;
    assert_eq!(nudges(&bot, "liuyang"), 1, "the leader at the deadline");
    assert_eq!(nudges(&bot, "zhangsan"), 2);
    jump_to(&bot, calendar.add_working_days(deadline, 1).date);
    bot.settle(WAIT).await;
    jump_to(&bot, calendar.add_working_days(deadline, 2).date);
    bot.settle(WAIT).await;
    let digests = robot_texts(&bot);
    assert_eq!(digests.len(), 3, "daily after the deadline: {digests:#?}");
    assert!(digests[2].contains("团委文艺") && digests[2].contains("zhangsan"));

    // A unit leader sees their units; someone else is refused.
    ask(&bot, "liuyang", "年审 进度", "本单位").await;
    ask(&bot, "zhangsan", "年审 进度", "各单位主要负责人开放").await;

    // The report sent back (需整改) is chased by its own ladder until it is resubmitted.
    let rectify_digests = |bot: &TestBot| {
        bot.fake
            .robot_messages(ROBOT_KEY)
            .iter()
            .filter(|m| m.to_string().contains("整改已到期"))
            .count()
    };
    let chased = rectify_digests(&bot);
    assert!(chased >= 1, "the rectification is chased");

    // Closing: the missing report is 未报 and no longer chased, nor is the one sent back.
    let closed = ask(&bot, "lina", "年审 结束", "已结束").await;
    assert!(closed.contains("1 个账号未提交"), "{closed}");
    jump_to(&bot, calendar.add_working_days(deadline, 3).date);
    bot.settle(WAIT).await;
    jump_to(&bot, calendar.add_working_days(deadline, 6).date);
    bot.settle(WAIT).await;
    assert_eq!(robot_texts(&bot).len(), 3, "no chase after the close");
    assert_eq!(rectify_digests(&bot), chased, "no chase after the close");

    // The results as XLSX, read back.
    ask(&bot, "lina", "导出 年审", "正在生成").await;
    let arrived = bot
        .fake
        .wait_until(|f| !f.files_sent_to("lina").is_empty(), WAIT)
        .await;
    assert!(arrived, "the file");
    let (name, bytes) = bot.fake.files_sent_to("lina").remove(0);
    assert_eq!(name, format!("{y}年度新媒体账号年审结果.xlsx"));
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an XLSX workbook");
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).expect("the sheet");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(rows[0][2], "登记编号");
    assert_eq!(rows[0][6], "审核结果");
    let outcome = |dj: &str| {
        rows.iter()
            .find(|r| r[2] == dj)
            .map(|r| r[6].clone())
            .unwrap_or_default()
    };
    assert_eq!(outcome(&dj[0]), "合格");
    assert_eq!(outcome(&dj[1]), "需整改");
    assert_eq!(outcome(&dj[2]), "不合格");
    assert_eq!(outcome(&dj[3]), "未报");
    assert_eq!(rows.len(), 5, "{rows:#?}");
    bot.stop().await;
}
