//! The assessment over hand-made records and the shipped `[assessment]`: the year is taken in
//! Shanghai, withdrawn reports do not count, the optional columns (annual review, incidents,
//! reposts) are there only with their records, and each rule gives its reason.

use std::path::Path;

use chrono::TimeZone;

use super::*;
use crate::base::scripts::Scripts;
use crate::domain::annual::Outcome;
use crate::domain::engine::Answers;
use crate::domain::incidents::Status;
use crate::domain::records::export::Cell;
use crate::domain::reposts::Answer;
use crate::domain::reposts::tests::{target, task};

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
        annual: None,
        incidents: None,
        reposts: None,
    };
    let figures = figures(2026, chrono_tz::Asia::Shanghai, records);
    assert_eq!(figures.columns, Columns::default());
    let tw = UnitFigures {
        unit: "tw".into(),
        unit_name: "团委".into(),
        accounts_in_use: 2,
        registered: 1,
        changes_on_time: 1,
        changes_late: 1,
        closures_ordered: 0,
        ..Default::default()
    };
    let gh = UnitFigures {
        unit: "gh".into(),
        unit_name: "工会".into(),
        accounts_in_use: 1,
        registered: 2,
        changes_on_time: 1,
        changes_late: 0,
        closures_ordered: 1,
        ..Default::default()
    };
    // By name: 团委 (U+56E2) before 工会 (U+5DE5).
    assert_eq!(figures.units, [tw, gh]);
}

fn result(unit: &str, n: u32, outcome: Outcome) -> AccountResult {
    AccountResult {
        year: 2026,
        task: format!("NS-2026-DJ-2026-{n:04}"),
        unit: unit.into(),
        unit_name: if unit == "tw" { "团委" } else { "工会" }.into(),
        register_number: format!("DJ-2026-{n:04}"),
        account_name: format!("账号{n}"),
        due: vec!["zhangsan".into()],
        due_names: "张三".into(),
        report: outcome.filed().then(|| format!("NB-2026-{n:04}")),
        outcome,
        note: None,
        fix_by: None,
        closure: None,
    }
}

/// An incident of `unit` reported at `reported`, acknowledged and closed `ack` and `close`
/// minutes later.
fn incident(unit: Option<&str>, reported: i64, ack: Option<i64>, close: Option<i64>) -> Incident {
    Incident {
        number: "YQ-2026-0001".into(),
        reporter: "zhangsan".into(),
        reporter_name: "张三".into(),
        unit: unit.map(Into::into),
        unit_name: "团委".into(),
        account: "团委青年之声".into(),
        what: "不实信息".into(),
        links: Vec::new(),
        evidence: Vec::new(),
        severity: None,
        status: if close.is_some() {
            Status::Closed
        } else {
            Status::Open
        },
        reported_ms: reported,
        acknowledged_ms: ack.map(|m| reported + m * 60_000),
        acknowledged_by: ack.map(|_| "lina".into()),
        closed_ms: close.map(|m| reported + m * 60_000),
        cards: Vec::new(),
        escalations: Vec::new(),
    }
}

#[test]
fn the_optional_columns_count_results_incidents_and_coverage() {
    let register = [entry(1, "tw", at(2026, 1, 5, 10), AccountStatus::InUse)];
    let annual = [
        result("tw", 1, Outcome::Passed),
        result("tw", 2, Outcome::Rectifying),
        result("tw", 3, Outcome::Failed),
        result("tw", 4, Outcome::NotFiled),
        result("tw", 5, Outcome::Approved),
        // Still missing in an open campaign: not 未报 yet.
        result("gh", 6, Outcome::Missing),
    ];
    let incidents = [
        incident(Some("tw"), at(2026, 3, 1, 10), Some(10), Some(100)),
        incident(Some("tw"), at(2026, 4, 1, 10), Some(30), None),
        incident(Some("tw"), at(2026, 5, 1, 10), Some(5), Some(40)),
        incident(Some("tw"), at(2026, 6, 1, 10), None, None),
        // Another year, and a reporter of no unit: not counted.
        incident(Some("tw"), at(2025, 6, 1, 10), Some(1), Some(1)),
        incident(None, at(2026, 6, 1, 10), Some(1), Some(1)),
    ];
    let mut this_year = task(vec![
        target("DJ-1", "tw", "团委", "微信公众号", "zhangsan"),
        target("DJ-2", "tw", "团委", "抖音", "zhangsan"),
        target("DJ-3", "gh", "工会", "微信公众号", "zhangwei"),
    ]);
    this_year.created_at_ms = at(2026, 9, 1, 10);
    this_year.targets[0].answer = Answer::Done { link: None };
    this_year.targets[2].answer = Answer::Done { link: None };
    let mut last_year = this_year.clone();
    last_year.created_at_ms = at(2025, 9, 1, 10);
    let tasks = [this_year, last_year];
    let records = Records {
        register: &register,
        cases: &[],
        duties: &[],
        annual: Some(&annual),
        incidents: Some(&incidents),
        reposts: Some(&tasks),
    };
    let f = figures(2026, chrono_tz::Asia::Shanghai, records);
    let all = Columns {
        annual: true,
        incidents: true,
        reposts: true,
    };
    assert_eq!(f.columns, all);
    let tw = &f.units[0];
    assert_eq!(tw.unit_name, "团委");
    let expected = AnnualFigures {
        filed: 4,
        passed: 1,
        rectifying: 1,
        failed: 1,
        not_filed: 1,
    };
    assert_eq!(tw.annual, expected);
    // Acknowledged after 5, 10, 30 minutes: 10; closed after 40 and 100: 70.
    let times = IncidentFigures {
        reported: 4,
        ack_minutes: Some(10),
        close_minutes: Some(70),
    };
    assert_eq!(tw.incidents, times);
    assert_eq!(tw.reposts, RepostFigures { due: 2, done: 1 });
    assert_eq!(tw.reposts.percent(), Some(50));
    assert_eq!(tw.breaches(Rule::NoFailedAnnualReview), 2);
    assert_eq!(tw.breaches(Rule::MinRepostCoverage { percent: 80 }), 1);
    assert_eq!(tw.breaches(Rule::MinRepostCoverage { percent: 50 }), 0);
    let gh = &f.units[1];
    assert_eq!((gh.annual.filed, gh.annual.not_filed), (0, 0));
    assert_eq!(gh.breaches(Rule::NoFailedAnnualReview), 0);
    assert_eq!(gh.incidents, IncidentFigures::default());
    assert_eq!(gh.reposts.percent(), Some(100));
    // A unit no task reached keeps the coverage rule.
    assert_eq!(RepostFigures::default().percent(), None);
    let none = UnitFigures::default();
    assert_eq!(none.breaches(Rule::MinRepostCoverage { percent: 80 }), 0);
}

