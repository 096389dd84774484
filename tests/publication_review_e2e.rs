//! Authorisation before publishing (送审, policy 3.2.2–3.2.3), through the real protocol on a
//! simulated clock: 张三 (团委's administrator) sends drafts of the registered account; the
//! propaganda department answers 可以发布, 修改后再送审 (with comments asked in chat; 张三 edits
//! and sends it again) or 不得发布 (final), in one tap. The answer is due within 8 working hours,
//! or 2 clock hours day or night for a 突发事件; whoever has not answered is reminded after
//! it, and the department's head is told once. Both stores.

#[macro_use]
mod support;

use chrono::NaiveDate;
use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{ask, case_json, jump_to, jump_to_minute, jump_to_time, register, year};
use support::wait::WAIT;

on_both_stores!(
    a_sensitive_post_is_returned_with_comments_resubmitted_and_authorised,
    an_urgent_post_sent_at_night_is_reminded_and_answered_at_night,
    a_refused_post_may_not_come_back,
    an_unanswered_post_is_reminded_in_working_hours_and_the_head_told_once,
);

/// Monday 7 December 2026, a working day (Tuesday and Wednesday are too).
fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

/// A bot whose clock is at `day` `hour`:00 with 张三's account registered.
async fn bot_at(backend: Backend, day: NaiveDate, hour: u32) -> Option<TestBot> {
    // 张三 gets more than WeCom's 30 messages a minute here (a whole registration first): the
    // stories are not about pacing.
    let bot = spawn_bot(backend, |s| s.pacing.member_limit = 1000).await?;
    jump_to_time(&bot, day, hour);
    register(&bot).await;
    Some(bot)
}

/// 张三 sends a draft for review (his unit's only account is chosen for him): the category's
/// number, the draft, and whether 刘洋 (his leader) has checked it. Returns the case number
/// once 张三 is told when the answer is due.
async fn send(bot: &TestBot, category: &str, draft: &str, checked: bool) -> String {
    let checked = if checked { "是" } else { "否" };
    bot.say(
        "zhangsan",
        &["送审", category, draft, "12月8日 上午10点", checked, "确认"],
    )
    .await;
    let number = format!("SS-{}-0001", year(bot));
    assert!(
        bot.wait_for_text("zhangsan", "已送审", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    number
}

/// `user`'s newest card for `number`, once it has arrived: (task id, button texts, note).
async fn card(
    bot: &TestBot,
    user: &str,
    number: &str,
    nth: usize,
) -> (String, Vec<String>, String) {
    let (u, n) = (user.to_owned(), number.to_owned());
    let cards = move |f: &support::fake_wecom::FakeWeCom| {
        f.sent_to(&u)
            .into_iter()
            .filter(|m| m["msgtype"] == "template_card" && m.to_string().contains(&n))
            .collect::<Vec<_>>()
    };
    let find = cards.clone();
    let arrived = bot
        .fake
        .wait_until(move |f| find(f).len() >= nth, WAIT)
        .await;
    assert!(arrived, "{user} has card {nth} of {number}");
    let card = cards(&bot.fake).pop().unwrap();
    let card = &card["template_card"];
    let buttons = card["button_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    (
        card["task_id"].as_str().unwrap().to_owned(),
        buttons,
        card.to_string(),
    )
}

/// `user` taps `action` (`approve`, `reject`, `refuse`) on their newest card for `number`.
async fn tap(bot: &TestBot, user: &str, action: &str, number: &str, nth: usize) {
    let (task, _, _) = card(bot, user, number, nth).await;
    let key = format!("{action}:{number}");
    let code = format!("rc-{user}-{action}-{nth}");
    assert_eq!(bot.post(&bot.tap(user, &key, &task, &code)).await.0, 200);
}

fn count(bot: &TestBot, user: &str, needle: &str) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.contains(needle))
        .count()
}

