//! The annual review's schedule, unit digests, reuse of earlier answers and rectification,
//! through the real protocol on a simulated clock, both stores. Accounts are written into the
//! store before the bot starts (as the approval flow leaves them):
//!
//! - the campaign opens by itself on `opens_on` (the department's group is told, tasks go out,
//!   opening in chat afterwards adds nothing), and the day before the deadline each unit with a
//!   group of its own gets one digest of its missing reports with @mentions of their
//!   administrators, a unit without one falls back to the department's group;
//! - a new report offers to reuse this account's report of an earlier campaign, or the
//!   administrator's report of another account; 是 reuses all but the account and the numbers,
//!   the summary lets an answer be edited; 否 goes on as asked;
//! - 需整改 puts the account 整改中 in the register (台账), the ladder reminds the administrator,
//!   the resubmission ends the chase and 合格 puts the account back in use.

#[path = "export/seed.rs"]
#[allow(dead_code)]
mod seed;
#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Datelike;
use flowbot::adapters::store::Store;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::domain::engine::Answer;
use flowbot::domain::records::Case;
use flowbot::process::annual_review::schedule::arm;
use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{ANNUAL_REPORT, approve_card, ask, case_json, jump_to};

const WAIT: Duration = Duration::from_secs(30);

on_both_stores!(
    a_scheduled_campaign_opens_and_each_unit_group_gets_its_digest,
    a_new_report_may_reuse_an_earlier_one,
    a_report_sent_back_keeps_the_account_under_rectification_until_it_passes,
);

/// An account: unit id and name, administrator userid and name, account name.
type Account = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Registered accounts as the approval flow leaves them, numbered in order.
fn accounts(year: i32, list: &[Account]) -> Vec<Case> {
    let template = seed::cases().remove(0);
    list.iter()
        .enumerate()
        .map(|(i, (unit, unit_name, admin, admin_name, name))| {
            let mut c = template.clone();
            c.number = format!("BA-{year}-{:04}", i + 1);
            c.unit = (*unit).into();
            c.unit_name = (*unit_name).into();
            c.register_number = Some(format!("DJ-{year}-{:04}", i + 1));
            let (admin, admin_name) = ((*admin).into(), (*admin_name).into());
            let unit = Answer::Ref {
                id: (*unit).into(),
                name: (*unit_name).into(),
            };
            c.answers.set("unit", unit);
            c.answers.set("account_name", Answer::Text((*name).into()));
            c.answers.set(
                "admin",
                Answer::Member {
                    userid: admin,
                    name: admin_name,
                },
            );
            c
        })
        .collect()
}

/// The bot over a store holding `list` (written before it starts), with the shipped scripts
/// edited by `edits` (each `from` must be in bot.toml) and robot keys for `groups`.
async fn bot_with(
    backend: Backend,
    list: &[Account],
    edits: &[(&str, String)],
    groups: &[&str],
) -> Option<(TestBot, tempfile::TempDir, tempfile::TempDir)> {
    let y = flowbot::base::clock::Clock::default().now().today.year();
    let data = tempfile::tempdir().expect("temp dir");
    let prefix = format!("flowbot-test-{:016x}", rand::random::<u64>());
    let store: Arc<dyn Store> = match backend {
        Backend::Embedded => Arc::new(EmbeddedStore::open(data.path()).expect("open")),
        Backend::Redis => Arc::new(support::store::redis_store(&prefix).await?),
    };
    seed::write(&store, &accounts(y, list)).await;
    drop(store);
    let scripts = support::scripts::copy_shipped();
    let bot_toml = scripts.path().join("bot.toml");
    let mut text = std::fs::read_to_string(&bot_toml).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "bot.toml has {from:?}");
        text = text.replace(from, to);
    }
    std::fs::write(&bot_toml, text).unwrap();
    let dir = scripts.path().to_owned();
    let keys: Vec<(String, String)> = groups
        .iter()
        .map(|g| (g.to_string(), format!("robot-key-{g}")))
        .collect();
    let bot = spawn_bot(backend, |s| {
        s.data_dir = data.path().to_owned();
        s.redis_prefix = prefix;
        s.scripts_dir = dir;
        s.robot_keys.extend(keys);
        s.pacing.member_limit = 10_000;
    })
    .await?;
    Some((bot, data, scripts))
}

