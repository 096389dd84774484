//! The change report process (变更报备, policy 5.1 note 3): a change to a registered account is
//! reported within N working days of the change (the flow's `deadline` in bot-scripts); a late
//! report says why and is marked late. Once the propaganda department confirms it, the register
//! takes the new values and keeps the old ones in its history. A member who leaves or moves
//! while named on an account opens a duty that is chased until the report is confirmed
//! ([`duties`]).

pub mod duties;

use async_trait::async_trait;

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::ContactChange;
use crate::base::scripts::FlowDef;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, LoadedCase, Process, Services};
use crate::domain::engine;
use crate::domain::records::Texts;
use crate::domain::records::{self, Case};

/// The change report process.
pub struct ChangeReport;

#[async_trait]
impl Process for ChangeReport {
    fn name(&self) -> &'static str {
        "change_report"
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::Rung { .. } | TimerJob::Digest { .. })
    }

    /// Flows that update the register or carry a reporting deadline.
    fn owns_flow(&self, flow: &FlowDef) -> bool {
        !flow.register_updates.is_empty() || flow.deadline.is_some()
    }

    fn watches_contacts(&self) -> bool {
        true
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        match job {
            TimerJob::Rung {
                duty,
                rung,
                occurrence,
            } => duties::rung(s, d, duty, *rung, *occurrence, due_ms, now_ms).await,
            TimerJob::Digest { group, slot_ms } => {
                duties::digest(s, d, group, *slot_ms, now_ms).await
            }
            TimerJob::ApprovalDue { .. } => Ok(()),
        }
    }

    async fn on_contact(
        &self,
        s: &Services,
        d: &mut Draft,
        change: &ContactChange,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        duties::contact_change(s, d, change, now_ms).await
    }

    async fn on_filing(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        case: &mut Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        check_deadline(s, d, flow, case, now_ms);
        Ok(())
    }

    async fn on_approved(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        case: &Case,
        _approver: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        update_register(s, d, flow, case, now_ms).await
    }
}

/// Policy 5.1 note 3: a report is due within N working days of the date it reports; the
/// case records the deadline and whether it was late, and the applicant is told.
fn check_deadline(s: &Services, draft: &mut Draft, flow: &FlowDef, case: &mut Case, now_ms: i64) {
    let Some(deadline) = &flow.deadline else {
        return;
    };
    let Some(engine::Answer::Date(from)) = case.answers.get(&deadline.from) else {
        return;
    };
    let Ok(from_date) = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d") else {
        return;
    };
    let calendar = &s.scripts.calendar;
    let due = calendar
        .add_working_days(from_date, deadline.working_days as i32)
        .date;
    let late = s.clock.at(now_ms).today > due;
    let due = due.format("%Y-%m-%d").to_string();
    let vars = minijinja::context! { changed_on => from, deadline => &due, late => late };
    draft.reply(s.scripts.render(
        &crate::base::scripts::tpl::flow(&flow.id, "deadline_note"),
        &vars,
    ));
    case.due_date = Some(due);
    case.late = Some(late);
}

/// A confirmed change report: the registered account takes the new values; its history
/// keeps the old ones.
async fn update_register(
    s: &Services,
    draft: &mut Draft,
    flow: &crate::base::scripts::FlowDef,
    report: &Case,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(crate::domain::engine::Answer::Ref {
        id: register_number,
        ..
    }) = report.answers.get("account")
    else {
        return Ok(());
    };
    let Some(number) = s
        .store
        .cases_in(&records::register_number_index(register_number))
        .await?
        .pop()
    else {
        tracing::warn!(%register_number, "change report for an account not in the register");
        return Ok(());
    };
    let Some(LoadedCase {
        mut case, version, ..
    }) = s.load_case(&number).await?
    else {
        return Ok(());
    };
    let Some(registration) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(());
    };
    let texts = Texts::new(&s.scripts, &registration, &case);
    let mut changes = Vec::new();
    for (from, to) in &flow.register_updates {
        let Some(new) = report.answers.get(from) else {
            continue;
        };
        let label = registration
            .field(to)
            .map(|(_, f)| f.label.clone())
            .unwrap_or_else(|| to.clone());
        let old = case
            .answers
            .get(to)
            .map(|a| texts.answer(a))
            .unwrap_or_default();
        changes.push(format!("{label}：{old} → {}", texts.answer(new)));
        match case.answers.0.iter_mut().find(|(k, _)| k == to) {
            Some((_, answer)) => *answer = new.clone(),
            None => case.answers.0.push((to.clone(), new.clone())),
        }
    }
    duties::close_duty(s, draft, register_number).await?;
    let history = records::history(
        now_ms,
        &draft.user,
        records::HistoryKind::Changed {
            report: report.number.clone(),
            changes,
        },
    );
    draft.write_case(CaseWrite {
        number: case.number.clone(),
        body: Some(case.to_json()),
        history: vec![history],
        expected_version: Some(version),
        ..CaseWrite::default()
    });
    Ok(())
}
