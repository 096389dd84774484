//! The third outcome and skipped steps, over the shipped publication review flow (the unit's
//! leaders, then the propaganda department; refusable).

use super::*;

fn publication(scripts: &Scripts) -> FlowDef {
    scripts
        .flows
        .get("publication_review")
        .expect("shipped")
        .clone()
}

#[test]
fn a_refusal_ends_the_case_for_good_and_says_so() {
    let scripts = scripts();
    let flow = publication(&scripts);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    let why = Some("涉及未公开数据".to_owned());
    let change = decide(
        &scripts,
        &flow,
        &mut case,
        ("liuyang", "刘洋"),
        Verdict::Refuse,
        why,
        &card("task-0", "rc"),
        None,
        T0 + 1,
    )
    .unwrap();
    assert_eq!(case.status, CaseStatus::Refused);
    assert!(case.status.is_final());
    let told = texts_to(&change, "zhangsan").join("\n");
    assert!(
        told.contains("不得发布") && told.contains("涉及未公开数据"),
        "{told}"
    );
    let closed = change
        .messages
        .iter()
        .any(|m| matches!(m, Reply::CloseCard { label, .. } if label.contains("不得发布（刘洋）")));
    assert!(closed, "the card shows the refusal");
    assert!(
        change.history[0].contains("refused"),
        "{:?}",
        change.history
    );
}

#[test]
fn a_flow_that_is_not_refusable_refuses_nothing() {
    let scripts = scripts();
    let flow = flow(&scripts, SignMode::Any, false);
    let (mut case, _) = filed(&scripts, &flow, &["liuyang"]);
    let refused = decide(
        &scripts,
        &flow,
        &mut case,
        ("liuyang", "刘洋"),
        Verdict::Refuse,
        None,
        &Via::Text,
        None,
        T0 + 1,
    );
    assert_eq!(refused.unwrap_err(), Refusal::CardExpired);
    assert_eq!(case.status, CaseStatus::Pending);
}

#[test]
fn a_skipped_step_never_opens() {
    let scripts = scripts();
    let flow = publication(&scripts);
    let mut case = filed(&scripts, &flow, &["liuyang"]).0;
    let people = vec![Vec::new(), vec!["chenjing".to_owned(), "lina".to_owned()]];
    let tasks = vec!["t0".to_owned(), "t1".to_owned()];
    let change = open(
        &scripts,
        &flow,
        &mut case,
        (people, tasks, vec![true, false]),
        T0,
    );
    assert_eq!(case.current_step, 1);
    assert_eq!(cards(&change), [vec!["chenjing", "lina"]]);
    assert!(case.chain[0].skipped && case.chain[0].opened_at_ms.is_none());
    approve(&scripts, &flow, &mut case, ("chenjing", "陈静"), &Via::Text).unwrap();
    assert_eq!(case.status, CaseStatus::Approved, "the last step closed it");
}
