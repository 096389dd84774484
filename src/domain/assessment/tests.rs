//! The assessment over hand-made records and the shipped `[assessment]`: the year is taken in
//! Shanghai, withdrawn reports do not count, and each rule gives its reason.

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::domain::engine::Answers;

fn scripts() -> Scripts {
    Scripts::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"))
        .expect("the shipped scripts load")
}

/// Milliseconds at a Shanghai local time.
fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .timestamp_millis()
}

fn case(number: &str, unit: &str, submitted_at_ms: i64) -> Case {
    Case {
        number: number.into(),
        flow: "change_report".into(),
        scripts_version: String::new(),
        applicant: "zhangsan".into(),
        applicant_name: "张三".into(),
        unit: unit.into(),
        unit_name: if unit == "tw" { "团委" } else { "工会" }.into(),
        answers: Answers(Vec::new()),
        summary: String::new(),
        status: CaseStatus::Approved,
        submitted_at_ms,
        chain: Vec::new(),
        current_step: 0,
        round: 1,
        register_number: None,
        decided_at_ms: None,
        due_date: None,
        late: None,
        last_changes: Vec::new(),
        card_notes: Vec::new(),
        account_status: AccountStatus::InUse,
        signed_answers: None,
    }
}

fn entry(n: u32, unit: &str, registered_ms: i64, status: AccountStatus) -> Case {
    Case {
        flow: "registration".into(),
        register_number: Some(format!("DJ-2026-{n:04}")),
        decided_at_ms: Some(registered_ms),
        account_status: status,
        ..case(&format!("BA-2026-{n:04}"), unit, registered_ms)
    }
}

fn report(n: u32, unit: &str, ms: i64, late: bool, status: CaseStatus) -> Case {
    Case {
        late: Some(late),
        status,
        ..case(&format!("BG-2026-{n:04}"), unit, ms)
    }
}

fn order(unit: &str, opened_at_ms: i64) -> Duty {
    Duty {
        number: "RW-2026-0001".into(),
        kind: CLOSURE_ORDER.into(),
        unit: unit.into(),
        unit_name: "工会".into(),
        account: "DJ-2026-0003".into(),
        account_name: "工会之声".into(),
        person: String::new(),
        role: String::new(),
        event: "违规".into(),
        due: Vec::new(),
        deadline: "2026-06-10".into(),
        opened_at_ms,
        done: false,
        timers: Vec::new(),
        ordered_by: Some("chenjing".into()),
        evidence: None,
        campaign: None,
    }
}

#[test]
fn figures_count_the_year_in_the_company_time_zone() {
    let register = [
        // Registered 2025-12-31 23:00 UTC = 2026-01-01 07:00 in Shanghai: in 2026.
        entry(1, "tw", at(2026, 1, 1, 7), AccountStatus::InUse),
        entry(2, "tw", at(2025, 12, 31, 10), AccountStatus::Changing),
        entry(3, "gh", at(2026, 3, 1, 10), AccountStatus::Closed),
        entry(4, "gh", at(2026, 3, 2, 10), AccountStatus::Closing),
    ];
    let cases = [
        report(1, "tw", at(2026, 2, 1, 10), false, CaseStatus::Approved),
        report(2, "tw", at(2026, 5, 1, 10), true, CaseStatus::Pending),
        // Withdrawn, or filed in 2025: not counted.
        report(3, "tw", at(2026, 5, 2, 10), true, CaseStatus::Withdrawn),
        report(4, "gh", at(2025, 12, 31, 23), true, CaseStatus::Approved),
        report(5, "gh", at(2026, 7, 1, 10), false, CaseStatus::Rejected),
    ];
    let duties = [
        order("gh", at(2026, 6, 1, 10)),
        order("gh", at(2025, 6, 1, 10)),
    ];
    let records = Records {
        register: &register,
        cases: &cases,
        duties: &duties,
    };
    let figures = figures(2026, chrono_tz::Asia::Shanghai, records);
    let tw = UnitFigures {
        unit: "tw".into(),
        unit_name: "团委".into(),
        accounts_in_use: 2,
        registered: 1,
        changes_on_time: 1,
        changes_late: 1,
        closures_ordered: 0,
    };
    let gh = UnitFigures {
        unit: "gh".into(),
        unit_name: "工会".into(),
        accounts_in_use: 1,
        registered: 2,
        changes_on_time: 1,
        changes_late: 0,
        closures_ordered: 1,
    };
    // By name: 团委 (U+56E2) before 工会 (U+5DE5).
    assert_eq!(figures, [tw, gh]);
}

#[test]
fn the_sheet_and_its_verdicts() {
    let scripts = scripts();
    let def = scripts.assessment.clone().expect("[assessment] is shipped");
    let clean = UnitFigures {
        unit: "tw".into(),
        unit_name: "团委".into(),
        accounts_in_use: 3,
        registered: 1,
        changes_on_time: 2,
        ..Default::default()
    };
    let broke = UnitFigures {
        unit: "gh".into(),
        unit_name: "工会".into(),
        accounts_in_use: 1,
        changes_late: 2,
        closures_ordered: 1,
        ..Default::default()
    };
    assert!(reasons(&scripts, &def, &clean).is_empty());
    let t = table(&scripts, &def, 2026, &[clean, broke]);
    assert_eq!(t.sheet, "2026年度新媒体考核");
    let texts: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(Cell::text).collect())
        .collect();
    assert_eq!(
        t.headers,
        [
            "单位",
            "在用账号数",
            "年内新登记账号数",
            "按期变更报备数",
            "逾期变更报备数",
            "责令注销数",
            "可评先进",
            "不可评先进的原因"
        ]
    );
    assert_eq!(texts[0], ["团委", "3", "1", "2", "0", "0", "是", ""]);
    assert_eq!(
        texts[1],
        [
            "工会",
            "1",
            "0",
            "0",
            "2",
            "1",
            "否",
            "有2次变更逾期报备；有1个账号被责令注销"
        ]
    );
}
