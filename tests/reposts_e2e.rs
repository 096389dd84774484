//! Repost tasks (转发任务, policy 3.3.5), through the real protocol on a simulated clock: the
//! department opens a task over the whole matrix; every administrator gets a card and the work
//! circle an announcement with @mentions; one answers 已转发 with the repost's link, the other is
//! reminded before the deadline and, after it, listed in the unit's group and to the
//! department; 转发 进度 shows the coverage; the sheet (导出 转发, `flowbot export`) reads back
//! with every answer. Both stores.

#[macro_use]
mod support;

use std::path::PathBuf;

use calamine::{Data, Reader, Xlsx};
use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{approve_card, ask, jump_to, register, registration_with, year};
use support::wait::{WAIT, until};

on_both_stores!(a_repost_task_reaches_the_matrix_chases_stragglers_and_exports_its_coverage);

/// The shipped scripts with app group chats for 团委 (its unit id `tw`) and the department.
fn scripts_with_unit_groups() -> tempfile::TempDir {
    support::scripts::with_bot_toml(
        "[groups.xcb]\ntitle = \"党委宣传部新媒体工作群\"",
        "[groups.tw]\ntitle = \"团委新媒体工作群\"\nappchat = \"wrktw01\"\n\n\
         [groups.xcb]\ntitle = \"党委宣传部新媒体工作群\"\nappchat = \"wrkxcb01\"",
    )
}

