//! Account status and deregistration (注销, policy 3.1.2, 3.3.3), through the real protocol: a
//! unit closes an account and reports it; filing marks it 注销中, the leader's approval and the
//! department's confirmation mark it 已注销, and it stays in the register as closed (台账,
//! 状态 DJ-…, the exported register). The propaganda department may order a closure
//! (责令注销); the administrator and the unit's leaders are chased until one confirms with
//! evidence (已注销) or a 注销 report is approved, and then the chase stops. Both stores.

#[macro_use]
mod support;

use support::bot::{Backend, TestBot, spawn_bot};
use support::flows::{approve_card, ask, case_json, jump_to, register, year};
use support::wait::{WAIT, until};

on_both_stores!(
    a_withdrawn_or_rejected_closure_report_puts_the_account_back_in_use,
    a_requested_closure_approved_twice_closes_the_account_in_the_register,
    a_closure_ordered_by_the_department_is_chased_until_confirmed,
    an_ordered_closure_ends_when_the_units_report_is_approved,
    only_the_department_may_order_a_closure,
);

/// The nudges of a closure order `user` has received.
fn nudges(bot: &TestBot, user: &str) -> usize {
    bot.texts_to(user)
        .iter()
        .filter(|t| t.contains("责令注销的新媒体账号"))
        .count()
}

/// The company calendar of the bot's scripts.
fn calendar(bot: &TestBot) -> flowbot::base::calendar::Calendar {
    flowbot::base::scripts::Scripts::load(&bot.settings.scripts_dir)
        .unwrap()
        .calendar
}

/// A bot with 张三's account registered and its closure ordered (the account is 注销中):
/// the bot, the registration's number, the register number and the order's deadline.
async fn ordered(backend: Backend) -> Option<(TestBot, String, String, chrono::NaiveDate)> {
    let bot = spawn_bot(backend, |_| {}).await?;
    let (registration, dj) = register(&bot).await;
    let deadline = order_closure(&bot, &dj).await;
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closing"
    );
    Some((bot, registration, dj, deadline))
}

/// Jumps the clock to `day`, lets every timer due by then fire and checks that 张三 has
/// received `nudges` reminders of the order in all.
async fn on_day(bot: &TestBot, day: chrono::NaiveDate, count: usize) {
    jump_to(bot, day);
    bot.settle(WAIT).await;
    assert_eq!(
        nudges(bot, "zhangsan"),
        count,
        "{day}: {:#?}",
        bot.texts_to("zhangsan")
    );
}

/// 李娜 (党委宣传部) orders the closure of `dj`; 张三 (its administrator) and 刘洋 (团委's
/// leader) are told. Returns the deadline (5 working days from today).
async fn order_closure(bot: &TestBot, dj: &str) -> chrono::NaiveDate {
    let today = bot.clock.now().today;
    let ordered = ask(
        bot,
        "lina",
        &format!("责令注销 {dj} 账号长期停更"),
        "已责令",
    )
    .await;
    let deadline = calendar(bot).add_working_days(today, 5).date;
    assert!(
        ordered.contains(&deadline.format("%Y-%m-%d").to_string()),
        "{ordered}"
    );
    for due in ["zhangsan", "liuyang"] {
        assert!(
            bot.wait_for_text(due, "党委宣传部责令注销", WAIT).await,
            "{due} is told: {:#?}",
            bot.texts_to(due)
        );
    }
    deadline
}

/// 张三 reports that his account is closed (the only account is chosen for him); returns the
/// report's number once it is filed.
async fn report_closure(bot: &TestBot) -> String {
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
    let number = format!("ZX-{}-0001", year(bot));
    assert!(
        bot.wait_for_text("zhangsan", &number, WAIT).await,
        "{:#?}",
        bot.texts_to("zhangsan")
    );
    number
}

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

    let number = report_closure(&bot).await;
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

