//! A flow removed from bot-scripts while its cases are stored: the people of those cases get a
//! clear answer and nothing changes; everyone else is served as before. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::file;

const WAIT: Duration = Duration::from_secs(20);
const RETIRED: &str = "所属的流程已经停用";

on_both_stores!(a_case_whose_flow_is_gone_gets_a_clear_answer_and_nothing_changes);

/// How many of `user`'s texts say that the flow of `number` is retired.
fn retired_notices(bot: &TestBot, user: &str, number: &str) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.contains(number) && t.contains(RETIRED))
        .count()
}

async fn wait_for_notices(bot: &TestBot, user: &str, number: &str, n: usize) {
    let (u, num) = (user.to_owned(), number.to_owned());
    let arrived = bot
        .fake
        .wait_until(
            move |f| {
                f.sent_to(&u)
                    .iter()
                    .filter_map(|m| m["text"]["content"].as_str())
                    .filter(|t| t.contains(&num) && t.contains(RETIRED))
                    .count()
                    >= n
            },
            WAIT,
        )
        .await;
    assert!(
        arrived,
        "{user} gets notice {n} that {number}'s flow is retired: {:#?}",
        bot.texts_to(user)
    );
}

async fn a_case_whose_flow_is_gone_gets_a_clear_answer_and_nothing_changes(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let number = file(&bot).await;
    let (task, approve, _) = bot.last_card("liuyang").expect("刘洋's card");
    let settings = bot.settings.clone();
    let kept = bot.keep_store_and_stop().await;

    // The registration flow is replaced by a flow of another id: the stored case's is gone.
    let scripts = support::scripts::with_flow_renamed("registration", "registration_v2");
    let scripts_dir = scripts.path().to_owned();
    let Some(bot) = spawn_bot(backend, move |s| {
        let fresh_fake = s.api_base.clone();
        *s = settings.clone();
        s.api_base = fresh_fake;
        s.scripts_dir = scripts_dir;
    })
    .await
    else {
        return;
    };
    let before = bot.store.get_case(&number).await.unwrap().expect("stored");

    bot.say("zhangsan", &[&format!("状态 {number}")]).await;
    wait_for_notices(&bot, "zhangsan", &number, 1).await;
    bot.say("zhangsan", &[&format!("撤回 {number}")]).await;
    wait_for_notices(&bot, "zhangsan", &number, 2).await;
    bot.say("zhangsan", &[&format!("催办 {number}")]).await;
    wait_for_notices(&bot, "zhangsan", &number, 3).await;
    bot.say("zhangsan", &[&format!("修改 {number}")]).await;
    wait_for_notices(&bot, "zhangsan", &number, 4).await;

    // The leader taps 同意 on the card he got before, and asks for his cards again.
    let (status, _) = bot
        .post(&bot.tap("liuyang", &approve, &task, "rc-after"))
        .await;
    assert_eq!(status, 200);
    wait_for_notices(&bot, "liuyang", &number, 1).await;
    bot.say("liuyang", &["待办 卡片", &format!("同意 {number}")])
        .await;
    wait_for_notices(&bot, "liuyang", &number, 3).await;

    // Someone else starts a registration (the new flow) and is served.
    bot.say("wangqiang", &["备案"]).await;
    assert!(
        bot.wait_for_text("wangqiang", "下面开始填写《新媒体建设备案登记表》", WAIT)
            .await,
        "{:#?}",
        bot.texts_to("wangqiang")
    );

    // Nothing changed: the case, its history, the leader's card; nothing else was said.
    let after = bot.store.get_case(&number).await.unwrap().expect("stored");
    assert_eq!(after.body, before.body);
    assert_eq!(after.history, before.history);
    assert_eq!(after.version, before.version);
    assert!(bot.fake.accepted_bodies("/update_template_card").is_empty());
    assert_eq!(
        bot.texts_to("zhangsan").len(),
        retired_notices(&bot, "zhangsan", &number),
        "only the notices: {:#?}",
        bot.texts_to("zhangsan")
    );
    assert!(
        bot.fake
            .sent_to("liuyang")
            .iter()
            .all(|m| m["msgtype"] == "text"),
        "no card for the case: {:#?}",
        bot.fake.sent_to("liuyang")
    );
    bot.stop().await;
    drop(kept);
}