/// The bodies sent to app group chat `chat_id`.
fn chat_messages(bot: &TestBot, chat_id: &str) -> Vec<String> {
    bot.fake
        .accepted_bodies("/appchat/send")
        .into_iter()
        .filter(|b| b["chatid"] == chat_id)
        .map(|b| {
            b["markdown"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The newest repost card of `user`: its task id and button keys.
async fn repost_card(bot: &TestBot, user: &str) -> (String, String, String) {
    let u = user.to_owned();
    let found = bot
        .fake
        .wait_until(
            move |f| {
                f.sent_to(&u).iter().any(|m| {
                    m["template_card"]["button_list"][0]["key"]
                        .as_str()
                        .is_some_and(|k| k.starts_with("repost_done:"))
                })
            },
            WAIT,
        )
        .await;
    assert!(found, "{user} has a repost card");
    bot.last_card(user).expect("the card")
}

async fn a_repost_task_reaches_the_matrix_chases_stragglers_and_exports_its_coverage(
    backend: Backend,
) {
    let scripts = scripts_with_unit_groups();
    let dir: PathBuf = scripts.path().to_owned();
    let Some(bot) = spawn_bot(backend, move |s| s.scripts_dir = dir).await else {
        return;
    };
    // Tuesday 1 December 2026, 10:00: two accounts of 团委, administered by 张三 and 张伟.
    let tuesday = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    jump_to(&bot, tuesday);
    register(&bot).await;
    // 张伟 (in 团委 and 工会) files 团委's second account, administered by himself.
    let mut weibo = vec!["备案", "团委"];
    weibo.extend(
        registration_with(&[
            (2, "1"),
            (3, "团委青年说"),
            (4, "twqns2026"),
            (5, "https://weibo.com/twqns"),
            (12, "本人"),
        ])[1..]
            .iter()
            .copied(),
    );
    bot.say("zhangwei", &weibo).await;
    let second = format!("BA-{}-0002", year(&bot));
    approve_card(&bot, "liuyang", &second, "rc-2-leader").await;
    approve_card(&bot, "chenjing", &second, "rc-2-xcb").await;
    let registered = format!("DJ-{}-0002", year(&bot));
    assert!(
        bot.wait_for_text("zhangwei", &registered, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangwei")
    );
    bot.settle(WAIT).await;

    // Only the department may open a task; a malformed one gets the format.
    let refused = ask(
        &bot,
        "zhangsan",
        "转发任务 https://x.example/p 24小时 全部 请转发",
        "仅限党委宣传部",
    )
    .await;
    assert!(!refused.contains("ZF-"), "{refused}");
    ask(&bot, "chenjing", "转发任务 明天 全部", "请按").await;
    ask(
        &bot,
        "chenjing",
        "转发任务 https://x.example/p 24小时 快手 请转发",
        "快手",
    )
    .await;

    let opened = ask(
        &bot,
        "chenjing",
        "转发任务 https://mp.weixin.qq.com/s/post 24小时 全部 请转发公司年度工作会议报道",
        "已发布转发任务",
    )
    .await;
    let task = format!("ZF-{}-0001", year(&bot));
    assert!(
        opened.contains(&task) && opened.contains("共 2 个账号"),
        "{opened}"
    );
    assert!(
        opened.contains("2026-12-02 10:00"),
        "24 hours later: {opened}"
    );

    // Every administrator gets a card; the circle one announcement mentioning both.
    let (zs_task, zs_done, _) = repost_card(&bot, "zhangsan").await;
    let (zw_task, zw_done, zw_unable) = repost_card(&bot, "zhangwei").await;
    assert!(
        zs_done.starts_with(&format!("repost_done:{task}/")),
        "{zs_done}"
    );
    let fake = bot.fake.clone();
    until("the circle's announcement", || {
        let fake = fake.clone();
        async move {
            fake.accepted_bodies("/appchat/send")
                .iter()
                .any(|b| b["chatid"] == "wrkcircle01")
        }
    })
    .await;
    let announcement = chat_messages(&bot, "wrkcircle01").join("\n");
    assert!(
        announcement.contains(&task)
            && announcement.contains("<@zhangsan>")
            && announcement.contains("<@zhangwei>"),
        "{announcement}"
    );

    // A tap on someone else's card changes nothing.
    let before = bot.texts_to("zhangsan").len();
    bot.post(&bot.tap("zhangsan", &zw_done, &zw_task, "rc-wrong"))
        .await;
    assert!(bot.wait_for_text("zhangsan", "不需要您反馈", WAIT).await);
    assert!(bot.texts_to("zhangsan").len() > before);

    // 张三 reposted, and gives the link of his repost.
    bot.post(&bot.tap("zhangsan", &zs_done, &zs_task, "rc-zs"))
        .await;
    assert!(bot.wait_for_text("zhangsan", "已完成转发任务", WAIT).await);
    bot.say("zhangsan", &["https://weibo.com/repost/1"]).await;
    assert!(bot.wait_for_text("zhangsan", "转发链接", WAIT).await);
    let progress = ask(&bot, "chenjing", &format!("转发 进度 {task}"), "合计").await;
    assert!(
        progress.contains("已转发 1/2") && progress.contains("未反馈 1"),
        "{progress}"
    );
    assert!(
        progress.contains("团委") && progress.contains("官方微博"),
        "{progress}"
    );

    // Four hours before the deadline only 张伟, who has not answered, is reminded.
    support::flows::jump_to_time(&bot, tuesday.succ_opt().unwrap(), 9);
    bot.settle(WAIT).await;
    let reminded = |u: &str| {
        bot.texts_to(u)
            .iter()
            .filter(|t| t.contains("【提醒】转发任务"))
            .count()
    };
    assert_eq!((reminded("zhangwei"), reminded("zhangsan")), (1, 0));

    // At the deadline: 团委's group and the department get the list, with 张伟 mentioned.
    support::flows::jump_to_time(&bot, tuesday.succ_opt().unwrap(), 11);
    bot.settle(WAIT).await;
    let unit = chat_messages(&bot, "wrktw01").join("\n");
    assert!(
        unit.contains("团委青年说") && unit.contains("<@zhangwei>"),
        "{unit}"
    );
    assert!(
        !unit.contains("团委青年之声"),
        "who answered is not listed: {unit}"
    );
    let department = chat_messages(&bot, "wrkxcb01").join("\n");
    assert!(
        department.contains("完成 1/2") && department.contains("团委青年说"),
        "{department}"
    );
    assert!(
        bot.texts_to("chenjing")
            .iter()
            .any(|t| t.contains("完成 1/2"))
    );

    // 张伟 answers late that he cannot repost, with the reason asked in chat.
    bot.post(&bot.tap("zhangwei", &zw_unable, &zw_task, "rc-zw"))
        .await;
    assert!(bot.wait_for_text("zhangwei", "原因", WAIT).await);
    bot.say("zhangwei", &["账号暂停更新"]).await;
    assert!(
        bot.wait_for_text("zhangwei", "无法完成转发任务", WAIT)
            .await
    );
    bot.settle(WAIT).await;
    let closed = bot.fake.accepted_bodies("/update_template_card");
    assert!(
        closed.iter().any(|b| b["response_code"] == "rc-zw"),
        "{closed:#?}"
    );

    // The sheet, in chat and as `flowbot export` builds it, has every answer.
    ask(&bot, "chenjing", &format!("导出 转发 {task}"), "正在生成").await;
    let fake = bot.fake.clone();
    until("the sheet arrives", || {
        let fake = fake.clone();
        async move { !fake.files_sent_to("chenjing").is_empty() }
    })
    .await;
    let (name, bytes) = bot.fake.files_sent_to("chenjing").remove(0);
    assert_eq!(name, "转发任务.xlsx");
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("an xlsx file");
    let sheet = book.worksheet_range("转发任务").expect("the sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c: &Data| c.to_string()).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0][5], "反馈");
    let row = |account: &str| {
        rows.iter()
            .find(|r| r[1] == account)
            .expect("a row")
            .clone()
    };
    assert_eq!(row("团委青年之声")[5], "已转发");
    assert_eq!(row("团委青年之声")[6], "https://weibo.com/repost/1");
    assert_eq!(row("团委青年说")[5], "无法转发");
    assert_eq!(row("团委青年说")[7], "账号暂停更新");
    let scripts = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap();
    let table = flowbot::runtime::exports::table(
        bot.store.as_ref(),
        &scripts,
        flowbot::runtime::exports::What::Reposts,
    )
    .await
    .unwrap();
    assert_eq!(table.rows.len(), 2);
    bot.stop().await;
}
