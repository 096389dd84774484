//! The yearly assessment of units (policy 4.1) over a demo year: 团委 registers an account,
//! files one change report on time and one late, and the department orders the account
//! closed; `考核` in chat (党委宣传部 only) sends the sheet as an XLSX file, read back here
//! cell by cell, and the CSV of `flowbot report assessment` holds the same. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use flowbot::runtime::exports::{self, FileFormat, What};
use support::bot::{Backend, TestBot, spawn_bot};
use support::files::file_to;
use support::flows::{approve_card, ask, register, year};

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(the_assessment_of_a_demo_year_cell_by_cell);

/// A date `days` calendar days before today on the bot's clock, in the company's zone.
fn days_ago(bot: &TestBot, days: u64) -> String {
    let d = bot.clock.now().today - chrono::Days::new(days);
    d.format("%Y-%m-%d").to_string()
}

const HEADERS: [&str; 8] = [
    "单位",
    "在用账号数",
    "年内新登记账号数",
    "按期变更报备数",
    "逾期变更报备数",
    "责令注销数",
    "可评先进",
    "不可评先进的原因",
];

async fn the_assessment_of_a_demo_year_cell_by_cell(backend: Backend) {
    // 张三 gets more than WeCom's 30 messages a minute here: the pacing is tested elsewhere.
    let Some(bot) = spawn_bot(backend, |s| s.pacing.member_limit = 200).await else {
        return;
    };
    let y = year(&bot);
    let (_, dj) = register(&bot).await;
    // A change report on time, confirmed by the department.
    bot.say(
        "zhangsan",
        &["变更", "3", "改为由团委宣传委员专人维护", "今天", "确认"],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "本次报备在期限内", WAIT)
            .await
    );
    approve_card(&bot, "chenjing", "BG-", "rc-on-time").await;
    assert!(bot.wait_for_text("zhangsan", "确认，办理完毕", WAIT).await);
    // A late one (three weeks after the change), left pending.
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
    assert!(
        bot.wait_for_text("zhangsan", &format!("BG-{y}-0002"), WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // The department orders the account closed.
    ask(
        &bot,
        "lina",
        &format!("责令注销 {dj} 账号长期停更"),
        "已责令",
    )
    .await;

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
        [
            "团委",
            "1",
            "1",
            "1",
            "1",
            "1",
            "否",
            "有1次变更逾期报备；有1个账号被责令注销",
        ]
        .map(String::from)
        .to_vec(),
    ];
    assert_eq!(rows, expected);

    // The year before: the account in use, nothing else, so 团委 may be rated advanced.
    ask(&bot, "lina", &format!("考核 {}", y - 1), "考核").await;
    let (_, rows) = file_to(&bot, "lina", 2).await;
    assert_eq!(rows[1], ["团委", "1", "0", "0", "0", "0", "是", ""]);

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
    assert_eq!(
        lines[1],
        "团委,1,1,1,1,1,否,有1次变更逾期报备；有1个账号被责令注销"
    );
    bot.stop().await;
}
