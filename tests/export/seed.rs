//! Four registrations written straight into an embedded store, as the approval flow leaves them:
//! two registered accounts (BA-2026-0001 → DJ-2026-0001, BA-2026-0004 → DJ-2026-0002), one
//! waiting for the propaganda department, one rejected by the unit leader. Moments are chosen so
//! that the UTC date and the Shanghai date differ.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::{Commit, CommitOutcome, Enqueue, NewEvent, Store};
use flowbot::base::scripts::SignMode;
use flowbot::dispatch::CaseWrites;
use flowbot::domain::engine::{Answer, Answers};
use flowbot::domain::records::{
    self, ApprovalStep, Case, CaseStatus, Decision, HistoryKind, REGISTER,
};

/// A moment given in UTC, as ms.
pub fn utc_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, 0))
        .expect("a valid moment")
        .and_utc()
        .timestamp_millis()
}

/// 2026-11-27 17:30 UTC = 2026-11-28 01:30 in Shanghai.
pub fn submitted_ms() -> i64 {
    utc_ms(2026, 11, 27, 17, 30)
}
/// 2026-11-28 02:00 UTC = 10:00 in Shanghai.
pub fn leader_ms() -> i64 {
    utc_ms(2026, 11, 28, 2, 0)
}
/// 2026-11-29 16:10 UTC = 2026-11-30 00:10 in Shanghai.
pub fn propaganda_ms() -> i64 {
    utc_ms(2026, 11, 29, 16, 10)
}

/// The account name of the first case: a quote, a comma and a line break (CSV quoting).
pub const TRICKY_NAME: &str = "青春\"团委\", 官方\n第二行";
/// The content scope of the first case: an HTML injection attempt.
pub const INJECTION: &str = "<script>alert('x')</script>宣传团委工作动态";
/// The account name of the pending case: a spreadsheet formula.
pub const FORMULA: &str = "=HYPERLINK(\"http://evil.example\")";

fn text(s: &str) -> Answer {
    Answer::Text(s.into())
}

fn member(userid: &str, name: &str) -> Answer {
    Answer::Member {
        userid: userid.into(),
        name: name.into(),
    }
}

fn phone(area: &str, number: &str, ext: Option<&str>) -> Answer {
    Answer::Phone {
        area: area.into(),
        number: number.into(),
        ext: ext.map(Into::into),
    }
}

fn answers(unit: (&str, &str), platform: Answer, name: &str, scope: &str) -> Answers {
    let mut a = Answers::default();
    let unit = Answer::Ref {
        id: unit.0.into(),
        name: unit.1.into(),
    };
    a.set("unit", unit);
    a.set("created_on", Answer::Date("2026-11-28".into()));
    a.set("platform", platform);
    a.set("account_name", text(name));
    a.set("account_id", text("gh_1234567890ab"));
    a.set("link", text("https://weibo.example/u/1?a=1&b=2"));
    a.set("certified", Answer::Bool(true));
    a.set("cert_docs", text("单位介绍信"));
    a.set("scope", text(scope));
    a.set("leader", member("wangqiang", "王强"));
    a.set("leader_phone", phone("010", "12345678", None));
    a.set("leader_mobile", text("13800138000"));
    a.set("admin", member("zhangsan", "张三"));
    a.set("admin_phone", phone("010", "12345678", Some("123")));
    a.set("admin_mobile", text("13900139000"));
    a.set("admin_email", text("zhangsan@example.com"));
    a
}

fn decision(by: &str, name: &str, approve: bool, reason: Option<&str>, at_ms: i64) -> Decision {
    Decision {
        by: by.into(),
        by_name: name.into(),
        approve,
        reason: reason.map(Into::into),
        at_ms,
    }
}

fn step(label: &str, role: &str, who: &str, decisions: Vec<Decision>) -> ApprovalStep {
    ApprovalStep {
        label: label.into(),
        role: role.into(),
        mode: SignMode::Any,
        assignees: vec![who.into()],
        task_ids: vec![format!("task-{who}-{label}")],
        opened_at_ms: Some(submitted_ms()),
        deadline_ms: None,
        decisions,
        last_urged_ms: None,
        skipped: false,
    }
}

fn chain(leader: Vec<Decision>, propaganda: Vec<Decision>) -> Vec<ApprovalStep> {
    vec![
        step("单位主要负责人审批", "unit_leader", "wangqiang", leader),
        step("党委宣传部审核", "propaganda", "lixuan", propaganda),
    ]
}

