//! The chain over the shipped registration flow (two steps: the unit's leaders, then the
//! propaganda department), with the first step as or-sign (或签, as shipped) or all-sign (会签).

use std::path::Path;

use super::*;
use crate::domain::engine::Answers;

const T0: i64 = 1_780_000_000_000;
const NUMBER: &str = "BA-2026-0001";

fn scripts() -> Scripts {
    Scripts::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"))
        .expect("the shipped scripts load")
}

/// The registration flow with its first step in `mode`; `registers` keeps or drops the
/// register number on final approval.
fn flow(scripts: &Scripts, mode: SignMode, registers: bool) -> FlowDef {
    let mut flow = scripts.flows.get("registration").expect("shipped").clone();
    assert_eq!(flow.approval.len(), 2);
    flow.approval[0].mode = mode;
    flow.registers_account = registers;
    flow
}

/// A case filed by 张三 with its chain opened: step 0 to `first`, step 1 to 陈静 and 李娜.
fn filed(scripts: &Scripts, flow: &FlowDef, first: &[&str]) -> (Case, Change) {
    let mut case = Case {
        number: NUMBER.into(),
        flow: flow.id.clone(),
        scripts_version: scripts.version.clone(),
        applicant: "zhangsan".into(),
        applicant_name: "张三".into(),
        unit: "tw".into(),
        unit_name: "团委".into(),
        answers: Answers::default(),
        summary: String::new(),
        status: CaseStatus::Pending,
        submitted_at_ms: T0,
        chain: Vec::new(),
        current_step: 0,
        round: 1,
        register_number: None,
        decided_at_ms: None,
        due_date: None,
        late: None,
        last_changes: Vec::new(),
        card_notes: Vec::new(),
        account_status: Default::default(),
        signed_answers: None,
    };
    let people = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let assignees = vec![people(first), people(&["chenjing", "lina"])];
    let tasks = vec!["task-0".to_owned(), "task-1".to_owned()];
    let change = open(
        scripts,
        flow,
        &mut case,
        (assignees, tasks, vec![false; 2]),
        T0,
    );
    (case, change)
}

