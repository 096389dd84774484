//! The propaganda department's supervision in chat, through the real protocol: 台账, 查询 and
//! 统计 for the department (every unit) and unit leaders (their own units), a polite refusal
//! for everyone else; 状态 and 详情 accept register numbers; 我的 for a department member shows
//! what they can act on; 导出 sends the register or the cases as an XLSX file into the chat
//! (read back here); `flowbot export` and `flowbot form DJ-…` work while the bot runs. Both
//! stores.

#[macro_use]
mod support;

use support::bot::{Backend, TestBot, spawn_bot};
use support::files::file_to;
use support::flows::{ask, file, register};
use support::wait::WAIT;

on_both_stores!(
    the_department_finds_an_account_and_sees_the_ledger_and_counts,
    a_unit_leader_sees_only_their_units_and_staff_are_refused,
    status_and_details_accept_register_numbers,
    my_view_as_a_department_member_shows_what_waits_for_me,
    exports_arrive_in_the_chat_as_xlsx_files_of_what_the_reader_supervises,
    the_cli_exports_and_prints_the_register_entry_while_the_bot_runs,
);

async fn the_department_finds_an_account_and_sees_the_ledger_and_counts(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (_, dj) = register(&bot).await;
    // 李娜 (党委宣传部) did not approve it herself.
    let found = ask(&bot, "lina", "查询 青年之声", &dj).await;
    assert!(
        found.contains("团委") && found.contains("gh_1234567890ab"),
        "{found}"
    );
    let by_person = ask(&bot, "lina", "查询 张三", "相关的账号").await;
    assert!(by_person.contains(&dj), "{by_person}");
    let none = ask(&bot, "lina", "查询 不存在的号", "没有找到").await;
    assert!(!none.contains(&dj), "{none}");

    let ledger = ask(&bot, "lina", "台账", "新媒体账号台账").await;
    assert!(
        ledger.contains("全部单位，共 1 个") && ledger.contains(&dj),
        "{ledger}"
    );
    assert!(ledger.contains("在用"), "{ledger}");
    let more = ask(&bot, "lina", "台账 2", "全部显示完毕").await;
    assert!(!more.contains(&dj));

    let stats = ask(&bot, "lina", "统计", "新媒体账号统计").await;
    for shown in ["已登记账号：1 个", "团委 1", "在用 1", "审批中的事项：0 件"] {
        assert!(stats.contains(shown), "{shown} not in {stats}");
    }
    bot.stop().await;
}

async fn a_unit_leader_sees_only_their_units_and_staff_are_refused(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (_, dj) = register(&bot).await;
    let own = ask(&bot, "liuyang", "台账", "新媒体账号台账").await;
    assert!(own.contains("团委，共 1 个") && own.contains(&dj), "{own}");
    let other = ask(&bot, "sunli", "台账", "新媒体账号台账").await;
    assert!(
        other.contains("工会，共 0 个") && !other.contains(&dj),
        "{other}"
    );
    let search = ask(&bot, "sunli", "查询 青年之声", "没有找到").await;
    assert!(!search.contains(&dj), "{search}");
    let stats = ask(&bot, "sunli", "统计", "新媒体账号统计").await;
    assert!(stats.contains("已登记账号：0 个"), "{stats}");

    for user in ["zhangsan", "zhaoliu"] {
        for command in ["台账", "查询 青年之声", "统计"] {
            let refused = ask(&bot, user, command, "仅向党委宣传部").await;
            assert!(!refused.contains(&dj), "{refused}");
        }
    }
    // 下一页 without a ledger shown is not a command: the help answers.
    ask(&bot, "zhangsan", "下一页", "新媒体管理助手").await;
    bot.stop().await;
}

async fn status_and_details_accept_register_numbers(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (number, dj) = register(&bot).await;
    let status = ask(&bot, "zhangsan", &format!("状态 {dj}"), &number).await;
    assert!(status.contains("已审批通过"), "{status}");

    let details = format!("详情 {dj}");
    for user in ["zhangsan", "liuyang", "lina"] {
        let text = ask(&bot, user, &details, "管理员电子邮箱").await;
        for shown in [
            number.as_str(),
            dj.as_str(),
            "账号名称：团委青年之声",
            "内容范围：宣传本单位青年工作动态。",
            "管理员电子邮箱：zhangsan@example.com",
        ] {
            assert!(text.contains(shown), "{shown} not in {text}");
        }
    }
    let by_case = ask(
        &bot,
        "zhangsan",
        &format!("详情 {number}"),
        "管理员电子邮箱",
    )
    .await;
    assert!(by_case.contains(&dj), "{by_case}");
    ask(&bot, "sunli", &details, "没有查看或办理").await;
    let missing = format!("DJ-{}-0099", support::flows::year(&bot));
    ask(&bot, "lina", &format!("状态 {missing}"), "没有找到").await;
    ask(&bot, "lina", &format!("详情 {missing}"), "没有找到").await;
    bot.stop().await;
}

