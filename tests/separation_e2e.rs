//! Separation of duties (policy 2.1): nobody decides a step of a case they filed or are the
//! subject of (a registration's administrator). The step goes to its other approvers, or to
//! `[separation] fallback_role` (the head of the propaganda department, 陈静) when nobody else
//! holds it; a text command or a card tap by the recused is refused. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{ADMIN, LEADER, approve_card, case_json, registration_with, year};

const WAIT: Duration = Duration::from_secs(20);
const RECUSED: &str = "按照审批回避的要求，您不能审批";

on_both_stores!(
    a_department_member_never_approves_her_own_filing,
    a_step_with_only_the_applicant_goes_to_the_fallback_role,
    the_administrator_named_in_the_form_does_not_approve_it,
);

/// `user` files the registration with some answers replaced (`(position, answer)`); returns
/// its number once the bot has said it.
async fn file_as(bot: &TestBot, user: &str, replace: &[(usize, &'static str)]) -> String {
    bot.say(user, &registration_with(replace)).await;
    let number = format!("BA-{}-0001", year(bot));
    assert!(
        bot.wait_for_text(user, &number, WAIT).await,
        "{:#?}",
        bot.texts_to(user)
    );
    number
}

/// Who got an approval card for `number` so far.
fn card_holders(bot: &TestBot, number: &str, people: &[&str]) -> Vec<String> {
    let key = format!("approve:{number}");
    people
        .iter()
        .filter(|p| {
            bot.fake.sent_to(p).iter().any(|m| {
                m["msgtype"] == "template_card"
                    && m["template_card"]["button_list"][0]["key"]
                        .as_str()
                        .is_some_and(|k| k.starts_with(&key))
            })
        })
        .map(|p| (*p).to_owned())
        .collect()
}

async fn assignees(bot: &TestBot, number: &str, step: usize) -> serde_json::Value {
    case_json(bot, number).await["chain"][step]["assignees"].clone()
}

async fn a_department_member_never_approves_her_own_filing(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    // 李娜 (党委宣传部) registers an account of her department; 陈静 leads it.
    let number = file_as(&bot, "lina", &[]).await;
    approve_card(&bot, "chenjing", &number, "rc-leader").await;
    assert!(
        bot.wait_for_text("lina", "已转“党委宣传部审核”", WAIT)
            .await
    );
    bot.settle(WAIT).await;
    assert_eq!(
        assignees(&bot, &number, 1).await,
        serde_json::json!(["chenjing"]),
        "the department's step goes to its other members"
    );
    assert_eq!(card_holders(&bot, &number, &["lina"]), Vec::<String>::new());

    // She tries anyway: by text, and by tapping her colleague's card.
    bot.say("lina", &[&format!("同意 {number}")]).await;
    assert!(
        bot.wait_for_text("lina", RECUSED, WAIT).await,
        "{:#?}",
        bot.texts_to("lina")
    );
    let (task, approve, _) = bot.last_card("chenjing").expect("陈静's card");
    bot.post(&bot.tap("lina", &approve, &task, "rc-lina")).await;
    let refusals = |bot: &TestBot| {
        bot.texts_to("lina")
            .iter()
            .filter(|t| t.contains(RECUSED))
            .count()
    };
    let b = &bot;
    support::wait::until("the tap is refused too", || async move { refusals(b) == 2 }).await;
    bot.settle(WAIT).await;
    let case = case_json(&bot, &number).await;
    assert_eq!(case["status"], "pending");
    assert_eq!(case["current_step"], 1);
    assert_eq!(case["chain"][1]["decisions"], serde_json::json!([]));

    approve_card(&bot, "chenjing", &number, "rc-xcb").await;
    let register = format!("DJ-{}-0001", year(&bot));
    assert!(bot.wait_for_text("lina", &register, WAIT).await);
    bot.stop().await;
}

async fn a_step_with_only_the_applicant_goes_to_the_fallback_role(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    // 刘洋 leads 团委 and files its registration himself: his unit's step has nobody else, so
    // it goes to the head of the propaganda department (陈静), not to him.
    let number = file_as(&bot, "liuyang", &[(LEADER, "王强")]).await;
    bot.settle(WAIT).await;
    assert_eq!(
        assignees(&bot, &number, 0).await,
        serde_json::json!(["chenjing"])
    );
    assert_eq!(
        card_holders(&bot, &number, &["liuyang", "chenjing", "lina"]),
        ["chenjing"]
    );
    bot.say("liuyang", &[&format!("同意 {number}")]).await;
    assert!(bot.wait_for_text("liuyang", RECUSED, WAIT).await);

    approve_card(&bot, "chenjing", &number, "rc-fallback").await;
    assert!(
        bot.wait_for_text("liuyang", "已转“党委宣传部审核”", WAIT)
            .await
    );
    approve_card(&bot, "lina", &number, "rc-xcb").await;
    let register = format!("DJ-{}-0001", year(&bot));
    assert!(bot.wait_for_text("liuyang", &register, WAIT).await);
    bot.stop().await;
}

async fn the_administrator_named_in_the_form_does_not_approve_it(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    // 张三 names his unit's leader 刘洋 as the account's administrator: 刘洋 is its subject.
    let number = file_as(&bot, "zhangsan", &[(ADMIN, "刘洋")]).await;
    bot.settle(WAIT).await;
    assert_eq!(
        assignees(&bot, &number, 0).await,
        serde_json::json!(["chenjing"])
    );
    bot.say("liuyang", &[&format!("同意 {number}")]).await;
    assert!(bot.wait_for_text("liuyang", RECUSED, WAIT).await);
    assert_eq!(case_json(&bot, &number).await["current_step"], 0);
    bot.stop().await;
}