fn texts_to(change: &Change, who: &str) -> Vec<String> {
    change
        .messages
        .iter()
        .filter_map(|m| match m {
            Reply::Text { to, text, .. } if to == who => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn cards(change: &Change) -> Vec<Vec<String>> {
    change
        .messages
        .iter()
        .filter_map(|m| match m {
            Reply::Card { to, .. } => Some(to.clone()),
            _ => None,
        })
        .collect()
}

fn card(task: &str, code: &str) -> Via {
    Via::Card {
        task_id: task.into(),
        response_code: code.into(),
    }
}

fn approve(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &mut Case,
    who: (&str, &str),
    via: &Via,
) -> Result<Change, Refusal> {
    decide(
        scripts,
        flow,
        case,
        who,
        Verdict::Approve,
        None,
        via,
        None,
        T0 + 1,
    )
}

/// An all-sign first step for 刘洋 and 张伟, which 刘洋 has approved.
fn all_sign_half_approved(scripts: &Scripts) -> (FlowDef, Case) {
    let flow = flow(scripts, SignMode::All, false);
    let (mut case, _) = filed(scripts, &flow, &["liuyang", "zhangwei"]);
    approve(scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    (flow, case)
}

#[test]
fn opening_the_chain_sends_the_first_steps_card_and_indexes_it() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (case, change) = filed(&scripts, &flow, &["liuyang", "zhangwei"]);
    assert_eq!(case.status, CaseStatus::Pending);
    assert_eq!((case.current_step, case.chain.len()), (0, 2));
    assert_eq!(case.chain[0].opened_at_ms, Some(T0));
    assert_eq!(
        case.chain[1].opened_at_ms, None,
        "the next step is not open yet"
    );
    assert_eq!(cards(&change), [vec!["liuyang", "zhangwei"]]);
    assert_eq!(
        change.add_to,
        [pending_index("liuyang"), pending_index("zhangwei")]
    );
}

#[test]
fn an_or_sign_step_closes_on_the_first_approval() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang", "zhangwei"]);
    let change = approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    assert_eq!(case.current_step, 1, "the next step is open");
    assert_eq!(case.status, CaseStatus::Pending);
    assert_eq!(cards(&change), [vec!["chenjing", "lina"]]);
    assert!(texts_to(&change, "zhangwei")[0].contains("已由刘洋同意"));
    assert!(texts_to(&change, "zhangsan")[0].contains("已通过“单位主要负责人审批”"));
    assert!(change.remove_from.contains(&pending_index("zhangwei")));
    assert_eq!(
        approve(&scripts, &flow, &mut case, ("zhangwei", "张伟"), &Via::Text).unwrap_err(),
        Refusal::NotAssignee,
        "the closed step's other approver decides nothing"
    );
}

#[test]
fn an_all_sign_step_opens_the_next_only_when_every_assignee_approved() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::All, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang", "zhangwei"]);

    // 刘洋 taps 同意: his card alone is greyed out, the step stays open for 张伟.
    let first = approve(
        &scripts,
        &flow,
        &mut case,
        ("liuyang", "刘洋"),
        &card("task-0", "rc-1"),
    );
    let first = first.unwrap();
    assert_eq!((case.current_step, case.status), (0, CaseStatus::Pending));
    assert!(cards(&first).is_empty(), "no card for the next step yet");
    assert!(
        texts_to(&first, "zhangsan").is_empty(),
        "the applicant hears nothing yet"
    );
    assert!(texts_to(&first, "zhangwei").is_empty());
    assert!(matches!(
        first.messages.first(),
        Some(Reply::CloseCard { members, .. }) if members == &["liuyang"]
    ));
    assert_eq!(first.remove_from, [pending_index("liuyang")]);
    assert_eq!(
        approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap_err(),
        Refusal::AlreadyDecided,
        "one decision per assignee"
    );

    // 张伟 approves too: the step closes and the propaganda department gets its card.
    let second = approve(&scripts, &flow, &mut case, ("zhangwei", "张伟"), &Via::Text).unwrap();
    assert_eq!(case.current_step, 1);
    assert_eq!(case.chain[0].decisions.len(), 2);
    assert_eq!(cards(&second), [vec!["chenjing", "lina"]]);
    assert!(texts_to(&second, "zhangsan")[0].contains("已通过“单位主要负责人审批”"));
    assert!(texts_to(&second, "liuyang")[0].contains("已由张伟同意"));
}

#[test]
fn one_rejection_rejects_an_all_sign_step() {
    let scripts = scripts();
    let (flow, mut case) = all_sign_half_approved(&scripts);
    let reason = Some("账号名称需体现单位全称".to_owned());
    let change = decide(
        &scripts,
        &flow,
        &mut case,
        ("zhangwei", "张伟"),
        Verdict::Reject,
        reason,
        &Via::Text,
        None,
        T0 + 2,
    )
    .unwrap();
    assert_eq!(case.status, CaseStatus::Rejected);
    assert_eq!((case.current_step, case.decided_at_ms), (0, Some(T0 + 2)));
    assert!(cards(&change).is_empty(), "the next step never opens");
    let told = texts_to(&change, "zhangsan");
    assert!(told[0].contains("未通过") && told[0].contains("账号名称需体现单位全称"));
    for person in ["liuyang", "zhangwei"] {
        assert!(change.remove_from.contains(&pending_index(person)));
    }
}

#[test]
fn an_all_sign_rejection_before_anyone_approved_closes_the_step_at_once() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::All, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang", "zhangwei"]);
    let via = card("task-0", "rc-no");
    let change = decide(
        &scripts,
        &flow,
        &mut case,
        ("liuyang", "刘洋"),
        Verdict::Reject,
        None,
        &via,
        None,
        T0,
    )
    .unwrap();
    assert_eq!(case.status, CaseStatus::Rejected);
    assert!(matches!(
        change.messages.first(),
        Some(Reply::CloseCard { members, .. }) if members == &["liuyang", "zhangwei"]
    ));
    assert_eq!(
        approve(&scripts, &flow, &mut case, ("zhangwei", "张伟"), &Via::Text).unwrap_err(),
        Refusal::Closed
    );
}

#[test]
fn the_final_approval_of_a_registration_needs_a_register_number() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, true);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    let before = case.clone();
    assert_eq!(
        approve(&scripts, &flow, &mut case, ("chenjing", "陈静"), &Via::Text).unwrap_err(),
        Refusal::NeedsRegisterNumber
    );
    assert_eq!(case, before, "nothing changed");
    let change = decide(
        &scripts,
        &flow,
        &mut case,
        ("chenjing", "陈静"),
        Verdict::Approve,
        None,
        &Via::Text,
        Some("DJ-2026-0001"),
        T0 + 3,
    )
    .unwrap();
    assert_eq!(case.status, CaseStatus::Approved);
    assert_eq!(case.register_number.as_deref(), Some("DJ-2026-0001"));
    for index in [
        records::REGISTER.to_owned(),
        records::register_number_index("DJ-2026-0001"),
        records::unit_register_index("tw"),
    ] {
        assert!(change.add_to.contains(&index), "{index}");
    }
    assert!(texts_to(&change, "lina")[0].contains("已由陈静同意"));
}

#[test]
fn check_refuses_strangers_spent_and_forged_cards_and_closed_cases() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    assert_eq!(
        check(&flow, &case, "wangqiang", &Via::Text),
        Err(Refusal::NotAssignee)
    );
    assert_eq!(
        check(&flow, &case, "liuyang", &card("forged", "rc")),
        Err(Refusal::CardExpired)
    );
    assert_eq!(
        check(&flow, &case, "liuyang", &card("task-0", "rc")),
        Ok(())
    );
    approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    assert_eq!(
        check(&flow, &case, "liuyang", &card("task-0", "rc")),
        Err(Refusal::AlreadyDecided),
        "the card of a step already passed"
    );
    case.status = CaseStatus::Withdrawn;
    assert_eq!(
        check(&flow, &case, "chenjing", &Via::Text),
        Err(Refusal::Closed)
    );
}