#[test]
fn the_median_takes_the_middle_or_the_mean_of_the_two() {
    assert_eq!(sections::median(&mut []), None);
    assert_eq!(sections::median(&mut [7]), Some(7));
    assert_eq!(sections::median(&mut [9, 1, 5]), Some(5));
    assert_eq!(sections::median(&mut [40, 100, 1, 3]), Some(21));
}

fn texts(t: &crate::domain::records::export::Table) -> Vec<Vec<String>> {
    t.rows
        .iter()
        .map(|r| r.iter().map(Cell::text).collect())
        .collect()
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
    let figures = Figures {
        columns: Columns::default(),
        units: vec![clean, broke],
    };
    let t = table(&scripts, &def, 2026, &figures);
    assert_eq!(t.sheet, "2026年度新媒体考核");
    let texts = texts(&t);
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

#[test]
fn the_optional_columns_and_their_rules_on_the_sheet() {
    let scripts = scripts();
    let def = scripts.assessment.clone().expect("[assessment] is shipped");
    let tw = UnitFigures {
        unit: "tw".into(),
        unit_name: "团委".into(),
        accounts_in_use: 4,
        annual: AnnualFigures {
            filed: 3,
            passed: 1,
            rectifying: 1,
            failed: 1,
            not_filed: 1,
        },
        incidents: IncidentFigures {
            reported: 1,
            ack_minutes: Some(10),
            close_minutes: None,
        },
        reposts: RepostFigures { due: 4, done: 1 },
        ..Default::default()
    };
    let gh = UnitFigures {
        unit: "gh".into(),
        unit_name: "工会".into(),
        accounts_in_use: 1,
        ..Default::default()
    };
    let figures = Figures {
        columns: Columns {
            annual: true,
            incidents: true,
            reposts: true,
        },
        units: vec![tw, gh],
    };
    let t = table(&scripts, &def, 2026, &figures);
    assert_eq!(
        t.headers[6..],
        [
            "年度报告已报数",
            "年审合格数",
            "年审需整改数",
            "年审不合格数",
            "年审未报数",
            "舆情上报数",
            "舆情确认用时中位数（分钟）",
            "舆情办结用时中位数（分钟）",
            "转发任务应转发数",
            "转发任务已转发数",
            "转发完成率",
            "可评先进",
            "不可评先进的原因"
        ]
    );
    let texts = texts(&t);
    assert_eq!(
        texts[0][6..],
        [
            "3",
            "1",
            "1",
            "1",
            "1",
            "1",
            "10",
            "",
            "4",
            "1",
            "25%",
            "否",
            "有2个账号年审不合格或未按时报送年度报告；转发任务完成率为25%，未达到80%"
        ]
    );
    // Nothing due, nothing timed: empty cells, and 工会 may be rated advanced.
    assert_eq!(
        texts[1][6..],
        ["0", "0", "0", "0", "0", "0", "", "", "0", "0", "", "是", ""]
    );
    // Only the incident columns: the others are left out, not zero.
    let only = Figures {
        columns: Columns {
            incidents: true,
            ..Columns::default()
        },
        units: figures.units.clone(),
    };
    let t = table(&scripts, &def, 2026, &only);
    assert_eq!(t.headers.len(), 11);
    assert_eq!(t.headers[6], "舆情上报数");
    assert_eq!(t.rows[0].len(), 11);
}
