//! The steps of a chain: opening them (assignees resolved, fresh task ids) and chasing one past
//! its deadline (`deadline_working_days` in the flow). A chase is a text that points to the
//! approver's card (WeCom's interactive cards stay usable, so one live card per approver per
//! step; `待办 卡片` sends a fresh one on request). Chases go out in working time only: the first
//! on the working morning after the deadline, then every so many working days, each counted
//! from when the last one went out, so a bot that was down sends one chase, not a burst.

use rand::Rng;

use crate::base::scripts::Assignment;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::approval::{chain, separation};
use crate::domain::records::{Case, Texts};
use crate::domain::reminders;
use crate::domain::reminders::duty;
use crate::domain::reply::{DeskPage, Reply};

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
    let hours = &s.scripts.working_hours;
    step.deadline_ms =
        Some(reminders::deadline_moment(calendar, hours, deadline).timestamp_millis());
    let at = reminders::after_deadline(calendar, hours, deadline).timestamp_millis();
    let job = TimerJob::ApprovalDue {
        case: number.clone(),
        round,
        step: index,
        occurrence: 0,
    };
    draft.schedule(duty::approval_timer_id(&number, round, index, 0), at, &job);
}

/// An approval step past its deadline: a text to each assignee who has not decided, pointing
/// to their card, and the next chase as many working days later. Outside working time (a bot
/// that was down all night) the chase waits for the next working moment.
pub(crate) async fn approval_due(
    s: &Services,
    draft: &mut Draft,
    number: &str,
    (round, index, occurrence): (u32, usize, u32),
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(crate::dispatch::LoadedCase { case, .. }) = s.load_case(number).await? else {
        return Ok(());
    };
    let open = case.status == crate::domain::records::CaseStatus::Pending
        && case.round == round
        && case.current_step == index;
    let Some(flow) = s.scripts.flows.get(&case.flow) else {
        return Ok(());
    };
    let days = flow
        .approval
        .get(index)
        .and_then(|d| d.deadline_working_days);
    let (true, Some(days), Some(step)) = (open, days, case.chain.get(index)) else {
        return Ok(());
    };
    let (calendar, hours) = (&s.scripts.calendar, &s.scripts.working_hours);
    let now = s.clock.at(now_ms);
    let instant = now.instant();
    let timer_id = |occurrence| duty::approval_timer_id(number, round, index, occurrence);
    let job = |occurrence| TimerJob::ApprovalDue {
        case: number.to_owned(),
        round,
        step: index,
        occurrence,
    };
    if !calendar.is_working_time(&instant, hours) {
        let at = calendar
            .next_working_time(&instant, hours)
            .at
            .timestamp_millis();
        draft.schedule(timer_id(occurrence), at, &job(occurrence));
        return Ok(());
    }
    tracing::info!(case = %number, step = index, "approval overdue: chasing the approvers");
    let texts = Texts::new(&s.scripts, flow, &case);
    for person in step
        .assignees
        .iter()
        .filter(|p| !step.decisions.iter().any(|d| &d.by == *p))
    {
        let chase = texts.say("chase_to_approver");
        let page = DeskPage::Case(case.number.clone());
        draft.send(Reply::text_about(person, chase, page));
    }
    let next_day = calendar.add_working_days(now.today, days as i32).date;
    let next = reminders::after_deadline(calendar, hours, next_day).timestamp_millis();
    draft.schedule(timer_id(occurrence + 1), next, &job(occurrence + 1));
    Ok(())
}

/// Resolves each step's assignees — without the people recused from the case; a step left with
/// nobody goes to `[separation] fallback_role` — and opens the chain with fresh task ids,
/// without the steps the flow's process leaves out ([`crate::dispatch::Process::skips_step`]).
pub(crate) async fn open_chain(
    s: &Services,
    case: &mut Case,
    now_ms: i64,
) -> Result<chain::Change, DispatchError> {
    let Some(flow) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(chain::Change::default());
    };
    let recused = separation::recused(&flow, case);
    let process = s.processes.for_flow(&flow);
    let skip: Vec<bool> = (0..flow.approval.len())
        .map(|i| process.is_some_and(|p| p.skips_step(s, &flow, case, i)))
        .collect();
    let mut assignees = Vec::new();
    let mut task_ids = Vec::new();
    for (i, step) in flow.approval.iter().enumerate() {
        if skip[i] {
            assignees.push(Vec::new());
            task_ids.push(task_id(&case.number, case.round, i));
            continue;
        }
        let resolved = match &step.assignment {
            Assignment::Role(role) => holders(s, role, &case.unit).await?,
            Assignment::Users(users) => users.clone(),
        };
        let fallback = match &s.scripts.fallback_role {
            Some(role) if separation::needs_fallback(&resolved, &recused) => {
                holders(s, role, &case.unit).await?
            }
            _ => Vec::new(),
        };
        let people = separation::assign(resolved, &fallback, &recused);
        if people.is_empty() {
            tracing::error!(case = %case.number, step = i, "no approver left for a step: set [separation] fallback_role to a role with someone else");
        }
        assignees.push(people);
        task_ids.push(task_id(&case.number, case.round, i));
    }
    Ok(chain::open(
        &s.scripts,
        &flow,
        case,
        (assignees, task_ids, skip),
        now_ms,
    ))
}

/// The holders of a role: `unit_leader` is the leaders of the case's unit.
pub(crate) async fn holders(
    s: &Services,
    role: &str,
    unit: &str,
) -> Result<Vec<String>, DispatchError> {
    Ok(if role == "unit_leader" {
        s.directory.leaders_of(unit).await?
    } else {
        s.directory.role_members(role).await?
    })
}

/// A card task id: unique for the app's whole life and unguessable, in WeCom's charset
/// (`[0-9A-Za-z_-@]`, ≤ 128 bytes).
pub(crate) fn task_id(number: &str, round: u32, step: usize) -> String {
    let nonce: u64 = rand::thread_rng().r#gen();
    format!("{number}_r{round}_s{step}_{nonce:016x}")
}