async fn my_view_as_a_department_member_shows_what_waits_for_me(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    support::flows::approve_card(&bot, "liuyang", &number, "rc-leader").await;
    support::flows::wait_for_card(&bot, "lina").await;
    let mine = ask(&bot, "lina", "我的", "等待您审批").await;
    assert!(!mine.contains("还没有提交过事项"), "{mine}");
    assert!(mine.contains(&number) && mine.contains("台账"), "{mine}");
    // Staff still see their own cases.
    let own = ask(&bot, "zhangsan", "我的", "您提交的事项").await;
    assert!(own.contains(&number) && !own.contains("台账"), "{own}");
    bot.stop().await;
}

async fn exports_arrive_in_the_chat_as_xlsx_files_of_what_the_reader_supervises(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (number, dj) = register(&bot).await;
    ask(&bot, "lina", "查询 青年之声", &dj).await;
    ask(&bot, "lina", "导出 台账", "新媒体账号登记册").await;
    let (name, rows) = file_to(&bot, "lina", 1).await;
    assert_eq!(name, "新媒体账号登记册.xlsx");
    assert_eq!(rows[0][0], "登记编号");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0..3], [dj.clone(), number.clone(), "团委".into()]);
    assert!(rows[1].contains(&"团委青年之声".to_owned()), "{rows:?}");

    ask(&bot, "lina", "导出 事项", "备案事项").await;
    let (name, rows) = file_to(&bot, "lina", 2).await;
    assert_eq!(name, "备案事项.xlsx");
    assert_eq!(rows[1][0], number);

    // A unit leader's file holds their units only; staff get none.
    ask(&bot, "sunli", "导出 台账", "新媒体账号登记册").await;
    let (_, rows) = file_to(&bot, "sunli", 1).await;
    assert_eq!(rows.len(), 1, "the header only: {rows:?}");
    ask(&bot, "liuyang", "导出 台账", "新媒体账号登记册").await;
    let (_, rows) = file_to(&bot, "liuyang", 1).await;
    assert_eq!(rows[1][0], dj);
    ask(&bot, "zhangsan", "导出 台账", "仅向党委宣传部").await;
    bot.settle(WAIT).await;
    assert!(bot.fake.files_sent_to("zhangsan").is_empty());
    // Uploads go through the app's token, as files.
    let uploads = bot.fake.requests_to("/cgi-bin/media/upload");
    assert_eq!(uploads.len(), 4);
    assert!(
        uploads
            .iter()
            .all(|r| r.query["type"] == "file" && r.errcode == 0)
    );
    bot.stop().await;
}

/// Runs the `flowbot` binary against the running bot's store (its data dir, or its Redis
/// prefix).
async fn flowbot(bot: &TestBot, args: &[&str]) -> std::process::Output {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_flowbot"));
    cmd.args(args)
        .current_dir(cwd.path())
        .env("FLOWBOT_SCRIPTS", &bot.settings.scripts_dir)
        .env("FLOWBOT_DATA", &bot.settings.data_dir)
        .env("RUST_LOG", "warn");
    for key in ["FLOWBOT_CONFIG", "FLOWBOT_DIRECTORY", "REDIS_URL"] {
        cmd.env_remove(key);
    }
    for key in ["CORP_ID", "AGENT_ID", "SECRET", "TOKEN", "AES_KEY"] {
        cmd.env_remove(format!("WECOM_{key}"));
    }
    if let Some(url) = &bot.settings.redis_url {
        cmd.env("REDIS_URL", url)
            .env("FLOWBOT_REDIS_PREFIX", &bot.settings.redis_prefix);
    }
    cmd.output().await.expect("run flowbot")
}

async fn the_cli_exports_and_prints_the_register_entry_while_the_bot_runs(backend: Backend) {
    use calamine::{Reader, Xlsx, open_workbook};
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (number, dj) = register(&bot).await;
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("register.xlsx");
    let args = ["export", "--what", "register", "--format", "xlsx", "--out"];
    let run = flowbot(&bot, &[&args[..], &[xlsx.to_str().unwrap()]].concat()).await;
    assert!(run.status.success(), "{run:?}");
    let mut book: Xlsx<_> = open_workbook(&xlsx).expect("the XLSX");
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let row: Vec<String> = range
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(row[0..2], [dj.clone(), number.clone()]);

    let html = dir.path().join("entry.html");
    let run = flowbot(&bot, &["form", &dj, "--out", html.to_str().unwrap()]).await;
    assert!(run.status.success(), "{run:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    for shown in [
        dj.as_str(),
        number.as_str(),
        "团委青年之声",
        "zhangsan@example.com",
    ] {
        assert!(page.contains(shown), "{shown} not on the printed entry");
    }
    // The bot was not disturbed: it still answers and records.
    ask(&bot, "lina", "台账", &dj).await;
    bot.stop().await;
}
