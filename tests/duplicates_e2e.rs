//! One filing per account (policy 3.1.1): a registration naming an account that is already in
//! the register, or in a registration still being approved — the same platform and account ID
//! (normalised) or the same link — is refused at confirmation with that entry's number and
//! unit; the form stays at its summary to be corrected or cancelled. Both stores.

#[macro_use]
mod support;

use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{ACCOUNT_ID, LINK, file, register, registration_with, year};

const WAIT: Duration = Duration::from_secs(20);

on_both_stores!(
    a_duplicate_of_a_pending_registration_is_refused_until_corrected,
    a_registered_account_is_refused_with_its_register_number,
);

/// The registration as 张伟 types it: he belongs to 团委 and 工会, so he is asked for the unit
/// (1: 团委) after 备案.
fn for_zhangwei(replace: &[(usize, &'static str)]) -> Vec<&'static str> {
    let mut answers = registration_with(replace);
    answers.insert(1, "1");
    answers
}

/// The numbers of every case filed.
async fn all_cases(bot: &TestBot) -> Vec<String> {
    bot.settle(WAIT).await;
    bot.store.cases_in("all").await.unwrap()
}

async fn a_duplicate_of_a_pending_registration_is_refused_until_corrected(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let first = file(&bot).await;
    // 张伟 (also of 团委) files the same WeChat account: the ID typed in full width and upper
    // case, another link.
    bot.say(
        "zhangwei",
        &for_zhangwei(&[
            (ACCOUNT_ID, " ＧＨ_1234567890AB "),
            (LINK, "https://mp.weixin.qq.com/s/other"),
        ]),
    )
    .await;
    let said = format!("备案编号 {first}，团委");
    assert!(
        bot.wait_for_text("zhangwei", &said, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangwei")
    );
    assert!(bot.wait_for_text("zhangwei", "正在审批中", WAIT).await);
    assert_eq!(
        all_cases(&bot).await,
        std::slice::from_ref(&first),
        "no second case"
    );

    // The form is still at its summary: he corrects the ID and confirms.
    bot.say("zhangwei", &["修改 账号ID", "gh_tw_volunteers", "确认"])
        .await;
    let second = format!("BA-{}-0002", year(&bot));
    assert!(
        bot.wait_for_text("zhangwei", &second, WAIT).await,
        "no number is lost to the refusal: {:#?}",
        bot.texts_to("zhangwei")
    );
    assert_eq!(all_cases(&bot).await, [first, second]);
    bot.stop().await;
}

async fn a_registered_account_is_refused_with_its_register_number(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (number, register_number) = register(&bot).await;
    // 张伟 (also of 团委) files it again: the same link under another ID is the same account.
    bot.say(
        "zhangwei",
        &for_zhangwei(&[
            (ACCOUNT_ID, "another_id"),
            (LINK, "HTTP://mp.weixin.qq.com/s/abc/"),
        ]),
    )
    .await;
    let said = format!("该账号已登记（登记编号 {register_number}，团委），无需重复备案");
    assert!(
        bot.wait_for_text("zhangwei", &said, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangwei")
    );
    assert_eq!(
        all_cases(&bot).await,
        std::slice::from_ref(&number),
        "no second case"
    );
    // 取消 of a long form asks first; 取消 again gives it up.
    bot.say("zhangwei", &["取消", "取消"]).await;
    assert!(bot.wait_for_text("zhangwei", "已取消", WAIT).await);
    assert_eq!(all_cases(&bot).await, [number]);
    bot.stop().await;
}
