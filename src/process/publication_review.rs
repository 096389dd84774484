//! Authorisation before publishing (送审, 发布审核, policy 3.2.2–3.2.3): an administrator sends a
//! draft of a sensitive post (flow `publication_review`: account, category, the draft, planned
//! time, whether the unit leader has checked it); the approval chain carries it to the unit
//! leader (when `[publication_review] leader_review` wants it) and the propaganda department,
//! who answer 可以发布, 修改后再送审 (驳回: edited and sent again) or 不得发布 (refused for good).
//! This process adds what the chain does not know: the answer's deadline in working hours
//! (clock hours, day or night, for an urgent category), shown on the card and told to the
//! applicant, and gentle reminders after it (`PublicationDue` timers), one of which also tells
//! the more senior `escalate_to` role. The rules are `domain::publication`.

use async_trait::async_trait;

use crate::base::scripts::publication::CATEGORY_FIELD;
use crate::base::scripts::{Assignment, FlowDef, PUBLICATION_REVIEW, PublicationReview, tpl};
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, LoadedCase, Process, Services};
use crate::domain::publication::{self as rules, Time};
use crate::domain::records::{Case, CaseStatus, Texts};
use crate::process::approvals::steps;

/// The publication review process.
pub struct PublicationReviews;

#[async_trait]
impl Process for PublicationReviews {
    fn name(&self) -> &'static str {
        "publication_review"
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::PublicationDue { .. })
    }

    fn owns_flow(&self, flow: &FlowDef) -> bool {
        flow.id == PUBLICATION_REVIEW
    }

    /// The unit leader's steps, when the leader rule leaves them out of this round.
    fn skips_step(&self, s: &Services, flow: &FlowDef, case: &Case, index: usize) -> bool {
        let Some(settings) = &s.scripts.publication_review else {
            return false;
        };
        let leader = matches!(
            flow.approval.get(index).map(|d| &d.assignment),
            Some(Assignment::Role(role)) if role == "unit_leader"
        );
        leader && rules::skips_leader(settings, &case.answers)
    }

    /// Filed or sent again: the answer's deadline on the cards, to the applicant, and the
    /// first reminder at it.
    async fn on_filing(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        case: &mut Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(settings) = &s.scripts.publication_review else {
            return Ok(());
        };
        let urgent = rules::is_urgent(settings, &case.answers);
        let sent = s.clock.at(now_ms).instant();
        let due = rules::deadline(settings, time(s), sent, urgent);
        let deadline_ms = due.timestamp_millis();
        case.card_notes = vec![say(s, flow, case, "due_note", deadline_ms, "")];
        d.say(
            &case.applicant.clone(),
            say(s, flow, case, "filed", deadline_ms, ""),
        );
        let at = rules::send_time(time(s), due, urgent).timestamp_millis();
        schedule(d, case, 0, at, deadline_ms);
        tracing::info!(case = %case.number, urgent, deadline_ms, "publication review filed");
        Ok(())
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        _due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let TimerJob::PublicationDue {
            case,
            round,
            occurrence,
            deadline_ms,
        } = job
        else {
            return Ok(());
        };
        let Some(settings) = &s.scripts.publication_review else {
            return Ok(());
        };
        let Some(LoadedCase { case, .. }) = s.load_case(case).await? else {
            return Ok(());
        };
        if case.status != CaseStatus::Pending || case.round != *round {
            return Ok(());
        }
        remind(s, d, settings, &case, (*occurrence, *deadline_ms), now_ms).await
    }
}

/// Reminder `occurrence` of a draft still unanswered: to whoever has not decided the open
/// step, with the senior role told once; then the next one. A non-urgent reminder that comes
/// due outside working time (a bot that was down) waits for it.
async fn remind(
    s: &Services,
    d: &mut Draft,
    settings: &PublicationReview,
    case: &Case,
    (occurrence, deadline_ms): (u32, i64),
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(flow) = s.scripts.flows.get(&case.flow) else {
        return Ok(());
    };
    let urgent = rules::is_urgent(settings, &case.answers);
    let now = s.clock.at(now_ms).instant();
    let at = rules::send_time(time(s), now, urgent);
    if at > now {
        schedule(d, case, occurrence, at.timestamp_millis(), deadline_ms);
        return Ok(());
    }
    let Some(step) = case.chain.get(case.current_step) else {
        return Ok(());
    };
    let waiting: Vec<&String> = step
        .assignees
        .iter()
        .filter(|p| !step.decisions.iter().any(|x| &x.by == *p))
        .collect();
    let mut names = Vec::new();
    for person in &waiting {
        names.push(s.name_of(person).await?);
    }
    let names = names.join("、");
    tracing::info!(case = %case.number, occurrence, "publication review unanswered: reminding");
    for person in &waiting {
        d.say(person, say(s, flow, case, "reminder", deadline_ms, &names));
    }
    if rules::escalates(settings, occurrence) {
        // A senior who is also waiting hears both: the reminder asks for their answer, this
        // names everyone still silent.
        let seniors = steps::holders(s, &settings.escalate_to, &case.unit).await?;
        for senior in seniors.iter().filter(|p| **p != case.applicant) {
            d.say(senior, say(s, flow, case, "escalated", deadline_ms, &names));
        }
    }
    let next = rules::next_reminder(settings, time(s), now, urgent);
    let next = rules::send_time(time(s), next, urgent).timestamp_millis();
    schedule(d, case, occurrence + 1, next, deadline_ms);
    Ok(())
}

fn time(s: &Services) -> Time<'_> {
    (&s.scripts.calendar, &s.scripts.working_hours)
}

fn schedule(d: &mut Draft, case: &Case, occurrence: u32, at_ms: i64, deadline_ms: i64) {
    let job = TimerJob::PublicationDue {
        case: case.number.clone(),
        round: case.round,
        occurrence,
        deadline_ms,
    };
    let id = rules::timer_id(&case.number, case.round, occurrence);
    d.schedule(id, at_ms, &job);
}

/// A `[publication_review.messages]` message about `case`. Values: title, number, applicant,
/// unit, account, category, urgent, due, step, names (who has not answered), round.
fn say(s: &Services, flow: &FlowDef, case: &Case, key: &str, due_ms: i64, names: &str) -> String {
    let texts = Texts::new(&s.scripts, flow, case);
    let show = |id: &str| {
        case.answers
            .get(id)
            .map(|a| texts.answer(a))
            .unwrap_or_default()
    };
    let urgent = s
        .scripts
        .publication_review
        .as_ref()
        .is_some_and(|p| rules::is_urgent(p, &case.answers));
    let step = case
        .chain
        .get(case.current_step)
        .map(|st| st.label.clone())
        .unwrap_or_default();
    let ctx = minijinja::context! {
        title => flow.title.clone(),
        number => case.number.clone(),
        applicant => case.applicant_name.clone(),
        unit => case.unit_name.clone(),
        account => show("account"),
        category => show(CATEGORY_FIELD),
        urgent => urgent,
        due => s.local_time(due_ms),
        step => step,
        names => names,
        round => case.round,
    };
    s.scripts.render(&tpl::publication(key), &ctx)
}
