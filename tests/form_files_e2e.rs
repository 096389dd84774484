//! Files as answers, and other processes' commands inside a form, through the real protocol.
//! A question declared `files = true` takes an image or file message as its answer (the closure
//! report's evidence, the 送审 draft): the file is kept, shown in the summary and `状态`, and
//! forwarded to each approver with the card. A file sent at a question that takes words is not
//! its answer. `舆情` typed in a form is asked about; as a command it files the incident at once
//! while the form waits, and `继续` goes back to the form. Both stores.

#[macro_use]
mod support;

use support::bot::{Backend, spawn_bot};
use support::flows::{approve_card, ask, case_json, register, year};
use support::wait::WAIT;

on_both_stores!(
    a_closure_report_takes_a_screenshot_as_its_evidence,
    a_file_at_a_question_that_takes_words_is_not_its_answer,
    a_draft_sent_as_a_file_reaches_the_department_with_the_card,
    an_incident_reported_in_the_middle_of_a_form_does_not_lose_the_form,
);

const SCREENSHOT: &[u8] = b"\x89PNG\r\n\x1a\nclosed-account-page";

async fn a_closure_report_takes_a_screenshot_as_its_evidence(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, _dj) = register(&bot).await;
    bot.say(
        "zhangsan",
        &["注销", "团委职能调整，内容并入公司官方账号", "今天"],
    )
    .await;
    assert!(bot.wait_for_text("zhangsan", "请提供注销凭证", WAIT).await);
    bot.send_image("zhangsan", "closed-shot", SCREENSHOT).await;
    assert!(
        bot.wait_for_text("zhangsan", "📎 closed-shot.png", WAIT)
            .await,
        "the summary shows the file: {:#?}",
        bot.texts_to("zhangsan")
    );
    bot.say("zhangsan", &["确认"]).await;
    let number = format!("ZX-{}-0001", year(&bot));
    assert!(bot.wait_for_text("zhangsan", &number, WAIT).await);

    // The leader gets the card and the screenshot itself.
    support::wait::until("the screenshot reached the leader", || async {
        bot.fake
            .media_sent_to("liuyang")
            .iter()
            .any(|(kind, _, bytes)| kind == "image" && bytes == SCREENSHOT)
    })
    .await;
    let status = ask(&bot, "zhangsan", &format!("详情 {number}"), &number).await;
    assert!(status.contains("closed-shot.png"), "{status}");

    approve_card(&bot, "liuyang", &number, "rc-leader").await;
    // The department's step opens with the card and the screenshot too.
    support::wait::until("the screenshot reached the department", || async {
        bot.fake
            .media_sent_to("chenjing")
            .iter()
            .any(|(kind, _, bytes)| kind == "image" && bytes == SCREENSHOT)
    })
    .await;
    approve_card(&bot, "chenjing", &number, "rc-xcb").await;
    assert!(bot.wait_for_text("zhangsan", "办理完毕", WAIT).await);
    bot.settle(WAIT).await;
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closed"
    );
    let evidence = &case_json(&bot, &number).await["answers"];
    assert!(
        evidence.to_string().contains("closed-shot.png"),
        "the report keeps the file: {evidence}"
    );
    bot.stop().await;
}

async fn a_file_at_a_question_that_takes_words_is_not_its_answer(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    bot.say("zhangsan", &["注销"]).await;
    assert!(bot.wait_for_text("zhangsan", "请说明注销原因", WAIT).await);
    let asked = bot.texts_to("zhangsan").len();
    bot.send_image("zhangsan", "stray", b"\x89PNGstray").await;
    assert!(
        bot.wait_for_text("zhangsan", "当前问题“注销原因”需要文字回答", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // The question is asked again and the form goes on with words.
    let after: Vec<String> = bot.texts_to("zhangsan").split_off(asked);
    assert!(
        after.iter().any(|t| t.contains("请说明注销原因")),
        "{after:#?}"
    );
    bot.say("zhangsan", &["团委职能调整"]).await;
    assert!(bot.wait_for_text("zhangsan", "注销日期", WAIT).await);
    bot.stop().await;
}

async fn a_draft_sent_as_a_file_reaches_the_department_with_the_card(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    bot.say("zhangsan", &["送审", "3"]).await;
    assert!(bot.wait_for_text("zhangsan", "请发送送审稿件", WAIT).await);
    let draft = b"%PDF-1.4 the draft of the post";
    bot.fake
        .put_media("draft-1", "年终稿件.pdf", "application/pdf", draft);
    let (status, _) = bot
        .post(&bot.media("zhangsan", "file", "draft-1", "年终稿件.pdf"))
        .await;
    assert_eq!(status, 200);
    assert!(bot.wait_for_text("zhangsan", "计划发布时间", WAIT).await);
    bot.say("zhangsan", &["12月8日 上午10点", "是", "确认"])
        .await;
    assert!(
        bot.wait_for_text("zhangsan", "已送审", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let number = format!("SS-{}-0001", year(&bot));
    support::wait::until("the draft reached the department", || async {
        bot.fake
            .media_sent_to("chenjing")
            .iter()
            .any(|(kind, name, bytes)| kind == "file" && name == "年终稿件.pdf" && bytes == draft)
    })
    .await;
    let status = ask(&bot, "zhangsan", &format!("详情 {number}"), "送审稿件").await;
    assert!(status.contains("年终稿件.pdf"), "{status}");
    bot.stop().await;
}

async fn an_incident_reported_in_the_middle_of_a_form_does_not_lose_the_form(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    bot.say("zhangsan", &["注销"]).await;
    assert!(bot.wait_for_text("zhangsan", "请说明注销原因", WAIT).await);
    bot.say("zhangsan", &["舆情"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "还是想上报或处理舆情", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    bot.say("zhangsan", &["2"]).await;
    assert!(bot.wait_for_text("zhangsan", "已暂停", WAIT).await);
    assert!(bot.wait_for_text("zhangsan", "【舆情上报】", WAIT).await);
    bot.say("zhangsan", &["团委公众号", "评论区出现大量不实信息"])
        .await;
    assert!(
        bot.wait_for_text("zhangsan", "已上报，编号 YQ-", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    // The leader knows at once: the incident's card.
    support::wait::until("the incident card reached the leader", || async {
        bot.fake
            .sent_to("liuyang")
            .iter()
            .any(|m| m["msgtype"] == "template_card" && m.to_string().contains("YQ-"))
    })
    .await;
    // The closure report waited with its place kept.
    let asked = |bot: &support::bot::TestBot| {
        bot.texts_to("zhangsan")
            .iter()
            .filter(|t| t.contains("请说明注销原因"))
            .count()
    };
    let before = asked(&bot);
    bot.say("zhangsan", &["继续"]).await;
    support::wait::until("the form asks its question again", || async {
        asked(&bot) > before
    })
    .await;
    bot.say("zhangsan", &["团委职能调整"]).await;
    assert!(bot.wait_for_text("zhangsan", "注销日期", WAIT).await);
    bot.stop().await;
}