#[test]
fn a_stored_case_whose_step_is_out_of_its_chain_is_refused_not_a_panic() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    case.current_step = 7;
    let result = approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text);
    assert_eq!(result.unwrap_err(), Refusal::Closed);
}

#[test]
fn withdrawing_tells_the_approvers_who_have_not_decided() {
    let scripts = scripts();
    let (flow, mut case) = all_sign_half_approved(&scripts);
    assert_eq!(
        withdraw(&scripts, &flow, &mut case, "liuyang", T0).unwrap_err(),
        Refusal::NoPermission
    );
    let change = withdraw(&scripts, &flow, &mut case, "zhangsan", T0 + 5).unwrap();
    assert_eq!(case.status, CaseStatus::Withdrawn);
    assert!(texts_to(&change, "liuyang").is_empty(), "he has decided");
    assert!(texts_to(&change, "zhangwei")[0].contains("已被申请人撤回"));
    assert!(texts_to(&change, "zhangsan")[0].contains("已撤回"));
    assert_eq!(
        withdraw(&scripts, &flow, &mut case, "zhangsan", T0 + 6).unwrap_err(),
        Refusal::Closed
    );
}

#[test]
fn urging_reaches_the_undecided_once_per_day() {
    let scripts = scripts();
    let (flow, mut case) = all_sign_half_approved(&scripts);
    let day = |ms: i64| ms / 86_400_000;
    let name = |p: &str| {
        if p == "zhangwei" {
            "张伟".into()
        } else {
            p.into()
        }
    };
    let mut urge_at = |who: &str, at: i64| urge(&scripts, &flow, &mut case, who, (&day, &name), at);
    let change = urge_at("zhangsan", T0).unwrap();
    assert!(texts_to(&change, "liuyang").is_empty());
    assert!(texts_to(&change, "zhangwei")[0].contains("提醒您尽快审批"));
    assert!(texts_to(&change, "zhangsan")[0].contains("已提醒张伟"));
    assert_eq!(
        urge_at("zhangsan", T0 + 60_000).unwrap_err(),
        Refusal::UrgeLimit
    );
    let tomorrow = T0 + 86_400_000;
    assert!(urge_at("zhangsan", tomorrow).is_ok());
    assert_eq!(
        urge_at("liuyang", tomorrow).unwrap_err(),
        Refusal::NoPermission
    );
}

#[test]
fn a_step_that_closes_names_its_other_cards_to_grey_out() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    // By text: every card of the step (the first and a fresh one from 待办 卡片).
    let (mut case, _) = filed(&scripts, &flow, &["liuyang", "zhangwei"]);
    case.chain[0].task_ids.push("task-0-fresh".into());
    let change = approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    let spent = change.spent_cards.expect("the step closed");
    assert_eq!(spent.task_ids, ["task-0", "task-0-fresh"]);
    assert_eq!(spent.members, ["liuyang", "zhangwei"]);
    assert_eq!(spent.label, "已同意（刘洋）");
    // By a tap: the tapped card is updated with the tap's code; only the others are listed.
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    case.chain[0].task_ids.push("task-0-fresh".into());
    let via = card("task-0-fresh", "rc");
    let change = approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &via).unwrap();
    assert_eq!(change.spent_cards.unwrap().task_ids, ["task-0"]);
    // An all-sign step that stays open lists nothing.
    let all = self::flow(&scripts, SignMode::All, false);
    let (mut case, _) = filed(&scripts, &all, &["liuyang", "zhangwei"]);
    let change = approve(&scripts, &all, &mut case, ("liuyang", "刘洋"), &Via::Text).unwrap();
    assert_eq!(case.current_step, 0, "still open");
    assert!(change.spent_cards.is_none());
}

#[test]
fn withdrawing_names_the_open_steps_cards() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    let change = withdraw(&scripts, &flow, &mut case, "zhangsan", T0 + 1).unwrap();
    let spent = change.spent_cards.expect("the open step's cards");
    assert_eq!(spent.task_ids, ["task-0"]);
    assert_eq!(spent.members, ["liuyang"]);
    assert_eq!(spent.label, "已处理（已撤回）");
}

/// Separation of duties: the applicant (and the account's administrator) may not decide a
/// step even when a chain opened before the rule lists them, by text or by card.
#[test]
fn the_applicant_and_the_administrator_may_not_decide() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["zhangsan", "liuyang", "zhangwei"]);
    case.answers.set(
        "admin",
        crate::domain::engine::Answer::Member {
            userid: "zhangwei".into(),
            name: "张伟".into(),
        },
    );
    for who in ["zhangsan", "zhangwei"] {
        assert_eq!(
            approve(&scripts, &flow, &mut case, (who, "x"), &Via::Text).unwrap_err(),
            Refusal::Recused
        );
        assert_eq!(
            check(&flow, &case, who, &card("task-0", "rc")),
            Err(Refusal::Recused)
        );
    }
    assert_eq!(Refusal::Recused.message(), "recused");
    assert_eq!(case.current_step, 0, "nothing changed");
    assert!(approve(&scripts, &flow, &mut case, ("liuyang", "刘洋"), &Via::Text).is_ok());
}

mod refusals;