fn robot_texts(bot: &TestBot, group: &str) -> Vec<String> {
    bot.fake
        .robot_messages(&format!("robot-key-{group}"))
        .iter()
        .map(|m| {
            m["markdown"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn calendar(bot: &TestBot) -> flowbot::base::calendar::Calendar {
    flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar
}

async fn a_scheduled_campaign_opens_and_each_unit_group_gets_its_digest(backend: Backend) {
    let today = flowbot::base::clock::Clock::default().now().today;
    let y = today.year();
    let scripts = flowbot::base::scripts::Scripts::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bot-scripts"
    )))
    .unwrap();
    let opens_on = scripts.calendar.add_working_days(today, 2).date;
    let schedule = format!("opens_on = \"{opens_on}\"\nyear = {y}\ngroup = \"xcb\"\n");
    let groups = "[groups.tw]\ntitle = \"团委新媒体群\"\n\n[groups.gh]\ntitle = \"工会新媒体群\"\n\n[groups.xcb]";
    let list: [Account; 4] = [
        ("tw", "团委", "zhangsan", "张三", "团委青年之声"),
        ("tw", "团委", "zhangsan", "张三", "团委志愿者"),
        ("gh", "工会", "zhangwei", "张伟", "工会之家"),
        ("lhsc", "炼化生产中心", "zhangwei2", "张伟", "炼化之声"),
    ];
    let edits = [
        ("# opens_on = \"2027-01-05\"\n# group = \"xcb\"\n", schedule),
        ("[groups.xcb]", groups.to_owned()),
    ];
    let Some((bot, _data, _scripts)) = bot_with(backend, &list, &edits, &["xcb", "tw", "gh"]).await
    else {
        return;
    };
    // Nothing before the day; another replica arming the opening arms the same one timer.
    bot.settle(WAIT).await;
    let campaign = format!("NS-{y}");
    assert!(bot.store.get_case(&campaign).await.unwrap().is_none());
    assert!(bot.fake.sent_to("zhangsan").is_empty());
    let scripts = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap();
    let pending = bot.store.pending_timers().await.unwrap();
    assert!(arm(&*bot.store, &scripts).await.unwrap().is_some());
    assert_eq!(bot.store.pending_timers().await.unwrap(), pending);

    // On the day it opens by itself: the department's group is told, tasks go out.
    jump_to(&bot, opens_on);
    bot.settle(WAIT).await;
    assert!(bot.store.get_case(&campaign).await.unwrap().is_some());
    let tasks = bot.store.cases_in(&format!("annual:{y}")).await.unwrap();
    assert_eq!(tasks.len(), 4, "{tasks:?}");
    let told = robot_texts(&bot, "xcb");
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(
        told[0].contains("已自动发起") && told[0].contains("3 个单位的 4 个账号"),
        "{}",
        told[0]
    );
    let opened = |user: &str| {
        bot.texts_to(user)
            .iter()
            .filter(|t| t.contains("年审已开始"))
            .count()
    };
    assert_eq!(opened("zhangsan"), 2);
    assert_eq!(opened("zhangwei"), 1);
    // Opening it in chat afterwards creates nothing twice; a replica starting now arms nothing.
    ask(&bot, "lina", &format!("年审 开始 {y}"), "已经发起").await;
    assert_eq!(arm(&*bot.store, &scripts).await.unwrap(), None);

    // The day before the deadline: one digest per unit group, only its accounts, @mentions of
    // its administrators; the unit without a group falls back to the department's group.
    let cal = calendar(&bot);
    let deadline = cal.add_working_days(opens_on, 20).date;
    jump_to(&bot, cal.add_working_days(deadline, -1).date);
    bot.settle(WAIT).await;
    let tw = robot_texts(&bot, "tw");
    assert_eq!(tw.len(), 1, "one digest: {tw:#?}");
    assert!(
        tw[0].contains("团委青年之声")
            && tw[0].contains("团委志愿者")
            && tw[0].contains("<@zhangsan>"),
        "{}",
        tw[0]
    );
    assert!(
        !tw[0].contains("工会之家") && !tw[0].contains("炼化之声"),
        "{}",
        tw[0]
    );
    assert!(!tw[0].contains("<@zhangwei"), "{}", tw[0]);
    let gh = robot_texts(&bot, "gh");
    assert_eq!(gh.len(), 1, "{gh:#?}");
    assert!(
        gh[0].contains("工会之家") && gh[0].contains("<@zhangwei>"),
        "{}",
        gh[0]
    );
    assert!(
        !gh[0].contains("团委") && !gh[0].contains("<@zhangsan>"),
        "{}",
        gh[0]
    );
    let xcb = robot_texts(&bot, "xcb");
    assert_eq!(xcb.len(), 2, "{xcb:#?}");
    assert!(
        xcb[1].contains("炼化之声") && xcb[1].contains("<@zhangwei2>"),
        "{}",
        xcb[1]
    );
    assert!(
        !xcb[1].contains("团委青年之声") && !xcb[1].contains("工会之家"),
        "{}",
        xcb[1]
    );
    bot.stop().await;
}

const TW_TWO: [Account; 2] = [
    ("tw", "团委", "zhangsan", "张三", "团委青年之声"),
    ("tw", "团委", "zhangsan", "张三", "团委志愿者"),
];

/// `who` (of the department) opens `year`'s campaign.
async fn open_campaign(bot: &TestBot, year: i32) {
    ask(bot, "lina", &format!("年审 开始 {year}"), "确认").await;
    ask(bot, "lina", "确认", "已发起").await;
    bot.settle(WAIT).await;
}

async fn a_new_report_may_reuse_an_earlier_one(backend: Backend) {
    let Some((bot, _data, _scripts)) = bot_with(backend, &TW_TWO, &[], &["xcb"]).await else {
        return;
    };
    let y = bot.clock.now().today.year();
    // Last year's campaign: the first account's report, with nothing earlier to offer.
    open_campaign(&bot, y - 1).await;
    ask(&bot, "zhangsan", "年报", "请选择本次报告的账号").await;
    let before = bot.texts_to("zhangsan").len();
    bot.say("zhangsan", &["1"]).await;
    bot.say("zhangsan", ANNUAL_REPORT).await;
    let first = format!("NB-{y}-0001");
    assert!(bot.wait_for_text("zhangsan", &first, WAIT).await);
    let offered = |bot: &TestBot, from: usize| {
        bot.texts_to("zhangsan")
            .into_iter()
            .skip(from)
            .filter(|t| t.contains("是否沿用"))
            .collect::<Vec<_>>()
    };
    assert!(offered(&bot, before).is_empty(), "nothing earlier to offer");
    ask(&bot, "lina", &format!("年审 结束 {}", y - 1), "已结束").await;
    open_campaign(&bot, y).await;

    // This year, the same account: last year's report is offered; 是 reuses all but numbers.
    ask(&bot, "zhangsan", "年报", "请选择本次报告的账号").await;
    let offer = ask(&bot, "zhangsan", "1", "是否沿用").await;
    assert!(
        offer.contains(&first) && offer.contains("主要内容"),
        "{offer}"
    );
    assert!(
        !offer.contains("全年发布数量"),
        "numbers are not reused: {offer}"
    );
    let reused = ask(&bot, "zhangsan", "是", "已沿用").await;
    assert!(reused.contains(&first), "{reused}");
    assert!(
        bot.wait_for_text("zhangsan", "本年度该账号发布的内容条数", WAIT)
            .await
    );
    bot.say("zhangsan", &["200"]).await;
    let summary = ask(&bot, "zhangsan", "4000", "全年发布数量：200").await;
    assert!(
        summary.contains("主要内容：青年工作动态、志愿服务")
            && summary.contains("年末关注人数：4000"),
        "{summary}"
    );
    // Each answer can be edited as usual before confirming.
    bot.say("zhangsan", &["修改 存在的问题", "人员不足"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "存在的问题：人员不足", WAIT)
            .await
    );
    let second = format!("NB-{y}-0002");
    ask(&bot, "zhangsan", "确认", &second).await;
    let case = case_json(&bot, &second).await;
    let answers = case["answers"].to_string();
    assert!(
        answers.contains("200") && answers.contains("4000"),
        "{answers}"
    );
    assert!(
        answers.contains("青年工作动态、志愿服务") && answers.contains("人员不足"),
        "{answers}"
    );
    assert!(answers.contains("团委青年之声"), "{answers}");

    // The other account (no report of its own before): this year's report of the first is
    // offered; 否 goes on with the questions.
    ask(&bot, "zhangsan", "年报", "请选择本次报告的账号").await;
    let offer = ask(&bot, "zhangsan", "2", "是否沿用").await;
    assert!(offer.contains(&second), "{offer}");
    ask(&bot, "zhangsan", "否", "不沿用").await;
    let third = format!("NB-{y}-0003");
    let mut own = ANNUAL_REPORT.to_vec();
    own[2] = "志愿服务专题";
    bot.say("zhangsan", &own).await;
    assert!(
        bot.wait_for_text("zhangsan", &third, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let answers = case_json(&bot, &third).await["answers"].to_string();
    assert!(
        answers.contains("志愿服务专题") && answers.contains("团委志愿者"),
        "{answers}"
    );
    assert!(!answers.contains("人员不足"), "{answers}");
    bot.stop().await;
}

async fn a_report_sent_back_keeps_the_account_under_rectification_until_it_passes(
    backend: Backend,
) {
    let Some((bot, _data, _scripts)) = bot_with(backend, &TW_TWO, &[], &["xcb"]).await else {
        return;
    };
    let y = bot.clock.now().today.year();
    open_campaign(&bot, y).await;
    ask(&bot, "zhangsan", "年报", "请选择本次报告的账号").await;
    bot.say("zhangsan", &["1"]).await;
    bot.say("zhangsan", ANNUAL_REPORT).await;
    let report = format!("NB-{y}-0001");
    assert!(bot.wait_for_text("zhangsan", &report, WAIT).await);
    approve_card(&bot, "liuyang", &report, "rc-l1").await;
    bot.settle(WAIT).await;

    // 需整改: the account is 整改中 in the register.
    let today = bot.clock.now().today;
    bot.say("lina", &[&format!("驳回 {report} 请补充舆情处置情况")])
        .await;
    assert!(bot.wait_for_text("zhangsan", "需要整改", WAIT).await);
    bot.settle(WAIT).await;
    let entry = case_json(&bot, &format!("BA-{y}-0001")).await;
    assert_eq!(entry["account_status"], "rectifying", "{entry}");
    let ledger = ask(&bot, "lina", "台账", "新媒体账号台账").await;
    let line = ledger
        .lines()
        .find(|l| l.contains(&format!("DJ-{y}-0001")))
        .unwrap_or_default();
    assert!(line.contains("整改中"), "{ledger}");

    // The ladder reminds the administrator before the date to resubmit by.
    let cal = calendar(&bot);
    let fix_by = cal.add_working_days(today, 5).date;
    let nudges = |bot: &TestBot| {
        bot.texts_to("zhangsan")
            .iter()
            .filter(|t| t.contains("需要整改，整改期限是"))
            .count()
    };
    assert_eq!(nudges(&bot), 0);
    jump_to(&bot, cal.add_working_days(fix_by, -1).date);
    bot.settle(WAIT).await;
    assert_eq!(nudges(&bot), 1, "{:#?}", bot.texts_to("zhangsan"));

    // Resubmitted, then passed (合格): in use again, and no more reminders.
    bot.say(
        "zhangsan",
        &[
            &format!("修改 {report}"),
            "修改 舆情及处置情况",
            "已处置并复盘",
        ],
    )
    .await;
    ask(&bot, "zhangsan", "确认", "已重新提交").await;
    bot.settle(WAIT).await;
    approve_card(&bot, "liuyang", &report, "rc-l2").await;
    bot.settle(WAIT).await;
    approve_card(&bot, "chenjing", &report, "rc-x2").await;
    bot.settle(WAIT).await;
    let entry = case_json(&bot, &format!("BA-{y}-0001")).await;
    assert!(
        entry.get("account_status").is_none_or(|s| s == "in_use"),
        "{entry}"
    );
    let ledger = ask(&bot, "lina", "台账", "新媒体账号台账").await;
    assert!(!ledger.contains("整改中"), "{ledger}");
    for days in [0, 1, 3] {
        jump_to(&bot, cal.add_working_days(fix_by, days).date);
        bot.settle(WAIT).await;
    }
    assert_eq!(nudges(&bot), 1, "{:#?}", bot.texts_to("zhangsan"));
    let digests = robot_texts(&bot, "xcb");
    assert!(
        !digests.iter().any(|d| d.contains("整改已到期")),
        "{digests:#?}"
    );
    bot.stop().await;
}
