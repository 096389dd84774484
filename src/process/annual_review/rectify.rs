//! Rectification (需整改): a report the department sends back moves its account to 整改中 in
//! the register (`AccountStatus::Rectifying`, written like a deregistration writes 注销中) and
//! opens a duty of kind `annual_rectify` (the ladder `[duties.annual_rectify]`, optional) due
//! from the administrator by the date to resubmit, chased by the duty machinery of
//! [`crate::process::change_report::duties`]. The resubmission ends the chase; the
//! department's pass (合格) returns the account to 在用. A failure (不合格) leaves the status to
//! the closure order.

use super::results;
use crate::adapters::store::CaseWrite;
use crate::base::scripts::campaigns::ANNUAL_RECTIFY;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::annual;
use crate::domain::records::{AccountStatus, Case};
use crate::domain::reminders::duty::Duty;
use crate::process::change_report::duties;
use crate::process::deregistration::set_status;

/// The report `case` (of `task`) was sent back to be fixed by `fix_by`: the account is 整改中
/// and, when bot.toml has the ladder, a duty chases the resubmission. Returns the duty's
/// number, recorded on the task.
pub(super) async fn start(
    s: &Services,
    d: &mut Draft,
    task: &Duty,
    case: &Case,
    fix_by: &str,
    now_ms: i64,
) -> Result<Option<String>, DispatchError> {
    if let Some((_, entry)) = s.entry_of(case).await?
        && entry.case.account_status == AccountStatus::InUse
    {
        set_status(d, entry, AccountStatus::Rectifying, &case.number, now_ms);
    }
    let Some(def) = s.scripts.duties.get(ANNUAL_RECTIFY).cloned() else {
        return Ok(None);
    };
    let chase = Duty {
        number: String::new(),
        kind: ANNUAL_RECTIFY.into(),
        unit: task.unit.clone(),
        unit_name: task.unit_name.clone(),
        account: task.account.clone(),
        account_name: task.account_name.clone(),
        person: task.person.clone(),
        role: "admin".into(),
        event: case.number.clone(),
        due: vec![case.applicant.clone()],
        deadline: fix_by.to_owned(),
        opened_at_ms: now_ms,
        done: false,
        timers: Vec::new(),
        ordered_by: None,
        evidence: None,
        campaign: None,
    };
    let chase = duties::start(s, d, &def, chase, Vec::new(), now_ms).await?;
    tracing::info!(duty = %chase.number, report = %case.number, "rectification chased");
    Ok(Some(chase.number))
}

/// The report was resubmitted (or decided): the duty chasing it, if any, is done.
pub(super) async fn end(
    s: &Services,
    d: &mut Draft,
    duty: Option<String>,
) -> Result<(), DispatchError> {
    let Some(number) = duty else {
        return Ok(());
    };
    let Some((mut chase, version)) = duties::load_duty(s, &number).await? else {
        return Ok(());
    };
    if chase.done {
        return Ok(());
    }
    chase.done = true;
    d.commit.cancel_timers.append(&mut chase.timers);
    tracing::info!(duty = %number, "rectification resubmitted: chase ended");
    d.write_case(CaseWrite {
        number,
        expected_version: Some(version),
        body: Some(serde_json::to_string(&chase).expect("a duty serializes")),
        ..CaseWrite::default()
    });
    Ok(())
}

/// The department passed the report (合格): an account 整改中 is in use again.
pub(super) async fn passed(
    s: &Services,
    d: &mut Draft,
    case: &Case,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if let Some((register_number, entry)) = s.entry_of(case).await?
        && entry.case.account_status == AccountStatus::Rectifying
    {
        tracing::info!(%register_number, report = %case.number, "rectified: account in use again");
        set_status(d, entry, AccountStatus::InUse, &case.number, now_ms);
    }
    // A pass without a resubmission (never the case today) still ends the chase.
    for number in s
        .store
        .cases_in(&annual::report_index(&case.number))
        .await?
    {
        if let Some((task, _)) = results::task(&*s.store, &number).await? {
            end(s, d, task.campaign.and_then(|c| c.rectify)).await?;
        }
    }
    Ok(())
}
