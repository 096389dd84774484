//! Timers as pipeline events: scheduled inside a commit, routed when fired to their job (a
//! duty's rung, a group digest, an overdue approval step); approval steps past their deadline
//! are chased with a fresh card.

use super::CaseWrites;
use super::duties::ms;
use super::{DispatchError, Dispatcher, Draft};
use crate::domain::records::Case;
use crate::domain::reminders;
use crate::domain::reminders::duty;
use crate::event::{self, TimerJob};

impl Dispatcher {
    /// A timer for the pipeline: it fires as an event of its own conversation.
    pub(super) fn schedule(&self, draft: &mut Draft, id: String, due_ms: i64, job: &TimerJob) {
        draft.commit.timers.push(event::timer(id, due_ms, job));
    }

    /// A fired timer.
    pub(super) async fn timer(
        &self,
        draft: &mut Draft,
        job: &TimerJob,
        due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        match job.clone() {
            TimerJob::Rung {
                duty,
                rung,
                occurrence,
            } => {
                self.rung(draft, &duty, rung, occurrence, due_ms, now_ms)
                    .await
            }
            TimerJob::Digest { group, slot_ms } => {
                self.digest(draft, &group, slot_ms, now_ms).await
            }
            TimerJob::ApprovalDue {
                case,
                round,
                step,
                occurrence,
            } => {
                self.approval_due(draft, &case, (round, step, occurrence), due_ms)
                    .await
            }
        }
    }

    /// A step that has just opened with a deadline (`deadline_working_days`) is chased once the
    /// deadline passes: the timer goes into the same commit as the opening.
    pub(super) fn chase_open_step(&self, draft: &mut Draft, case: &mut Case, now_ms: i64) {
        if case.status != crate::domain::records::CaseStatus::Pending {
            return;
        }
        let Some(flow) = self.scripts.flows.get(&case.flow) else {
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
        let calendar = &self.scripts.calendar;
        let deadline = calendar
            .add_working_days(self.clock.at(now_ms).today, days as i32)
            .date;
        let at = ms(reminders::deadline_moment(
            calendar,
            &self.scripts.working_hours,
            deadline,
        ));
        step.deadline_ms = Some(at);
        let job = TimerJob::ApprovalDue {
            case: number.clone(),
            round,
            step: index,
            occurrence: 0,
        };
        self.schedule(
            draft,
            duty::approval_timer_id(&number, round, index, 0),
            at,
            &job,
        );
    }

    /// An approval step past its deadline: a fresh card (a new task id) to each assignee who has
    /// not decided, and the next chase as many working days later.
    pub(super) async fn approval_due(
        &self,
        draft: &mut Draft,
        number: &str,
        (round, index, occurrence): (u32, usize, u32),
        due_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(loaded) = self.load_case(number).await? else {
            return Ok(());
        };
        let super::LoadedCase {
            mut case, version, ..
        } = loaded;
        let open = case.status == crate::domain::records::CaseStatus::Pending
            && case.round == round
            && case.current_step == index;
        let Some(flow) = self.scripts.flows.get(&case.flow).cloned() else {
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
        let task_id = super::forms::task_id(number, round, index);
        let Some(step) = case.chain.get_mut(index) else {
            return Ok(());
        };
        step.task_ids.push(task_id);
        let step = step.clone();
        let mut change = crate::domain::approval::chain::Change::default();
        crate::domain::approval::chain::send_card(&self.scripts, &flow, &case, &step, &mut change);
        let calendar = &self.scripts.calendar;
        let next_day = calendar
            .add_working_days(self.clock.at(due_ms).today, days as i32)
            .date;
        let next = ms(reminders::deadline_moment(
            calendar,
            &self.scripts.working_hours,
            next_day,
        ));
        let job = TimerJob::ApprovalDue {
            case: number.to_owned(),
            round,
            step: index,
            occurrence: occurrence + 1,
        };
        self.schedule(
            draft,
            duty::approval_timer_id(number, round, index, occurrence + 1),
            next,
            &job,
        );
        let write = case.update(version);
        self.apply(draft, write, change);
        Ok(())
    }
}
