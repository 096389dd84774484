//! Unit tests of repost tasks: the command and the accounts a scope reaches.

use super::*;

pub(crate) fn target(
    account: &str,
    unit: &str,
    unit_name: &str,
    platform: &str,
    admin: &str,
) -> Target {
    Target {
        account: account.into(),
        account_name: format!("{unit_name}{platform}"),
        platform: platform.into(),
        unit: unit.into(),
        unit_name: unit_name.into(),
        admin: admin.into(),
        admin_name: admin.into(),
        card: format!("card-{account}"),
        answer: Answer::Pending,
        answered_at_ms: None,
    }
}

pub(crate) fn task(targets: Vec<Target>) -> Task {
    Task {
        number: "ZF-2026-0001".into(),
        link: "https://mp.weixin.qq.com/s/post".into(),
        note: "请转发".into(),
        by: "chenjing".into(),
        by_name: "陈静".into(),
        scope: "全部".into(),
        created_at_ms: 0,
        deadline_ms: 1,
        deadline: "2026-12-01 17:30".into(),
        targets,
        closed: false,
    }
}

#[test]
fn the_command_needs_a_link_a_deadline_a_scope_and_a_note() {
    assert_eq!(
        parse("转发任务 https://x.example/p 24小时 全部 请各账号转发"),
        Some(Command::Open {
            link: "https://x.example/p".into(),
            due: Due::Hours(24),
            scope: Scope::All,
            scope_text: "全部".into(),
            note: "请各账号转发".into(),
        })
    );
    let Some(Command::Open { due, scope, .. }) =
        parse("转发任务  https://x.example/p ２个工作日 微信公众号、团委 转发 并评论")
    else {
        panic!("a scoped task");
    };
    assert_eq!(due, Due::WorkingDays(2));
    assert_eq!(
        scope,
        Scope::Named(vec!["微信公众号".into(), "团委".into()])
    );
    for bad in [
        "转发任务",
        "转发任务 x.example 24小时 全部 说明",
        "转发任务 https://x.example/p 明天 全部 说明",
        "转发任务 https://x.example/p 0小时 全部 说明",
        "转发任务 https://x.example/p 24小时 全部",
    ] {
        assert_eq!(parse(bad), Some(Command::Usage), "{bad}");
    }
    assert_eq!(
        parse("转发 进度 zf-2026-0001"),
        Some(Command::Progress {
            task: "ZF-2026-0001".into()
        })
    );
    assert_eq!(
        parse("导出 转发 ZF-2026-0001"),
        Some(Command::Export {
            task: "ZF-2026-0001".into()
        })
    );
    assert_eq!(parse("导出 台账"), None);
    assert_eq!(parse("转发"), None);
}

#[test]
fn a_scope_reaches_accounts_in_use_of_its_platforms_or_units() {
    let account = |n: &str, platform: &str, unit_name: &str, in_use: bool| Account {
        register_number: n.into(),
        name: n.into(),
        platform: platform.into(),
        unit: unit_name.into(),
        unit_name: unit_name.into(),
        admin: Some(("u".into(), "U".into())),
        in_use,
    };
    let accounts = vec![
        account("DJ-1", "微信公众号", "团委", true),
        account("DJ-2", "抖音", "工会", true),
        account("DJ-3", "抖音", "团委", false),
    ];
    let numbers = |scope: &Scope| -> Vec<String> {
        select(&accounts, scope)
            .unwrap()
            .iter()
            .map(|a| a.register_number.clone())
            .collect()
    };
    assert_eq!(numbers(&Scope::All), ["DJ-1", "DJ-2"]);
    assert_eq!(numbers(&Scope::Named(vec!["抖音".into()])), ["DJ-2"]);
    assert_eq!(numbers(&Scope::Named(vec!["团委".into()])), ["DJ-1"]);
    assert_eq!(
        select(&accounts, &Scope::Named(vec!["快手".into(), "团委".into()])).unwrap_err(),
        ["快手"]
    );
}
