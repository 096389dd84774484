//! The administrator's report and its review. 开始填写 on the task card opens the report
//! form; one report per account and campaign (a second is refused; a withdrawn one may be filed
//! again). Filing ends the chase of the task. The report's approval chain is the unit leader's
//! and then the department's: the department's 同意 is 合格, its 驳回 (with what to fix) is
//! 需整改 — the administrator is told the date to resubmit by (`rectify_working_days`) and
//! resubmits with `修改` — and `年审 不合格 <编号> <理由>` rejects the report for good and
//! orders the account closed ([`crate::process::deregistration::order::open`]). 需整改 moves the
//! account to 整改中 and chases the resubmission ([`super::rectify`]). Separation of
//! duties and the one live card per reviewer are the approval chain's own.

use super::results;
use super::{department, say};
use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::CardEvent;
use crate::base::scripts::campaigns::CampaignDef;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::annual::{self, Verdict};
use crate::domain::approval::chain::{self, Via};
use crate::domain::engine::{Answer, Answers, EngineInput};
use crate::domain::records::{AccountStatus, Case, CaseStatus};
use crate::domain::reminders::duty::Duty;
use crate::process::approvals;
use crate::process::deregistration::order;

/// The register number a report's `account` answer names.
pub(super) fn account_of(answers: &Answers) -> Option<&str> {
    match answers.get("account") {
        Some(Answer::Ref { id, .. }) => Some(id),
        _ => None,
    }
}

/// 开始填写: the report form of the campaign's flow, when no other form is being filled.
pub async fn fill(
    s: &Services,
    d: &mut Draft,
    _tap: &CardEvent,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(def) = s.scripts.annual_review.as_ref() else {
        return Ok(());
    };
    if !d.conversation.form.is_idle() {
        d.reply(say(s, "fill_busy", minijinja::Value::UNDEFINED));
        return Ok(());
    }
    let menu = s.scripts.menu_keys.iter().find(|(_, f)| **f == def.flow);
    let input = match menu {
        Some((key, _)) => EngineInput::MenuClick(key.clone()),
        None => match s.scripts.keywords.iter().find(|(_, f)| **f == def.flow) {
            Some((word, _)) => EngineInput::Text(word.clone()),
            None => return Ok(()),
        },
    };
    crate::process::forms::form_step(s, d, input, now_ms).await
}

/// Why a confirmed report may not be filed: no campaign open, the account not in it, or its
/// report already filed.
pub async fn refusal(
    s: &Services,
    answers: &Answers,
    editing: Option<&str>,
) -> Result<Option<String>, DispatchError> {
    let Some(register_number) = account_of(answers) else {
        return Ok(None);
    };
    let Some(campaign) = results::open_campaign(&*s.store).await? else {
        return Ok(Some(say(s, "no_campaign", minijinja::Value::UNDEFINED)));
    };
    let year = campaign.year;
    let number = annual::task_number(year, register_number);
    let Some((task, _)) = results::task(&*s.store, &number).await? else {
        let ctx = minijinja::context! { year, register_number };
        return Ok(Some(say(s, "not_covered", ctx)));
    };
    let result = task.campaign.unwrap_or_default();
    let filed = match &result.report {
        Some(report) if Some(report.as_str()) != editing => results::case(&*s.store, report)
            .await?
            .is_some_and(|c| c.status != CaseStatus::Withdrawn),
        _ => false,
    };
    if filed || result.verdict.is_some() {
        let ctx = minijinja::context! {
            year, register_number, account => &task.account_name, report => &result.report,
        };
        return Ok(Some(say(s, "already_filed", ctx)));
    }
    Ok(None)
}

