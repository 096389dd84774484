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
use crate::domain::records::changes::register_change;
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
            TimerJob::ApprovalDue { .. } | TimerJob::IncidentRung { .. } => Ok(()),
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
        file_report(s, d, flow, case, now_ms).await
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

/// Policy 5.1 note 3: a report is due within N working days of the change. When the bot saw
/// the change itself (a departure opened a duty), the duty's deadline counts, whatever date the
/// user types. The case records the deadline and whether it was late; the applicant is told,
/// and the approvers' card shows it with the old → new values.
async fn file_report(
    s: &Services,
    draft: &mut Draft,
    flow: &FlowDef,
    case: &mut Case,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(rule) = &flow.deadline else {
        return Ok(());
    };
    let Some(engine::Answer::Date(from)) = case.answers.get(&rule.from) else {
        return Ok(());
    };
    let entry = s.entry_of(case).await?;
    let duty = match &entry {
        Some((register_number, _)) => duties::open_duty_of(s, register_number).await?,
        None => None,
    };
    let due = match (&duty, chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d")) {
        (Some(duty), _) => chrono::NaiveDate::parse_from_str(&duty.deadline, "%Y-%m-%d").ok(),
        (None, Ok(from_date)) => Some(
            s.scripts
                .calendar
                .add_working_days(from_date, rule.working_days as i32)
                .date,
        ),
        (None, Err(_)) => None,
    };
    let Some(due) = due else {
        return Ok(());
    };
    let late = s.clock.at(now_ms).today > due;
    let due = due.format("%Y-%m-%d").to_string();
    let vars = minijinja::context! { changed_on => from, deadline => &due, late => late };
    draft.reply(s.scripts.render(
        &crate::base::scripts::tpl::flow(&flow.id, "deadline_note"),
        &vars,
    ));
    case.due_date = Some(due.clone());
    case.late = Some(late);
    let texts = Texts::new(&s.scripts, flow, case)
        .with("deadline", due)
        .with("late", late);
    let mut notes = vec![texts.say("card_deadline")];
    if let Some((_, LoadedCase { case: entry, .. })) = &entry
        && let Some(registration) = s.scripts.flows.get(&entry.flow)
    {
        let entry_texts = Texts::new(&s.scripts, registration, entry);
        let change = register_change(
            registration,
            &entry_texts,
            &entry.answers,
            &case.answers,
            &flow.register_updates,
        );
        notes.extend(change.lines);
    }
    case.card_notes = notes;
    Ok(())
}

/// A confirmed change report: the registered account takes the new values; its history
/// keeps the old ones. The account's open duty closes if the report replaces the person it is
/// about.
async fn update_register(
    s: &Services,
    draft: &mut Draft,
    flow: &FlowDef,
    report: &Case,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((register_number, entry)) = s.entry_of(report).await? else {
        return Ok(());
    };
    let LoadedCase {
        mut case, version, ..
    } = entry;
    let Some(registration) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(());
    };
    let texts = Texts::new(&s.scripts, &registration, &case);
    let change = register_change(
        &registration,
        &texts,
        &case.answers,
        &report.answers,
        &flow.register_updates,
    );
    case.answers = change.answers;
    duties::close_duty(s, draft, &register_number, &change.fields).await?;
    let history = records::history(
        now_ms,
        &draft.user,
        records::HistoryKind::Changed {
            report: report.number.clone(),
            changes: change.lines,
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