async fn a_closure_ordered_by_the_department_is_chased_until_confirmed(backend: Backend) {
    let Some((bot, registration, dj, deadline)) = ordered(backend).await else {
        return;
    };
    let calendar = calendar(&bot);

    // On the deadline the administrator is reminded (the earlier rung is superseded), the day
    // after also the department.
    on_day(&bot, deadline, 1).await;
    on_day(&bot, calendar.add_working_days(deadline, 1).date, 2).await;
    assert!(nudges(&bot, "lina") >= 1, "{:#?}", bot.texts_to("lina"));
    assert!(
        bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.contains("【逾期】")),
        "overdue by then"
    );

    // A link is needed; then the administrator confirms and the department is told.
    ask(&bot, "zhangsan", &format!("已注销 {dj} 截图"), "格式").await;
    let closed = ask(
        &bot,
        "zhangsan",
        &format!("已注销 {dj} https://pan.example.com/s/zx"),
        "注销完毕",
    )
    .await;
    assert!(closed.contains("已注销"), "{closed}");
    assert!(
        bot.wait_for_text("lina", "https://pan.example.com/s/zx", WAIT)
            .await
    );
    bot.settle(WAIT).await;
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closed"
    );
    let status = ask(&bot, "lina", &format!("状态 {dj}"), "账号状态").await;
    assert!(status.contains("账号状态：已注销"), "{status}");

    // The chase has stopped: weeks later nothing more arrives.
    let department = nudges(&bot, "lina");
    on_day(&bot, calendar.add_working_days(deadline, 9).date, 2).await;
    assert_eq!(nudges(&bot, "lina"), department);
    let again = ask(
        &bot,
        "zhangsan",
        &format!("已注销 {dj} https://x.example/1"),
        "没有待办理",
    )
    .await;
    assert!(again.contains(&dj), "{again}");
    bot.stop().await;
}

async fn an_ordered_closure_ends_when_the_units_report_is_approved(backend: Backend) {
    let Some((bot, registration, _, deadline)) = ordered(backend).await else {
        return;
    };
    let number = report_closure(&bot).await;
    approve_card(&bot, "liuyang", &number, "rc-leader").await;
    approve_card(&bot, "chenjing", &number, "rc-xcb").await;
    assert!(
        bot.wait_for_text("lina", &number, WAIT).await,
        "the department is told"
    );
    bot.settle(WAIT).await;
    assert_eq!(
        case_json(&bot, &registration).await["account_status"],
        "closed"
    );
    on_day(&bot, deadline, 0).await;
    bot.stop().await;
}

async fn only_the_department_may_order_a_closure(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, dj) = register(&bot).await;
    for user in ["zhangsan", "liuyang"] {
        let refused = ask(
            &bot,
            user,
            &format!("责令注销 {dj} 不想要了"),
            "仅限党委宣传部",
        )
        .await;
        assert!(refused.contains("注销"), "{refused}");
    }
    bot.settle(WAIT).await;
    assert!(
        case_json(&bot, &registration)
            .await
            .get("account_status")
            .is_none()
    );
    assert!(
        !bot.texts_to("zhangsan")
            .iter()
            .any(|t| t.contains("党委宣传部责令注销")),
        "nobody is chased"
    );
    // The department: an unknown number, a missing reason.
    ask(&bot, "lina", "责令注销 DJ-2026-0099 停更", "没有找到").await;
    ask(&bot, "lina", &format!("责令注销 {dj}"), "格式").await;
    bot.stop().await;
}

/// A 注销 report that is withdrawn, or rejected, puts the account back in use; resubmitted after
/// an edit, it is 注销中 again.
async fn a_withdrawn_or_rejected_closure_report_puts_the_account_back_in_use(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (registration, _) = register(&bot).await;
    let status = || async { case_json(&bot, &registration).await["account_status"].clone() };
    let number = report_closure(&bot).await;
    assert_eq!(status().await, "closing");
    bot.say("zhangsan", &[&format!("撤回 {number}")]).await;
    assert!(bot.wait_for_text("zhangsan", "已撤回", WAIT).await);
    bot.settle(WAIT).await;
    assert!(
        status().await.is_null(),
        "in use again (the default is not stored)"
    );

    // Edited and resubmitted: 注销中 again; then the leader rejects it: in use again.
    bot.say("zhangsan", &[&format!("修改 {number}"), "确认"])
        .await;
    until(
        "the resubmitted report marks the account closing",
        || async { status().await == "closing" },
    )
    .await;
    bot.say("liuyang", &[&format!("驳回 {number} 证明材料不全")])
        .await;
    assert!(bot.wait_for_text("zhangsan", "证明材料不全", WAIT).await);
    bot.settle(WAIT).await;
    assert!(status().await.is_null(), "in use after the rejection");
    bot.stop().await;
}
