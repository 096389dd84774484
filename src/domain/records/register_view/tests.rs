//! The department's view over the shipped scripts: paging, scopes, search and counts.

use std::path::Path;

use super::*;
use crate::domain::engine::{Answer, Answers};
use crate::domain::records::CaseStatus;

fn scripts() -> Scripts {
    Scripts::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"))
        .expect("the shipped scripts load")
}

/// Registered account `n` of unit `unit` (`tw` 团委 or `gh` 工会).
fn account(n: usize, unit: &str, platform: &str) -> Case {
    let text = |s: String| Answer::Text(s);
    let answers = Answers(vec![
        ("platform".into(), text(platform.into())),
        ("account_name".into(), text(format!("账号{n:02}"))),
        ("account_id".into(), text(format!("gh_{n:04}"))),
        (
            "admin".into(),
            Answer::Member {
                userid: "zhangsan".into(),
                name: "张三".into(),
            },
        ),
    ]);
    Case {
        number: format!("BA-2026-{n:04}"),
        flow: "registration".into(),
        scripts_version: String::new(),
        applicant: "zhangsan".into(),
        applicant_name: "张三".into(),
        unit: unit.into(),
        unit_name: if unit == "tw" { "团委" } else { "工会" }.into(),
        answers,
        summary: String::new(),
        status: CaseStatus::Approved,
        submitted_at_ms: 0,
        chain: Vec::new(),
        current_step: 0,
        round: 1,
        register_number: Some(format!("DJ-2026-{n:04}")),
        decided_at_ms: None,
        due_date: None,
        late: None,
        last_changes: Vec::new(),
        card_notes: Vec::new(),
        account_status: Default::default(),
        signed_answers: None,
    }
}

fn register() -> Vec<Case> {
    (1..=12)
        .map(|n| match n % 3 {
            0 => account(n, "gh", "微博"),
            _ => account(n, "tw", "微信公众号"),
        })
        .collect()
}

#[test]
fn the_ledger_pages_through_every_unit_for_the_department() {
    let scripts = scripts();
    let entries = entries(&scripts, &register(), &Scope::All, &[]);
    assert_eq!(entries.len(), 12);
    assert_eq!(pages(&entries), 2);
    // By unit first: 团委 and 工会 each together.
    let units: Vec<&str> = entries.iter().map(|e| e.unit.as_str()).collect();
    let switches = units.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 1, "{units:?}");
    let first = ledger(&scripts, &entries, &Scope::All, 1);
    assert!(
        first.contains("全部单位") && first.contains("第 1/2 页"),
        "{first}"
    );
    assert!(first.contains("下一页"), "{first}");
    assert_eq!(first.matches("DJ-2026-").count(), PAGE_SIZE);
    let second = ledger(&scripts, &entries, &Scope::All, 2);
    assert_eq!(second.matches("DJ-2026-").count(), 2);
    assert!(!second.contains("下一页"), "{second}");
}

#[test]
fn a_unit_leader_sees_only_their_units() {
    let scripts = scripts();
    let scope = Scope::Units(vec![("gh".into(), "工会".into())]);
    let entries = entries(&scripts, &register(), &scope, &[]);
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|e| e.unit == "工会"));
    let page = ledger(&scripts, &entries, &scope, 1);
    assert!(page.contains("（工会，共 4 个）"), "{page}");
    assert!(!page.contains("团委"), "{page}");
}

#[test]
fn search_matches_name_id_unit_and_people() {
    let scripts = scripts();
    let entries = entries(&scripts, &register(), &Scope::All, &[]);
    let hits = |w: &str| entries.iter().filter(|e| matches(e, w)).count();
    assert_eq!(hits("账号07"), 1);
    assert_eq!(hits("GH_0007"), 1, "IDs ignore case");
    assert_eq!(hits("工会"), 4);
    assert_eq!(hits("张三"), 12);
    assert_eq!(hits("李四"), 0);
    let text = search(&scripts, &entries, "李四");
    assert!(text.contains("没有找到与“李四”相关的账号"), "{text}");
}

#[test]
fn stats_count_by_unit_platform_and_status() {
    let scripts = scripts();
    let mut register = register();
    register[1].account_status = AccountStatus::Closed;
    let changing = ["DJ-2026-0001".to_owned()];
    let entries = entries(&scripts, &register, &Scope::All, &changing);
    let text = stats(&scripts, &entries, &Scope::All, 3, 1);
    for shown in [
        "已登记账号：12 个",
        "团委 8；工会 4",
        "微信公众号 8；微博 4",
        "在用 10；变更审批中 1；已注销 1",
        "审批中的事项：3 件",
        "未完成的变更报备任务：1 件",
    ] {
        assert!(text.contains(shown), "{shown} not in {text}");
    }
}

#[test]
fn details_show_every_answer_in_field_order() {
    let scripts = scripts();
    let text = details(&scripts, &account(7, "tw", "微信公众号"));
    assert!(
        text.contains("BA-2026-0007（登记编号 DJ-2026-0007）"),
        "{text}"
    );
    let name = text.find("账号名称：账号07").expect("the name");
    let admin = text.find("管理员姓名：张三").expect("the administrator");
    assert!(name < admin, "{text}");
}

#[test]
fn a_pending_change_report_marks_its_account_as_changing() {
    let scripts = scripts();
    let mut report = account(20, "tw", "官方微信");
    report.flow = "change_report".into();
    report.status = CaseStatus::Pending;
    report.register_number = None;
    report.answers = Answers(vec![(
        "account".into(),
        Answer::Ref {
            id: "DJ-2026-0007".into(),
            name: "账号07".into(),
        },
    )]);
    assert_eq!(
        accounts_changing(&scripts, &[report.clone()]),
        ["DJ-2026-0007"]
    );
    // A registration being approved changes no account.
    let mut filing = report;
    filing.flow = "registration".into();
    assert!(accounts_changing(&scripts, &[filing]).is_empty());
}
