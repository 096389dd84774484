//! Conversational forms through the real protocol: encrypted callbacks in, `message/send` out,
//! state and cases in the store. On both store backends.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, spawn_bot};
use support::flows::{case_json, file, resubmit_renamed};

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(
    a_complete_registration_files_a_numbered_case,
    a_form_started_from_the_menu_can_be_cancelled,
    a_user_with_no_unit_is_refused_politely,
    a_half_filled_form_survives_a_restart,
    a_command_typed_in_a_form_is_asked_about_and_runs_when_meant,
    a_withdrawn_case_is_edited_and_resubmitted,
    a_closure_command_typed_in_a_form_is_asked_about,
);

/// Every answer of the registration form, in order, as 张三 (团委) types them.
const REGISTRATION: &[&str] = &[
    "备案",
    "2026-04-28",
    "2",
    "团委青年之声",
    "gh_1234567890ab",
    "https://mp.weixin.qq.com/s/abc",
    "是",
    "单位介绍信、营业执照复印件",
    "宣传本单位青年工作动态，发布团委通知和志愿服务信息。",
    "刘洋",
    "０１０-１２３４５６７８",
    "13800138000",
    "本人",
    "010 12345678 转 123",
    "13900139000",
    "zhangsan@example.com",
];

async fn a_complete_registration_files_a_numbered_case(backend: Backend) {
    // Four workers: the per-conversation lease must still apply the answers in order.
    let Some(bot) = spawn_bot(backend, |s| s.workers = 4).await else {
        return;
    };
    let mut answers = REGISTRATION.to_vec();
    answers.push("确认");
    // All answers are sent without waiting for the bot: they are queued and applied in order.
    bot.say("zhangsan", &answers).await;
    let number = format!("BA-{}-0001", support::flows::year(&bot));
    let expected = number.clone();
    let u = "zhangsan".to_owned();
    let done = bot
        .fake
        .wait_until(
            move |f| {
                f.sent_to(&u).iter().any(|m| {
                    m["text"]["content"]
                        .as_str()
                        .unwrap_or("")
                        .contains(&expected)
                })
            },
            WAIT,
        )
        .await;
    let texts = bot.texts_to("zhangsan");
    assert!(done, "no case number in {texts:#?}");
    assert!(
        texts[0].contains("下面开始填写《新媒体建设备案登记表》"),
        "{}",
        texts[0]
    );
    let summary = texts
        .iter()
        .find(|t| t.contains("请核对以下信息"))
        .expect("a summary before submitting");
    for line in [
        "创建单位：团委",
        "账号名称：团委青年之声",
        "主管领导办公电话：010-12345678",
        "管理员姓名：张三",
    ] {
        assert!(summary.contains(line), "{line} missing in {summary}");
    }
    assert!(
        texts
            .iter()
            .all(|t| !t.contains("没有识别出") && !t.contains("不是有效")),
        "an answer was refused: {texts:#?}"
    );

    let case = bot
        .store
        .get_case(&number)
        .await
        .unwrap()
        .expect("the case is stored");
    let body: serde_json::Value = serde_json::from_str(&case.body).unwrap();
    assert_eq!(body["applicant"], "zhangsan");
    assert_eq!(body["unit"], "tw");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["applicant_name"], "张三");
    assert_eq!(body["unit_name"], "团委");
    assert_eq!(case.history.len(), 1);
    assert_eq!(
        bot.store.cases_in("applicant:zhangsan").await.unwrap(),
        vec![number.clone()]
    );
    assert_eq!(bot.store.cases_in("unit:tw").await.unwrap(), [number]);
    assert!(
        bot.store
            .load_conversation("zhangsan")
            .await
            .unwrap()
            .is_none(),
        "the form is closed"
    );
    bot.stop().await;
}

async fn a_form_started_from_the_menu_can_be_cancelled(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    assert_eq!(
        bot.post(&bot.click("zhangsan", "registration")).await.0,
        200
    );
    bot.wait_for_messages("zhangsan", 1, WAIT).await;
    assert!(bot.texts_to("zhangsan")[0].contains("下面开始填写"));
    assert!(
        bot.store
            .load_conversation("zhangsan")
            .await
            .unwrap()
            .is_some(),
        "a form is open"
    );

    bot.say("zhangsan", &["2026-04-28", "取消"]).await;
    let texts = bot.wait_for_messages("zhangsan", 3, WAIT).await;
    let last = texts[2]["text"]["content"].as_str().unwrap();
    assert!(last.contains("已取消"), "{last}");
    assert!(
        bot.store
            .load_conversation("zhangsan")
            .await
            .unwrap()
            .is_none(),
        "nothing kept"
    );
    assert!(
        bot.store
            .cases_in("applicant:zhangsan")
            .await
            .unwrap()
            .is_empty()
    );
    bot.stop().await;
}

