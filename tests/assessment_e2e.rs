//! The yearly assessment of units (policy 4.1) over a demo year: 团委 registers four accounts
//! and files one change report on time and one late; the year's annual review campaign runs
//! with each outcome (合格, 需整改, 不合格 — which orders the account closed — and 未报 at the
//! close); a repost task reaches the four accounts and one is reposted; an incident is
//! acknowledged 10 minutes after the report and closed after 60. `考核` in chat (党委宣传部
//! only) sends the sheet as an XLSX file, read back here cell by cell with every column, and
//! the CSV of `flowbot report assessment` holds the same; the year before, without a
//! campaign, has no annual review columns. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use flowbot::runtime::exports::{self, FileFormat, What};
use support::bot::{Backend, TestBot, spawn_bot};
use support::files::file_to;
use support::flows::{
    ANNUAL_REPORT, FOUR_ACCOUNTS, approve_card, ask, card_with, register_accounts, year,
};

const WAIT: Duration = Duration::from_secs(30);

on_both_stores!(the_assessment_of_a_demo_year_cell_by_cell);

/// A date `days` calendar days before today on the bot's clock, in the company's zone.
fn days_ago(bot: &TestBot, days: u64) -> String {
    let d = bot.clock.now().today - chrono::Days::new(days);
    d.format("%Y-%m-%d").to_string()
}

const HEADERS: [&str; 19] = [
    "单位",
    "在用账号数",
    "年内新登记账号数",
    "按期变更报备数",
    "逾期变更报备数",
    "责令注销数",
    "年度报告已报数",
    "年审合格数",
    "年审需整改数",
    "年审不合格数",
    "年审未报数",
    "舆情上报数",
    "舆情确认用时中位数（分钟）",
    "舆情办结用时中位数（分钟）",
    "转发任务应转发数",
    "转发任务已转发数",
    "转发完成率",
    "可评先进",
    "不可评先进的原因",
];

/// 团委's row of the demo year.
const ROW: [&str; 19] = [
    "团委",
    // Four in use (the failed one is being closed), four registered, one change on time,
    // one late, one closure ordered (the failed annual review).
    "4",
    "4",
    "1",
    "1",
    "1",
    // Three reports filed: one of each outcome, and one not filed.
    "3",
    "1",
    "1",
    "1",
    "1",
    // One incident: acknowledged after 10 minutes, closed after 60.
    "1",
    "10",
    "60",
    // One repost task over the four accounts, one done.
    "4",
    "1",
    "25%",
    "否",
    "有1次变更逾期报备；有1个账号被责令注销；有2个账号年审不合格或未按时报送年度报告；\
     转发任务完成率为25%，未达到80%",
];

/// Moves the bot's clock ahead by `minutes` and lets everything due happen.
async fn minutes_later(bot: &TestBot, minutes: i64) {
    bot.clock
        .set_offset_ms(bot.clock.offset_ms() + minutes * 60_000);
    bot.settle(WAIT).await;
}