/// The task a filed report answers, with its version.
async fn task_of_report(s: &Services, report: &str) -> Result<Option<(Duty, u64)>, DispatchError> {
    for number in s.store.cases_in(&annual::report_index(report)).await? {
        if let Some(found) = results::task(&*s.store, &number).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// A report is filed or resubmitted: its task records it and is no longer chased.
pub async fn filed(s: &Services, d: &mut Draft, case: &mut Case) -> Result<(), DispatchError> {
    let Some(register_number) = account_of(&case.answers) else {
        return Ok(());
    };
    let Some(campaign) = results::open_campaign(&*s.store).await? else {
        return Ok(());
    };
    let number = annual::task_number(campaign.year, register_number);
    let Some((mut task, version)) = results::task(&*s.store, &number).await? else {
        return Ok(());
    };
    self_check_note(s, case);
    let result = task.campaign.get_or_insert_with(Default::default);
    result.report = Some(case.number.clone());
    result.fix_by = None;
    super::rectify::end(s, d, result.rectify.take()).await?;
    task.done = true;
    d.commit.cancel_timers.append(&mut task.timers);
    tracing::info!(task = %number, report = %case.number, "annual report filed");
    d.write_case(CaseWrite {
        number,
        expected_version: Some(version),
        body: Some(serde_json::to_string(&task).expect("a duty serializes")),
        add_to: vec![annual::report_index(&case.number)],
        remove_from: vec![annual::waiting_index(campaign.year)],
        ..CaseWrite::default()
    });
    Ok(())
}

/// The reviewers' card notes which self-check items were answered 否.
fn self_check_note(s: &Services, case: &mut Case) {
    let (Some(def), Some(flow)) = (&s.scripts.annual_review, s.scripts.flows.get(&case.flow))
    else {
        return;
    };
    let failed: Vec<String> = def
        .self_check
        .iter()
        .filter(|id| matches!(case.answers.get(id), Some(Answer::Bool(false))))
        .filter_map(|id| flow.field(id).map(|(_, f)| f.label.clone()))
        .collect();
    case.card_notes.clear();
    if !failed.is_empty() {
        let ctx = minijinja::context! { items => failed.join("、") };
        case.card_notes.push(say(s, "self_check_failed", ctx));
    }
}

/// A report rejected at the department's step is 需整改: the administrator is told what to fix
/// and by when.
pub async fn sent_back(
    s: &Services,
    d: &mut Draft,
    case: &Case,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(def) = s.scripts.annual_review.as_ref() else {
        return Ok(());
    };
    let last_step = case.current_step + 1 == case.chain.len();
    if case.status != CaseStatus::Rejected || !last_step {
        return Ok(());
    }
    let Some((mut task, version)) = task_of_report(s, &case.number).await? else {
        return Ok(());
    };
    if d.commit.cases.iter().any(|w| w.number == task.number) {
        return Ok(()); // failed (不合格) in this same event
    }
    let reason = case.chain[case.current_step]
        .decisions
        .iter()
        .rev()
        .find(|x| !x.approve)
        .and_then(|x| x.reason.clone());
    let today = s.clock.at(now_ms).today;
    let n = def.rectify_working_days as i32;
    let fix_by = crate::process::change_report::duties::day(
        s.scripts.calendar.add_working_days(today, n).date,
    );
    let chase = super::rectify::start(s, d, &task, case, &fix_by, now_ms).await?;
    let result = task.campaign.get_or_insert_with(Default::default);
    result.note = reason.clone();
    result.fix_by = Some(fix_by.clone());
    result.rectify = chase;
    let ctx = minijinja::context! {
        account => &task.account_name, register_number => &task.account, report => &case.number,
        note => reason, fix_by,
    };
    d.say(&case.applicant, say(s, "rectify", ctx));
    d.write_case(CaseWrite {
        number: task.number.clone(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&task).expect("a duty serializes")),
        ..CaseWrite::default()
    });
    Ok(())
}

/// `年审 不合格 <编号> <理由>`: a member of the department deciding the report's open step
/// fails it: the report is rejected with the reason, the task records 不合格 and the account's
/// closure is ordered.
pub async fn fail(
    s: &Services,
    d: &mut Draft,
    _def: &CampaignDef,
    report: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if !department(s, d).await? {
        return Ok(());
    }
    let Some((loaded, flow)) = approvals::case_for(s, d, report).await? else {
        return Ok(());
    };
    let case = loaded.case;
    let task = match flow.campaign {
        true => task_of_report(s, report).await?,
        false => None,
    };
    let Some((mut task, version)) = task else {
        d.reply(say(s, "not_failable", minijinja::context! { report }));
        return Ok(());
    };
    if let Err(refusal) = chain::check(flow, &case, &d.user, &Via::Text) {
        approvals::refuse(s, d, &case, &refusal, &Via::Text);
        return Ok(());
    }
    let register_number = task.account.clone();
    let mut closure = None;
    let entry = match s.case_number_of(&register_number).await? {
        Some(number) => s.load_case(&number).await?,
        None => None,
    };
    let ordered = order::open_order(s, &register_number).await?;
    if let Some((o, _)) = &ordered {
        closure = Some((o.number.clone(), o.deadline.clone()));
    } else if let Some(entry) = entry
        && entry.case.account_status != AccountStatus::Closed
        && let Some(o) = order::open(s, d, entry, &register_number, reason, now_ms).await?
    {
        closure = Some((o.number, o.deadline));
    }
    let result = task.campaign.get_or_insert_with(Default::default);
    result.verdict = Some(Verdict::Failed);
    result.note = Some(reason.to_owned());
    result.closure = closure.as_ref().map(|(n, _)| n.clone());
    d.write_case(CaseWrite {
        number: task.number.clone(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&task).expect("a duty serializes")),
        ..CaseWrite::default()
    });
    let ctx = minijinja::context! {
        account => &task.account_name, register_number, report, reason,
        closure => closure.as_ref().map(|(n, _)| n), deadline => closure.as_ref().map(|(_, d)| d),
    };
    d.reply(say(s, "failed", ctx));
    approvals::decide(
        s,
        d,
        report,
        chain::Verdict::Reject,
        Some(reason.to_owned()),
        Via::Text,
        now_ms,
    )
    .await
}
