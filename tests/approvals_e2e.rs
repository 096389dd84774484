//! One-tap approvals through the real protocol: a registration goes from chat to the register
//! through two card taps; rejections, edits and resubmission; every refusal. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{case_json, file, resubmit_renamed, year};
use support::wait::until;

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(
    a_registration_reaches_the_register_through_two_taps,
    refusals_change_nothing,
    two_approvers_tapping_at_once_give_one_decision,
    a_rejected_filing_is_edited_and_resubmitted,
    text_commands_withdraw_urge_status_and_lists,
    a_card_that_cannot_be_updated_is_replaced_by_a_message,
);

/// Waits until the fake has seen `n` accepted card updates.
async fn card_updates(bot: &TestBot, n: usize) -> Vec<serde_json::Value> {
    bot.fake
        .wait_until(
            move |f| f.accepted_bodies("/update_template_card").len() >= n,
            WAIT,
        )
        .await;
    bot.fake.accepted_bodies("/update_template_card")
}

/// The update of the card tapped with `response_code`, once it arrives.
async fn stale_update(bot: &TestBot, response_code: &'static str) -> serde_json::Value {
    let arrived = bot
        .fake
        .wait_until(
            move |f| {
                f.accepted_bodies("/update_template_card")
                    .iter()
                    .any(|u| u["response_code"] == response_code)
            },
            WAIT,
        )
        .await;
    assert!(arrived, "the card tapped with {response_code} is updated");
    bot.fake
        .accepted_bodies("/update_template_card")
        .into_iter()
        .find(|u| u["response_code"] == response_code)
        .unwrap()
}

