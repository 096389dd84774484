//! The work circle (新媒体矩阵工作圈, policy 3.3.5), through the real protocol: the bot creates
//! the app group chat of the administrators of the accounts in use (`appchat/create`, with the
//! department's owner) when the first account is registered, and keeps it in line
//! (`appchat/update`) as an account changes administrator, is closed, or its administrator
//! leaves the company. Both stores; the fake WeCom keeps the chat's members.

#[macro_use]
mod support;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{REPLACE_ADMIN, admin_leaves, approve_card, register, year};
use support::wait::{WAIT, until};

on_both_stores!(
    the_circle_follows_a_registration_a_new_administrator_and_a_closure,
    an_administrator_who_leaves_the_company_leaves_the_circle,
);

/// The circle's chat id in the shipped bot.toml.
const CIRCLE: &str = "wrkcircle01";

/// Waits until the circle's members are `members` (in this order).
async fn members_become(bot: &TestBot, members: &[&str]) {
    let fake = bot.fake.clone();
    let want: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    let what = format!("the circle is {members:?}");
    until(&what, || {
        let (fake, want) = (fake.clone(), want.clone());
        async move { fake.chat(CIRCLE).is_some_and(|c| c.members == want) }
    })
    .await;
}

async fn the_circle_follows_a_registration_a_new_administrator_and_a_closure(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    members_become(&bot, &["chenjing", "zhangsan"]).await;
    let chat = bot.fake.chat(CIRCLE).unwrap();
    assert_eq!(
        (chat.name.as_str(), chat.owner.as_str()),
        ("新媒体矩阵工作圈", "chenjing")
    );
    assert_eq!(bot.fake.accepted_bodies("/appchat/create").len(), 1);

    // 团委 reports 张伟 as the account's new administrator; once confirmed he replaces 张三.
    bot.say("liuyang", REPLACE_ADMIN).await;
    let report = format!("BG-{}-0001", year(&bot));
    assert!(bot.wait_for_text("liuyang", &report, WAIT).await);
    approve_card(&bot, "chenjing", &report, "rc-change").await;
    members_become(&bot, &["chenjing", "zhangwei"]).await;

    // 团委 closes the account: once the closure is approved, 张伟 leaves the circle.
    bot.say(
        "zhangsan",
        &[
            "注销",
            "团委职能调整",
            "今天",
            "https://pan.example.com/s/zhuxiao",
            "确认",
        ],
    )
    .await;
    let closure = format!("ZX-{}-0001", year(&bot));
    assert!(bot.wait_for_text("zhangsan", &closure, WAIT).await);
    approve_card(&bot, "liuyang", &closure, "rc-leader").await;
    bot.settle(WAIT).await;
    assert_eq!(
        bot.fake.chat(CIRCLE).unwrap().members,
        ["chenjing", "zhangwei"],
        "a closure being approved (注销中) keeps the administrator"
    );
    approve_card(&bot, "chenjing", &closure, "rc-xcb").await;
    members_become(&bot, &["chenjing"]).await;
    bot.settle(WAIT).await;
    assert_eq!(
        bot.fake.accepted_bodies("/appchat/create").len(),
        1,
        "created once"
    );
    let updates = bot.fake.accepted_bodies("/appchat/update");
    assert_eq!(updates.len(), 2, "{updates:#?}");
    assert_eq!(updates[0]["add_user_list"], serde_json::json!(["zhangwei"]));
    assert_eq!(updates[0]["del_user_list"], serde_json::json!(["zhangsan"]));
    assert_eq!(updates[1]["del_user_list"], serde_json::json!(["zhangwei"]));
    bot.stop().await;
}

async fn an_administrator_who_leaves_the_company_leaves_the_circle(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    register(&bot).await;
    members_become(&bot, &["chenjing", "zhangsan"]).await;
    admin_leaves(&bot).await;
    members_become(&bot, &["chenjing"]).await;
    bot.stop().await;
}
