//! Account status and deregistration (注销, policy 3.1.2, 3.3.3), through the real protocol: a
//! unit closes an account and reports it; filing marks it 注销中, the leader's approval and the
//! department's confirmation mark it 已注销, and it stays in the register as closed (台账,
//! 状态 DJ-…, the exported register). Both stores.

#[macro_use]
mod support;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{approve_card, ask, case_json, register, year};
use support::wait::WAIT;

on_both_stores!(a_requested_closure_approved_twice_closes_the_account_in_the_register);

/// The register as `flowbot export` writes it: the 状态 column of each row.
async fn exported_statuses(bot: &TestBot) -> Vec<String> {
    use flowbot::runtime::exports;
    let scripts = flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir).unwrap();
    let table = exports::table(bot.store.as_ref(), &scripts, exports::What::Register)
        .await
        .unwrap();
    let column = table
        .headers
        .iter()
        .position(|h| h == "状态")
        .expect("状态");
    table
        .rows
        .iter()
        .map(|row| match &row[column] {
            flowbot::domain::records::export::Cell::Text(t) => t.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

async fn a_requested_closure_approved_twice_closes_the_account_in_the_register(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, dj) = register(&bot).await;
    assert_eq!(exported_statuses(&bot).await, ["在用"]);

    // 张三 reports the closure: the only account is chosen for him.
    bot.say(
        "zhangsan",
        &[
            "注销",
            "团委职能调整，内容并入公司官方账号",
            "今天",
            "https://pan.example.com/s/zhuxiao",
            "确认",
        ],
    )
    .await;
    let number = format!("ZX-{}-0001", year(&bot));
    assert!(
        bot.wait_for_text("zhangsan", &number, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    let ledger = ask(&bot, "lina", "台账", "新媒体账号台账").await;
    assert!(
        ledger.contains(&dj) && ledger.contains("注销中"),
        "{ledger}"
    );
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closing"
    );

    approve_card(&bot, "liuyang", &number, "rc-leader").await;
    approve_card(&bot, "chenjing", &number, "rc-xcb").await;
    assert!(
        bot.wait_for_text("zhangsan", "办理完毕", WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    bot.settle(WAIT).await;
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closed"
    );

    // Closed, it stays in the register as closed: 台账, 状态, the export.
    let ledger = ask(&bot, "lina", "台账", "新媒体账号台账").await;
    assert!(
        ledger.contains(&dj) && ledger.contains("已注销"),
        "{ledger}"
    );
    let status = ask(&bot, "lina", &format!("状态 {dj}"), "账号状态").await;
    assert!(status.contains("账号状态：已注销"), "{status}");
    assert!(
        status.contains(&number),
        "the history names the closure: {status}"
    );
    let details = ask(&bot, "lina", &format!("详情 {dj}"), "账号状态").await;
    assert!(details.contains("已注销"), "{details}");
    assert_eq!(exported_statuses(&bot).await, ["已注销"]);

    // A closed account is no longer offered for a change or a closure.
    let refused = ask(&bot, "zhangsan", "注销", "还没有已登记").await;
    assert!(refused.contains("注销"), "{refused}");
    bot.stop().await;
}