async fn a_registration_reaches_the_register_through_two_taps(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    let card = bot
        .fake
        .sent_to("liuyang")
        .into_iter()
        .find(|m| m["msgtype"] == "template_card")
        .unwrap();
    let tc = &card["template_card"];
    assert_eq!(tc["card_type"], "button_interaction");
    assert_eq!(tc["main_title"]["desc"], "单位主要负责人审批");
    let rows = tc["horizontal_content_list"].to_string();
    for shown in [number.as_str(), "张三", "团委", "官方微信", "团委青年之声"] {
        assert!(rows.contains(shown), "{shown} not on the card: {rows}");
    }
    let (task, approve, _) = bot.last_card("liuyang").unwrap();
    // 详情 on the card: every answer to the leader, nothing decided; a stranger is refused.
    let details = format!("details:{number}");
    assert_eq!(tc["button_list"][2]["key"], details.as_str());
    bot.post(&bot.tap("liuyang", &details, &task, "rc-details"))
        .await;
    assert!(bot.wait_for_text("liuyang", "gh_1234567890ab", WAIT).await);
    bot.post(&bot.tap("wangqiang", &details, &task, "rc-stranger"))
        .await;
    assert!(bot.wait_for_text("wangqiang", "没有查看或办理", WAIT).await);
    assert_eq!(
        case_json(&bot, &number).await["chain"][0]["decisions"],
        serde_json::json!([])
    );
    assert!(
        task.len() <= 128
            && task
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-@".contains(c))
    );

    // 刘洋 taps 同意: his card is greyed out, 张三 hears, the propaganda department gets cards.
    assert_eq!(
        bot.post(&bot.tap("liuyang", &approve, &task, "rc-leader"))
            .await
            .0,
        200
    );
    let updates = card_updates(&bot, 1).await;
    assert_eq!(updates[0]["response_code"], "rc-leader");
    assert_eq!(updates[0]["button"]["replace_name"], "已同意（刘洋）");
    assert!(
        bot.wait_for_text("zhangsan", "已通过“单位主要负责人审批”", WAIT)
            .await
    );
    let u = "chenjing";
    bot.fake
        .wait_until(
            move |f| f.sent_to(u).iter().any(|m| m["msgtype"] == "template_card"),
            WAIT,
        )
        .await;
    let (task2, approve2, _) = bot
        .last_card("chenjing")
        .expect("the propaganda department's card");
    assert_eq!(
        bot.last_card("lina").unwrap().0,
        task2,
        "one card to every member of the department"
    );
    assert_ne!(task2, task);
    // The department sees who approved before it.
    let xcb_card = bot
        .fake
        .sent_to("chenjing")
        .into_iter()
        .find(|m| m["msgtype"] == "template_card")
        .unwrap();
    assert_eq!(
        xcb_card["template_card"]["sub_title_text"],
        "单位主要负责人审批：刘洋已同意"
    );
    assert!(
        tc.get("sub_title_text").is_none(),
        "the first step has no one before it"
    );

    // 陈静 (党委宣传部) taps 同意: the account is registered, applicant and leader are told.
    bot.post(&bot.tap("chenjing", &approve2, &task2, "rc-xcb"))
        .await;
    let register = format!("DJ-{}-0001", year(&bot));
    assert!(
        bot.wait_for_text("zhangsan", &register, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(bot.wait_for_text("liuyang", &register, WAIT).await);
    let updates = card_updates(&bot, 2).await;
    let mut people: Vec<String> = serde_json::from_value(updates[1]["userids"].clone()).unwrap();
    people.sort();
    assert_eq!(
        people,
        ["chenjing", "lina"],
        "every copy of the card is updated"
    );

    let case = case_json(&bot, &number).await;
    assert_eq!(case["status"], "approved");
    assert_eq!(case["register_number"], register);
    assert_eq!(
        bot.store.cases_in("register").await.unwrap(),
        vec![number.clone()]
    );
    assert_eq!(
        bot.store.cases_in("register:tw").await.unwrap(),
        vec![number.clone()]
    );
    let history = bot.store.get_case(&number).await.unwrap().unwrap().history;
    assert_eq!(
        history.len(),
        4,
        "submitted, approved twice, registered: {history:#?}"
    );
    bot.stop().await;
}

async fn refusals_change_nothing(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    let (task, approve, _) = bot.last_card("liuyang").unwrap();

    // Someone who is not an approver of the step.
    bot.post(&bot.tap("wangqiang", &approve, &task, "rc-x"))
        .await;
    assert!(bot.wait_for_text("wangqiang", "不是", WAIT).await);
    // A forged task id.
    bot.post(&bot.tap("liuyang", &approve, "BA_forged_0000", "rc-y"))
        .await;
    assert!(bot.wait_for_text("liuyang", "已失效", WAIT).await);
    assert_eq!(
        case_json(&bot, &number).await["chain"][0]["decisions"],
        serde_json::json!([])
    );

    // The real tap, delivered four times: one decision.
    let at = bot.clock.now_ms() / 1000;
    let tap = bot.tap_at("liuyang", (&approve, &task, "rc-leader"), at);
    for _ in 0..4 {
        assert_eq!(bot.post(&tap).await.0, 200);
    }
    assert!(bot.wait_for_text("zhangsan", "已通过", WAIT).await);
    // A second, later tap of the same card (a later CreateTime): already decided.
    bot.post(&bot.tap_at("liuyang", (&approve, &task, "rc-again"), at + 1))
        .await;
    assert!(bot.wait_for_text("liuyang", "已经处理完毕", WAIT).await);
    // ... and the stale card is greyed out in place, so it is not tapped again.
    let stale = stale_update(&bot, "rc-again").await;
    assert_eq!(stale["userids"], serde_json::json!(["liuyang"]));
    assert!(
        stale["button"]["replace_name"]
            .as_str()
            .unwrap()
            .contains("已处理"),
        "{stale}"
    );
    let case = case_json(&bot, &number).await;
    assert_eq!(case["chain"][0]["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(case["current_step"], 1);

    // Withdrawn: a tap on the open step's card changes nothing.
    bot.say("zhangsan", &[&format!("撤回 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "已撤回", WAIT).await);
    let (task2, approve2, _) = bot.last_card("chenjing").unwrap();
    bot.post(&bot.tap("chenjing", &approve2, &task2, "rc-late"))
        .await;
    assert!(bot.wait_for_text("chenjing", "操作未生效", WAIT).await);
    assert_eq!(
        stale_update(&bot, "rc-late").await["userids"],
        serde_json::json!(["chenjing"])
    );
    assert_eq!(case_json(&bot, &number).await["status"], "withdrawn");
    bot.stop().await;
}

async fn two_approvers_tapping_at_once_give_one_decision(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.workers = 4).await else {
        return;
    };
    let number = file(&bot).await;
    let (task, approve, _) = bot.last_card("liuyang").unwrap();
    bot.post(&bot.tap("liuyang", &approve, &task, "rc-leader"))
        .await;
    let u = "lina";
    bot.fake
        .wait_until(
            move |f| f.sent_to(u).iter().any(|m| m["msgtype"] == "template_card"),
            WAIT,
        )
        .await;
    let (task2, approve2, reject2) = bot.last_card("lina").unwrap();

    // 陈静 approves and 李娜 approves at the same moment (or-sign): one decision.
    let (a, b) = (
        bot.tap("chenjing", &approve2, &task2, "rc-a"),
        bot.tap("lina", &approve2, &task2, "rc-b"),
    );
    let (ra, rb) = tokio::join!(bot.post(&a), bot.post(&b));
    assert_eq!((ra.0, rb.0), (200, 200));
    assert!(bot.wait_for_text("zhangsan", "DJ-", WAIT).await);
    // Both taps handled, every message out: only then count.
    bot.settle(WAIT).await;
    let case = case_json(&bot, &number).await;
    assert_eq!(
        case["chain"][1]["decisions"].as_array().unwrap().len(),
        1,
        "exactly one decision"
    );
    let registered = bot
        .texts_to("zhangsan")
        .iter()
        .filter(|t| t.contains("DJ-"))
        .count();
    assert_eq!(registered, 1, "the applicant is told once");
    // Both copies end in the same final state: the winner's update covers both approvers, and
    // the loser's tapped card is greyed out too.
    let updates = bot.fake.accepted_bodies("/update_template_card");
    let covers_both = updates.iter().any(|u| {
        let mut people: Vec<String> = serde_json::from_value(u["userids"].clone()).unwrap();
        people.sort();
        people == ["chenjing", "lina"]
    });
    assert!(covers_both, "{updates:?}");
    for rc in ["rc-a", "rc-b"] {
        assert!(
            updates.iter().any(|u| u["response_code"] == rc),
            "card {rc} updated: {updates:?}"
        );
    }
    let _ = reject2;
    bot.stop().await;
}

async fn a_rejected_filing_is_edited_and_resubmitted(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    let (task, _, reject) = bot.last_card("liuyang").unwrap();

    bot.post(&bot.tap("liuyang", &reject, &task, "rc-no")).await;
    assert!(bot.wait_for_text("liuyang", "理由", WAIT).await);
    bot.say("liuyang", &["账号名称需体现单位全称"]).await;
    assert!(
        bot.wait_for_text("zhangsan", "账号名称需体现单位全称", WAIT)
            .await,
        "the applicant gets the reason"
    );
    let updates = card_updates(&bot, 1).await;
    assert_eq!(updates[0]["button"]["replace_name"], "已驳回（刘洋）");
    assert_eq!(case_json(&bot, &number).await["status"], "rejected");

    resubmit_renamed(&bot, &number, "共青团某某公司委员会").await;
    let card = bot
        .fake
        .sent_to("liuyang")
        .into_iter()
        .rev()
        .find(|m| m["msgtype"] == "template_card")
        .unwrap();
    let sub = card["template_card"]["sub_title_text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        sub.contains("账号名称") && sub.contains("共青团某某公司委员会"),
        "the card notes the change: {sub}"
    );
    let case = case_json(&bot, &number).await;
    assert_eq!(case["status"], "pending");
    assert_eq!(case["round"], 2);
    assert_eq!(case["current_step"], 0);
    bot.stop().await;
}

async fn text_commands_withdraw_urge_status_and_lists(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;

    bot.say("liuyang", &["待办"]).await;
    assert!(
        bot.wait_for_text("liuyang", &format!("{number}　"), WAIT)
            .await,
        "{:#?}",
        bot.texts_to("liuyang")
    );
    bot.say("zhangsan", &[&format!("催办 {number}")]).await;
    assert!(bot.wait_for_text("liuyang", "提醒您尽快审批", WAIT).await);
    bot.say("zhangsan", &[&format!("催办 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "今天已经催办过", WAIT).await);

    bot.say("wangqiang", &[&format!("状态 {number}")]).await;
    assert!(
        bot.wait_for_text("wangqiang", "没有查看或办理", WAIT).await,
        "other units cannot see the case"
    );
    bot.say("liuyang", &[&format!("同意 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "已通过", WAIT).await);
    let with_id = |bot: &TestBot| {
        bot.texts_to("zhangsan")
            .iter()
            .filter(|t| t.contains("gh_1234567890ab"))
            .count()
    };
    let before = with_id(&bot);
    bot.say("zhangsan", &[&format!("状态 {number}")]).await;
    assert!(
        bot.wait_for_text("zhangsan", "刘洋同意（单位主要负责人审批）", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    until("状态 shows the answers too", || async {
        with_id(&bot) > before
    })
    .await;
    bot.say("zhangsan", &["我的"]).await;
    assert!(bot.wait_for_text("zhangsan", "您提交的事项", WAIT).await);
    // The text decision greyed out the leader's card too (with the code WeCom gave at sending).
    let updates = card_updates(&bot, 1).await;
    assert!(
        updates
            .iter()
            .any(|u| u["userids"] == serde_json::json!(["liuyang"])
                && u["button"]["replace_name"] == "已同意（刘洋）"),
        "{updates:?}"
    );
    // Withdrawn while the department decides: its cards are greyed out.
    bot.settle(WAIT).await;
    bot.say("zhangsan", &[&format!("撤回 {number}")]).await;
    let greyed = bot
        .fake
        .wait_until(
            |f| {
                f.accepted_bodies("/update_template_card").iter().any(|u| {
                    u["button"]["replace_name"] == "已处理（已撤回）"
                        && u["userids"] == serde_json::json!(["chenjing", "lina"])
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
    bot.stop().await;
}

async fn a_card_that_cannot_be_updated_is_replaced_by_a_message(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    // WeCom refuses the update (the tap's response code is spent or past its 72 hours).
    bot.fake.fail_next("/update_template_card", 42017, 1);
    let (task, approve, _) = bot.last_card("liuyang").unwrap();
    bot.post(&bot.tap("liuyang", &approve, &task, "rc-spent"))
        .await;
    assert!(
        bot.wait_for_text("liuyang", &format!("（{number}）已由刘洋同意"), WAIT)
            .await,
        "the decision arrives as a fresh message: {:#?}",
        bot.texts_to("liuyang")
    );
    assert!(
        bot.store.dead_letters(10).await.unwrap().is_empty(),
        "nothing dead-lettered"
    );
    bot.stop().await;
}