fn case(number: &str, unit: (&str, &str), answers: Answers, status: CaseStatus) -> Case {
    Case {
        number: number.into(),
        flow: "registration".into(),
        scripts_version: "test".into(),
        applicant: "zhangsan".into(),
        applicant_name: "张三".into(),
        unit: unit.0.into(),
        unit_name: unit.1.into(),
        answers,
        summary: String::new(),
        status,
        submitted_at_ms: submitted_ms(),
        chain: Vec::new(),
        current_step: 0,
        round: 1,
        register_number: None,
        decided_at_ms: None,
        last_changes: Vec::new(),
        card_notes: Vec::new(),
        account_status: Default::default(),
        signed_answers: None,
        due_date: None,
        late: None,
    }
}

/// The four cases, in filing order.
pub fn cases() -> Vec<Case> {
    let tw = ("tw", "团委");
    let other = Answer::Choice {
        value: "其他".into(),
        other: Some("抖音".into()),
    };
    let mut registered = case(
        "BA-2026-0001",
        tw,
        answers(tw, other, TRICKY_NAME, INJECTION),
        CaseStatus::Approved,
    );
    registered.chain = chain(
        vec![decision("wangqiang", "王强", true, None, leader_ms())],
        vec![decision("lixuan", "李宣", true, None, propaganda_ms())],
    );
    registered.current_step = 1;
    registered.register_number = Some("DJ-2026-0001".into());
    registered.decided_at_ms = Some(propaganda_ms());

    let gh = ("gh", "工会");
    let wechat = || Answer::Choice {
        value: "官方微信".into(),
        other: None,
    };
    let mut pending = case(
        "BA-2026-0002",
        gh,
        answers(gh, wechat(), FORMULA, "发布工会活动通知。"),
        CaseStatus::Pending,
    );
    pending.chain = chain(
        vec![decision("wangqiang", "王强", true, None, leader_ms())],
        vec![],
    );
    pending.current_step = 1;

    let mut rejected = case(
        "BA-2026-0003",
        gh,
        answers(gh, wechat(), "工会小号", "发布工会活动通知。"),
        CaseStatus::Rejected,
    );
    let no = decision("wangqiang", "王强", false, Some("名称不规范"), leader_ms());
    rejected.chain = chain(vec![no], vec![]);
    rejected.decided_at_ms = Some(leader_ms());

    let mut second = case(
        "BA-2026-0004",
        gh,
        answers(gh, wechat(), "工会之声", "发布工会活动通知。"),
        CaseStatus::Approved,
    );
    second.chain = chain(
        vec![decision("wangqiang", "王强", true, None, leader_ms())],
        vec![decision(
            "lixuan",
            "李宣",
            true,
            None,
            propaganda_ms() + 60_000,
        )],
    );
    second.current_step = 1;
    second.register_number = Some("DJ-2026-0002".into());
    second.decided_at_ms = Some(propaganda_ms() + 60_000);
    vec![registered, pending, rejected, second]
}

/// Files `cases` in one committed event: bodies, history, the `all`/applicant/unit indexes and,
/// for registered ones, the register.
pub async fn write(store: &Arc<dyn Store>, cases: &[Case]) {
    let writes = cases
        .iter()
        .map(|c| {
            let mut w = c.filing();
            if let Some(n) = &c.register_number {
                let kind = HistoryKind::Registered {
                    register_number: n.clone(),
                };
                w.history
                    .push(records::history(c.decided_at_ms.unwrap(), "lixuan", kind));
                w.add_to.push(REGISTER.to_owned());
                w.add_to.push(records::register_number_index(n));
                w.add_to.push(records::unit_register_index(&c.unit));
            }
            w
        })
        .collect();
    let event = NewEvent {
        conversation: "seed".into(),
        payload: "seed".into(),
    };
    let now = submitted_ms();
    let ttl = Duration::from_secs(3600);
    let queued = store
        .dedupe_and_enqueue("seed", ttl, &event, now)
        .await
        .unwrap();
    assert!(matches!(queued, Enqueue::Accepted { .. }));
    let claimed = store
        .claim_event(now, ttl)
        .await
        .unwrap()
        .expect("the seed event");
    let commit = Commit {
        cases: writes,
        ..Default::default()
    };
    let done = store.complete_event(&claimed, &commit, now).await.unwrap();
    assert_eq!(done, CommitOutcome::Committed);
}

/// A fresh embedded store in `dir` holding the four cases; closed again on return (its file
/// lock released) so the binary can open it.
pub async fn seeded(dir: &Path) {
    let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(dir).expect("open the store"));
    write(&store, &cases()).await;
}
