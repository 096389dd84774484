//! Authorisation before publishing (发布审核, policy 3.2.2–3.2.3), the pure rules: whether a
//! draft is urgent (its category), whether the unit leader's step runs, when the department's
//! answer is due (working hours; clock hours day or night when urgent), when each reminder goes
//! out and which one also tells the more senior role. The department's three answers — 可以发布,
//! 修改后再送审, 不得发布 — are the approval chain's ([`crate::domain::approval::chain::Verdict`]).

use chrono::{DateTime, TimeDelta, Utc};

use crate::base::calendar::{Calendar, WorkingHours};
use crate::base::scripts::publication::{CATEGORY_FIELD, LEADER_CHECKED_FIELD};
use crate::base::scripts::{LeaderReview, PublicationReview};
use crate::domain::engine::{Answer, Answers};

/// The calendar the deadlines are counted on.
pub type Time<'a> = (&'a Calendar, &'a WorkingHours);

/// Whether the draft's category is one answered day or night.
pub fn is_urgent(settings: &PublicationReview, answers: &Answers) -> bool {
    match answers.get(CATEGORY_FIELD) {
        Some(Answer::Choice { value, .. }) => settings.urgent_categories.contains(value),
        _ => false,
    }
}

/// Whether the unit leader's step is left out: never when it is `always`, always when it is
/// `never`, else when the applicant says the leader has already checked the draft.
pub fn skips_leader(settings: &PublicationReview, answers: &Answers) -> bool {
    match settings.leader_review {
        LeaderReview::Always => false,
        LeaderReview::Never => true,
        LeaderReview::UnlessChecked => {
            matches!(answers.get(LEADER_CHECKED_FIELD), Some(Answer::Bool(true)))
        }
    }
}

/// When the answer to a draft sent at `sent` is due.
pub fn deadline(
    settings: &PublicationReview,
    time: Time<'_>,
    sent: DateTime<Utc>,
    urgent: bool,
) -> DateTime<Utc> {
    let n = if urgent {
        settings.urgent_answer_hours
    } else {
        settings.answer_working_hours
    };
    hours_after(time, sent, n, urgent)
}

/// `n` hours after `from`: clock hours when urgent, else working hours.
fn hours_after(
    (calendar, hours): Time<'_>,
    from: DateTime<Utc>,
    n: u32,
    urgent: bool,
) -> DateTime<Utc> {
    let duration = TimeDelta::hours(i64::from(n));
    if urgent {
        return from + duration;
    }
    calendar
        .add_working_hours(&from, duration, hours)
        .at
        .with_timezone(&Utc)
}

/// When a reminder due at `at` goes out: at once when urgent, else in working time.
pub fn send_time((calendar, hours): Time<'_>, at: DateTime<Utc>, urgent: bool) -> DateTime<Utc> {
    if urgent || calendar.is_working_time(&at, hours) {
        return at;
    }
    calendar
        .next_working_time(&at, hours)
        .at
        .with_timezone(&Utc)
}

/// When the reminder after one sent at `now` is due (before [`send_time`]).
pub fn next_reminder(
    settings: &PublicationReview,
    time: Time<'_>,
    now: DateTime<Utc>,
    urgent: bool,
) -> DateTime<Utc> {
    let n = if urgent {
        settings.urgent_remind_every_hours
    } else {
        settings.remind_every_working_hours
    };
    hours_after(time, now, n, urgent)
}

/// Whether reminder `occurrence` (0 for the first, at the deadline) also tells the holders of
/// `escalate_to`: once, with the `escalate_after`-th reminder.
pub fn escalates(settings: &PublicationReview, occurrence: u32) -> bool {
    occurrence + 1 == settings.escalate_after.max(1)
}

/// The durable timer of reminder `occurrence` of round `round` of case `case`.
pub fn timer_id(case: &str, round: u32, occurrence: u32) -> String {
    format!("publication-{case}-r{round}-{occurrence}")
}

#[cfg(test)]
mod tests;