async fn a_sensitive_post_is_returned_with_comments_resubmitted_and_authorised(backend: Backend) {
    let Some(bot) = bot_at(backend, monday(), 10).await else {
        return;
    };
    // The leader has checked it: it goes straight to the department.
    let number = send(&bot, "3", "关于青年志愿者服务站点调整的说明（初稿）", true).await;
    let filed = bot.texts_to("zhangsan").join("\n");
    assert!(filed.contains("2026-12-08 11:00 前答复"), "{filed}");
    let (_, buttons, body) = card(&bot, "chenjing", &number, 1).await;
    assert_eq!(buttons, ["可以发布", "修改后再送审", "不得发布", "详情"]);
    assert!(body.contains("热点敏感") && body.contains("请于 2026-12-08 11:00 前答复"));
    assert!(
        bot.fake
            .sent_to("liuyang")
            .iter()
            .all(|m| m["msgtype"] != "template_card" || !m.to_string().contains(&number)),
        "the leader's step is left out"
    );

    tap(&bot, "chenjing", "reject", &number, 1).await;
    assert!(bot.wait_for_text("chenjing", "修改意见", WAIT).await);
    bot.say("chenjing", &["第二段的站点数量请与官网公告核对一致"])
        .await;
    assert!(
        bot.wait_for_text(
            "zhangsan",
            "需要修改后再送审。陈静（党委宣传部审核）的意见：第二段的站点数量请与官网公告核对一致",
            WAIT
        )
        .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );

    let edit = format!("修改 {number}");
    bot.say(
        "zhangsan",
        &[
            &edit,
            "修改 送审稿件",
            "关于青年志愿者服务站点调整的说明（修改稿）",
            "确认",
        ],
    )
    .await;
    assert!(
        bot.wait_for_text("zhangsan", "已重新送审", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let (_, _, body) = card(&bot, "chenjing", &number, 2).await;
    assert!(body.contains("修改稿"), "the new card shows the new draft");
    tap(&bot, "chenjing", "approve", &number, 2).await;
    assert!(
        bot.wait_for_text("zhangsan", "可以发布。请按送审的稿件发布", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let case = case_json(&bot, &number).await;
    assert_eq!(case["status"], "approved");
    assert_eq!(case["round"], 2);

    let status = ask(&bot, "zhangsan", &format!("状态 {number}"), "状态：").await;
    for line in [
        "修改后再送审（党委宣传部审核），意见：第二段",
        "第 2 次送审",
        "可以发布（党委宣传部审核）",
    ] {
        assert!(status.contains(line), "{line}: {status}");
    }
    let exported = exported_row(&bot, &number).await;
    assert!(exported.contains(&"可以发布".to_owned()), "{exported:?}");
    assert!(
        exported.iter().any(|c| c.contains("修改稿")),
        "the export keeps the authorised draft: {exported:?}"
    );
}

/// The row of `number` in `flowbot export`'s case sheet, as texts.
async fn exported_row(bot: &TestBot, number: &str) -> Vec<String> {
    use flowbot::domain::records::export::Cell;
    use flowbot::runtime::exports;
    let scripts = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap();
    let table = exports::table(bot.store.as_ref(), &scripts, exports::What::Cases)
        .await
        .unwrap();
    let text = |c: &Cell| match c {
        Cell::Text(t) => t.clone(),
        other => format!("{other:?}"),
    };
    table
        .rows
        .iter()
        .map(|r| r.iter().map(text).collect::<Vec<_>>())
        .find(|r| r.contains(&number.to_owned()))
        .expect("the case is exported")
}

async fn an_urgent_post_sent_at_night_is_reminded_and_answered_at_night(backend: Backend) {
    // Saturday 5 December 2026, 02:00: no working time for two days.
    let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    let Some(bot) = bot_at(backend, saturday, 2).await else {
        return;
    };
    // Not checked by the leader yet: 刘洋's step comes first, at once, at night.
    let number = send(&bot, "2", "【突发】今晨园区道路积水的情况通报", false).await;
    let filed = bot.texts_to("zhangsan").join("\n");
    assert!(
        filed.contains("加急") && filed.contains("2026-12-05 04:00 前答复"),
        "{filed}"
    );
    let (_, _, body) = card(&bot, "liuyang", &number, 1).await;
    assert!(body.contains("【加急】"), "{body}");
    tap(&bot, "liuyang", "approve", &number, 1).await;
    card(&bot, "lina", &number, 1).await;

    // A little after 04:00 the deadline passes, at night: the department is reminded at once.
    jump_to_minute(&bot, saturday, 3, 58);
    bot.settle(WAIT).await;
    assert_eq!(count(&bot, "lina", "【提醒】"), 0);
    jump_to_minute(&bot, saturday, 4, 2);
    bot.settle(WAIT).await;
    assert_eq!(
        count(&bot, "lina", "【提醒】"),
        1,
        "{:#?}",
        bot.texts_to("lina")
    );
    assert_eq!(
        count(&bot, "liuyang", "【提醒】"),
        0,
        "the leader has answered"
    );

    tap(&bot, "lina", "approve", &number, 1).await;
    assert!(
        bot.wait_for_text("zhangsan", "可以发布。请按送审的稿件发布", WAIT)
            .await
    );
    assert_eq!(case_json(&bot, &number).await["status"], "approved");
    // Answered: the reminders stop.
    jump_to_time(&bot, saturday, 8);
    bot.settle(WAIT).await;
    assert_eq!(count(&bot, "lina", "【提醒】"), 1);
}

async fn a_refused_post_may_not_come_back(backend: Backend) {
    let Some(bot) = bot_at(backend, monday(), 10).await else {
        return;
    };
    let number = send(&bot, "4", "三季度内部经营数据解读", true).await;
    tap(&bot, "lina", "refuse", &number, 1).await;
    assert!(bot.wait_for_text("lina", "不得发布的理由", WAIT).await);
    bot.say("lina", &["含有未公开的经营数据"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "不得发布。理由：含有未公开的经营数据", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // Every card of the step shows the answer.
    let greyed = bot
        .fake
        .wait_until(
            |f| {
                f.accepted_bodies("/update_template_card").iter().any(|u| {
                    u.to_string().contains("不得发布（李娜）") && u.to_string().contains("chenjing")
                })
            },
            WAIT,
        )
        .await;
    assert!(
        greyed,
        "{:?}",
        bot.fake.accepted_bodies("/update_template_card")
    );
    assert_eq!(case_json(&bot, &number).await["status"], "refused");
    let edit = ask(&bot, "zhangsan", &format!("修改 {number}"), "不能修改").await;
    assert!(edit.contains("不得发布"), "{edit}");
    tap(&bot, "chenjing", "approve", &number, 1).await;
    assert!(bot.wait_for_text("chenjing", "操作未生效", WAIT).await);
    assert_eq!(case_json(&bot, &number).await["status"], "refused");
    let status = ask(&bot, "zhangsan", &format!("状态 {number}"), "状态：").await;
    assert!(
        status.contains("不得发布（党委宣传部审核），理由：含有未公开的经营数据"),
        "{status}"
    );
}

async fn an_unanswered_post_is_reminded_in_working_hours_and_the_head_told_once(backend: Backend) {
    let Some(bot) = bot_at(backend, monday(), 10).await else {
        return;
    };
    let number = send(&bot, "1", "公司年度工作会议新闻稿", true).await;
    card(&bot, "lina", &number, 1).await;
    let tuesday = monday().succ_opt().unwrap();
    let reminders = |who| count(&bot, who, "【提醒】");
    let head_told = || count(&bot, "chenjing", "请您关注督办");
    // Due Tuesday 11:00 (filed a little after Monday 10:00: 6 working hours on Monday, 2 on
    // Tuesday): nothing before.
    jump_to_minute(&bot, tuesday, 10, 58);
    bot.settle(WAIT).await;
    assert_eq!((reminders("lina"), reminders("chenjing")), (0, 0));
    jump_to_minute(&bot, tuesday, 11, 1);
    bot.settle(WAIT).await;
    assert_eq!(
        (reminders("lina"), reminders("chenjing"), head_told()),
        (1, 1, 0)
    );
    // Every 4 working hours: the second at 16:31, and the head is told.
    jump_to_minute(&bot, tuesday, 16, 29);
    bot.settle(WAIT).await;
    assert_eq!(reminders("lina"), 1);
    jump_to_minute(&bot, tuesday, 16, 32);
    bot.settle(WAIT).await;
    assert_eq!((reminders("lina"), head_told()), (2, 1));
    // The third is due on Wednesday at about 12:02 (one working hour on Tuesday evening, three
    // on Wednesday morning): nothing at night.
    let wednesday = tuesday.succ_opt().unwrap();
    jump_to_time(&bot, wednesday, 8);
    bot.settle(WAIT).await;
    assert_eq!(reminders("lina"), 2);
    jump_to_time(&bot, wednesday, 14);
    bot.settle(WAIT).await;
    assert_eq!(
        (reminders("lina"), head_told()),
        (3, 1),
        "the head is told once"
    );

    tap(&bot, "lina", "approve", &number, 1).await;
    assert!(
        bot.wait_for_text("zhangsan", "可以发布。请按送审的稿件发布", WAIT)
            .await
    );
    jump_to(&bot, wednesday.succ_opt().unwrap());
    bot.settle(WAIT).await;
    assert_eq!(reminders("lina"), 3, "answered: no more reminders");
}
