//! The steps of a chain: opening them (assignees resolved, fresh task ids) and chasing one past
//! its deadline (`deadline_working_days` in the flow) with a fresh card, every so many working
//! days until it is decided.

use rand::Rng;

use crate::base::scripts::Assignment;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{CaseWrites, DispatchError, Draft, Services};
use crate::domain::approval::chain;
use crate::domain::records::Case;
use crate::domain::reminders;
use crate::domain::reminders::duty;

/// A step that has just opened with a deadline (`deadline_working_days`) is chased once the
/// deadline passes: the timer goes into the same commit as the opening.
pub(crate) fn chase_open_step(s: &Services, draft: &mut Draft, case: &mut Case, now_ms: i64) {
    if case.status != crate::domain::records::CaseStatus::Pending {
        return;
    }
    let Some(flow) = s.scripts.flows.get(&case.flow) else {
        return;
    };
    let index = case.current_step;
    let Some(days) = flow
        .approval
        .get(index)
        .and_then(|d| d.deadline_working_days)
    else {
        return;
    };
    let (number, round) = (case.number.clone(), case.round);
    let Some(step) = case.chain.get_mut(index) else {
        return;
    };
    if step.deadline_ms.is_some() || step.opened_at_ms != Some(now_ms) {
        return;
    }
    let calendar = &s.scripts.calendar;
    let deadline = calendar
        .add_working_days(s.clock.at(now_ms).today, days as i32)
        .date;
    let at =
        reminders::deadline_moment(calendar, &s.scripts.working_hours, deadline).timestamp_millis();
    step.deadline_ms = Some(at);
    let job = TimerJob::ApprovalDue {
        case: number.clone(),
        round,
        step: index,
        occurrence: 0,
    };
    draft.schedule(duty::approval_timer_id(&number, round, index, 0), at, &job);
}

/// An approval step past its deadline: a fresh card (a new task id) to each assignee who has
/// not decided, and the next chase as many working days later.
pub(crate) async fn approval_due(
    s: &Services,
    draft: &mut Draft,
    number: &str,
    (round, index, occurrence): (u32, usize, u32),
    due_ms: i64,
) -> Result<(), DispatchError> {
    let Some(loaded) = s.load_case(number).await? else {
        return Ok(());
    };
    let crate::dispatch::LoadedCase {
        mut case, version, ..
    } = loaded;
    let open = case.status == crate::domain::records::CaseStatus::Pending
        && case.round == round
        && case.current_step == index;
    let Some(flow) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(());
    };
    let days = flow
        .approval
        .get(index)
        .and_then(|d| d.deadline_working_days);
    let (true, Some(days)) = (open, days) else {
        return Ok(());
    };
    tracing::info!(case = %number, step = index, "approval overdue: chasing with a fresh card");
    let fresh = task_id(number, round, index);
    let Some(step) = case.chain.get_mut(index) else {
        return Ok(());
    };
    step.task_ids.push(fresh);
    let step = step.clone();
    let mut change = crate::domain::approval::chain::Change::default();
    crate::domain::approval::chain::send_card(&s.scripts, &flow, &case, &step, &mut change);
    let calendar = &s.scripts.calendar;
    let next_day = calendar
        .add_working_days(s.clock.at(due_ms).today, days as i32)
        .date;
    let next =
        reminders::deadline_moment(calendar, &s.scripts.working_hours, next_day).timestamp_millis();
    let job = TimerJob::ApprovalDue {
        case: number.to_owned(),
        round,
        step: index,
        occurrence: occurrence + 1,
    };
    draft.schedule(
        duty::approval_timer_id(number, round, index, occurrence + 1),
        next,
        &job,
    );
    let write = case.update(version);
    s.apply(draft, write, change);
    Ok(())
}

/// Resolves each step's assignees and opens the chain with fresh task ids.
pub(crate) async fn open_chain(
    s: &Services,
    case: &mut Case,
    now_ms: i64,
) -> Result<chain::Change, DispatchError> {
    let Some(flow) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(chain::Change::default());
    };
    let mut assignees = Vec::new();
    let mut task_ids = Vec::new();
    for (i, step) in flow.approval.iter().enumerate() {
        assignees.push(match &step.assignment {
            Assignment::Role(role) if role == "unit_leader" => {
                s.directory.leaders_of(&case.unit).await?
            }
            Assignment::Role(role) => s.directory.role_members(role).await?,
            Assignment::Users(users) => users.clone(),
        });
        task_ids.push(task_id(&case.number, case.round, i));
    }
    Ok(chain::open(
        &s.scripts, &flow, case, assignees, task_ids, now_ms,
    ))
}

/// A card task id: unique for the app's whole life and unguessable, in WeCom's charset
/// (`[0-9A-Za-z_-@]`, ≤ 128 bytes).
pub(crate) fn task_id(number: &str, round: u32, step: usize) -> String {
    let nonce: u64 = rand::thread_rng().r#gen();
    format!("{number}_r{round}_s{step}_{nonce:016x}")
}