async fn a_user_with_no_unit_is_refused_politely(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.say("zhaoliu", &["备案"]).await;
    let texts = bot.wait_for_messages("zhaoliu", 1, WAIT).await;
    let text = texts[0]["text"]["content"].as_str().unwrap();
    assert!(text.contains("只能以单位名义备案"), "{text}");
    assert!(
        bot.store
            .load_conversation("zhaoliu")
            .await
            .unwrap()
            .is_none(),
        "no form opened"
    );
    bot.stop().await;
}

async fn a_half_filled_form_survives_a_restart(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.say("zhangsan", &REGISTRATION[..2]).await;
    bot.wait_for_messages("zhangsan", 2, WAIT).await;
    let settings = bot.settings.clone();
    // Stop without cleaning up the store: the next bot opens the same one.
    let data = bot.keep_store_and_stop().await;

    let Some(bot) = spawn_bot(backend, move |s| {
        let fresh_fake = s.api_base.clone();
        *s = settings.clone();
        s.api_base = fresh_fake;
    })
    .await
    else {
        return;
    };
    drop(data);
    bot.say("zhangsan", &["2"]).await;
    let texts = bot.wait_for_messages("zhangsan", 1, WAIT).await;
    let text = texts[0]["text"]["content"].as_str().unwrap();
    assert!(
        text.contains("请输入账号名称"),
        "resumed at the next field: {text}"
    );
    bot.stop().await;
}

/// `我的` typed as the account name: the bot asks; `2` pauses the form and lists my cases (and
/// while paused, `统计` runs at once); `继续` goes on at the same question; typed again and
/// answered `1`, it is the account name.
async fn a_command_typed_in_a_form_is_asked_about_and_runs_when_meant(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.say("zhangsan", &REGISTRATION[..3]).await;
    assert!(bot.wait_for_text("zhangsan", "请输入账号名称", WAIT).await);
    bot.say("zhangsan", &["我的"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "还是想查看我的事项？", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    bot.say("zhangsan", &["2"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "您还没有提交过事项", WAIT)
            .await,
        "the command ran: {:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.contains("已暂停（已填写 3 项）")),
        "the form is paused: {:#?}",
        bot.texts_to("zhangsan")
    );
    // While paused, a command of another process (the supervision's 统计) runs at once.
    bot.say("zhangsan", &["统计"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "仅向党委宣传部和各单位主要负责人开放", WAIT)
            .await,
        "the supervision answered: {:#?}",
        bot.texts_to("zhangsan")
    );
    bot.say("zhangsan", &["继续", "我的", "1"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "请输入账号ID", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    bot.settle(WAIT).await;
    let texts = bot.texts_to("zhangsan");
    let resumed = texts
        .iter()
        .filter(|t| t.contains("请输入账号名称"))
        .count();
    assert_eq!(resumed, 2, "asked again after 继续: {texts:#?}");
    let state = bot
        .store
        .load_conversation("zhangsan")
        .await
        .unwrap()
        .expect("the form is open");
    assert!(
        state
            .state
            .contains(r#"["account_name",{"t":"text","v":"我的"}]"#),
        "saved as the answer: {}",
        state.state
    );
    bot.stop().await;
}

/// A case withdrawn by its applicant can be edited and resubmitted under its number: the chain
/// starts again and the leader gets a fresh card.
async fn a_withdrawn_case_is_edited_and_resubmitted(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    bot.say("zhangsan", &[&format!("撤回 {number}")]).await;
    assert!(
        bot.wait_for_text(
            "zhangsan",
            &format!("如需修改后重新提交，请回复“修改 {number}”"),
            WAIT
        )
        .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    assert_eq!(case_json(&bot, &number).await["status"], "withdrawn");
    resubmit_renamed(&bot, &number, "共青团某某公司委员会").await;
    let case = case_json(&bot, &number).await;
    assert_eq!(case["status"], "pending");
    assert_eq!(case["round"], 2);
    assert!(
        case["answers"].to_string().contains("共青团某某公司委员会"),
        "{case}"
    );
    bot.stop().await;
}

/// The deregistration process's commands are reserved inside forms too: `责令注销 …` typed as
/// an account name is asked about, not saved.
async fn a_closure_command_typed_in_a_form_is_asked_about(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.say("zhangsan", &REGISTRATION[..3]).await;
    assert!(bot.wait_for_text("zhangsan", "请输入账号名称", WAIT).await);
    bot.say("zhangsan", &["责令注销 DJ-2026-0001 长期停更"])
        .await;
    assert!(
        bot.wait_for_text("zhangsan", "还是想责令注销一个新媒体账号？", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    bot.stop().await;
}