/// The change reports: one on time (confirmed), one three weeks late (left pending).
async fn change_reports(bot: &TestBot, y: i32) {
    bot.say(
        "zhangsan",
        &[
            "变更",
            "1",
            "3",
            "改为由团委宣传委员专人维护",
            "今天",
            "确认",
        ],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "本次报备在期限内", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    approve_card(bot, "chenjing", "BG-", "rc-on-time").await;
    assert!(bot.wait_for_text("zhangsan", "确认，办理完毕", WAIT).await);
    let changed_on = days_ago(bot, 21);
    bot.say(
        "zhangsan",
        &[
            "变更",
            "1",
            "1",
            "共青团某某公司委员会",
            &changed_on,
            "负责人出差，未及时报备",
            "确认",
        ],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", &format!("BG-{y}-0002"), WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
}

/// The year's campaign: reports for accounts 1–3 (合格, 需整改, 不合格), none for the fourth
/// (未报 at the close).
async fn annual_review(bot: &TestBot, y: i32) {
    ask(bot, "lina", &format!("年审 开始 {y}"), "确认").await;
    ask(bot, "lina", "确认", "已发起").await;
    for n in 1..=3 {
        bot.say("zhangsan", &["年报", &n.to_string()]).await;
        bot.say("zhangsan", ANNUAL_REPORT).await;
        let report = format!("NB-{y}-{n:04}");
        assert!(
            bot.wait_for_text("zhangsan", &report, WAIT).await,
            "{:#?}",
            bot.texts_to("zhangsan")
        );
        approve_card(bot, "liuyang", &report, &format!("rc-nl{n}")).await;
    }
    approve_card(bot, "chenjing", &format!("NB-{y}-0001"), "rc-pass").await;
    bot.say("lina", &[&format!("驳回 NB-{y}-0002 请补充舆情处置情况")])
        .await;
    assert!(bot.wait_for_text("zhangsan", "需要整改", WAIT).await);
    let failed = ask(
        bot,
        "lina",
        &format!("年审 不合格 NB-{y}-0003 未落实值守"),
        "不合格",
    )
    .await;
    assert!(failed.contains("已责令注销该账号（RW-"), "{failed}");
    ask(bot, "lina", "年审 结束", "已结束").await;
}

/// A repost task over the matrix; 张三 reposts on one account's card.
async fn repost_task(bot: &TestBot, y: i32) {
    let opened = ask(
        bot,
        "chenjing",
        "转发任务 https://mp.weixin.qq.com/s/post 24小时 全部 请转发公司年度工作会议报道",
        "已发布转发任务",
    )
    .await;
    assert!(
        opened.contains(&format!("ZF-{y}-0001")) && opened.contains("共 4 个账号"),
        "{opened}"
    );
    let (task, done) = card_with(bot, "zhangsan", "repost_done:").await;
    bot.post(&bot.tap("zhangsan", &done, &task, "rc-repost"))
        .await;
    assert!(bot.wait_for_text("zhangsan", "已完成转发任务", WAIT).await);
}

/// An incident of 团委: 李娜 acknowledges it 10 minutes after the report and closes it 50
/// minutes later.
async fn incident(bot: &TestBot, y: i32) {
    bot.say("zhangsan", &["舆情", "团委青年之声"]).await;
    assert!(bot.wait_for_text("zhangsan", "发生了什么", WAIT).await);
    bot.say("zhangsan", &["微博评论区出现大量不实信息"]).await;
    let number = format!("YQ-{y}-0001");
    assert!(bot.wait_for_text("zhangsan", &number, WAIT).await);
    minutes_later(bot, 10).await;
    let (task, ack) = card_with(bot, "lina", "inc_ack:").await;
    bot.post(&bot.tap("lina", &ack, &task, "rc-ack")).await;
    assert!(bot.wait_for_text("zhangsan", "李娜已知悉", WAIT).await);
    minutes_later(bot, 50).await;
    bot.say("lina", &[&format!("办结 {number}")]).await;
    assert!(
        bot.wait_for_text("zhangsan", "已由党委宣传部李娜办结", WAIT)
            .await
    );
    bot.settle(WAIT).await;
}

async fn the_assessment_of_a_demo_year_cell_by_cell(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.robot_keys.insert("xcb".into(), "robot-key-xcb".into());
        // 张三 gets far more than WeCom's 30 messages a minute here: pacing is tested elsewhere.
        s.pacing.member_limit = 10_000;
    })
    .await
    else {
        return;
    };
    let y = year(&bot);
    register_accounts(&bot, &FOUR_ACCOUNTS).await;
    change_reports(&bot, y).await;
    annual_review(&bot, y).await;
    repost_task(&bot, y).await;
    incident(&bot, y).await;

    // Only the department may ask; a malformed year gets the usage.
    ask(&bot, "zhangsan", &format!("考核 {y}"), "仅限党委宣传部").await;
    ask(&bot, "lina", "考核 去年", "请按").await;
    bot.settle(WAIT).await;
    assert!(bot.fake.files_sent_to("zhangsan").is_empty());

    let sheet = format!("{y}年度新媒体考核");
    ask(&bot, "lina", &format!("考核 {y}"), &sheet).await;
    let (name, rows) = file_to(&bot, "lina", 1).await;
    assert_eq!(name, format!("{sheet}.xlsx"));
    let expected = [
        HEADERS.map(String::from).to_vec(),
        ROW.map(String::from).to_vec(),
    ];
    assert_eq!(rows, expected);

    // The year before: no campaign, so no annual review columns (not zeros); nothing else
    // happened, so 团委 may be rated advanced.
    ask(&bot, "lina", &format!("考核 {}", y - 1), "考核").await;
    let (_, rows) = file_to(&bot, "lina", 2).await;
    let headers: Vec<&str> = HEADERS[..6].iter().chain(&HEADERS[11..]).copied().collect();
    assert_eq!(rows[0], headers);
    assert_eq!(
        rows[1],
        [
            "团委", "4", "0", "0", "0", "0", "0", "", "", "0", "0", "", "是", ""
        ]
    );

    // `flowbot report assessment --format csv` builds the same table.
    let scripts = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("assessment.csv");
    let what = What::Assessment { year: y };
    let written = exports::export(bot.store.as_ref(), &scripts, what, FileFormat::Csv, &out)
        .await
        .unwrap();
    assert_eq!(written, 1);
    let text = String::from_utf8(std::fs::read(&out).unwrap()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], HEADERS.join(","));
    assert_eq!(lines[1], ROW.join(","));
    bot.stop().await;
}
