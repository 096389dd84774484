//! Reminder ladders (pure): when each rung of a duty's ladder fires, relative to its deadline on
//! the working-day calendar, and how due items become one digest per group chat. Quiet hours,
//! weekends and holidays are respected — a nudge that would land outside working hours waits for
//! the next working morning — except for urgent duties.

pub mod digest;
pub mod duty;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::base::calendar::{Calendar, WorkingHours};
use crate::base::scripts::ladders::{Ladder, Offset, Rung};

/// The moment the deadline day ends: the end of its last working period.
pub fn deadline_moment(
    calendar: &Calendar,
    hours: &WorkingHours,
    deadline: NaiveDate,
) -> DateTime<Utc> {
    let end = hours.periods().last().map(|(_, e)| *e).unwrap_or_default();
    local(calendar, deadline.and_time(end))
}

/// The first working moment after the deadline day ends (where a chase of something overdue
/// goes: the next working morning).
pub fn after_deadline(
    calendar: &Calendar,
    hours: &WorkingHours,
    deadline: NaiveDate,
) -> DateTime<Utc> {
    let end = deadline_moment(calendar, hours, deadline);
    calendar
        .next_working_time(&end, hours)
        .at
        .with_timezone(&Utc)
}

/// The first working moment of `date` (the start of its working hours), or of the next working
/// day when `date` is not one: when something scheduled "on a date" happens.
pub fn first_working_moment(
    calendar: &Calendar,
    hours: &WorkingHours,
    date: NaiveDate,
) -> DateTime<Utc> {
    let eve = date.pred_opt().unwrap_or(date);
    after_deadline(calendar, hours, eve)
}

fn local(calendar: &Calendar, naive: chrono::NaiveDateTime) -> DateTime<Utc> {
    calendar
        .time_zone()
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// When `rung` fires for a duty due on `deadline`: its nominal moment, moved to the next
/// working time unless the ladder is urgent.
pub fn fire_time(
    calendar: &Calendar,
    hours: &WorkingHours,
    ladder: &Ladder,
    rung: &Rung,
    deadline: NaiveDate,
) -> DateTime<Utc> {
    let nominal = match rung.offset {
        Offset::WorkingDays(n) => {
            let day = calendar.add_working_days(deadline, n).date;
            let start = hours.periods().first().map(|(s, _)| *s).unwrap_or_default();
            local(calendar, day.and_time(start))
        }
        Offset::Hours(h) => {
            deadline_moment(calendar, hours, deadline) + chrono::TimeDelta::hours(h)
        }
    };
    if ladder.urgent {
        nominal
    } else {
        calendar
            .next_working_time(&nominal, hours)
            .at
            .with_timezone(&Utc)
    }
}

/// The next time a repeating rung fires after it fired at `fired`.
pub fn repeat_time(
    calendar: &Calendar,
    hours: &WorkingHours,
    rung: &Rung,
    fired: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let every = rung.repeat_every? as i32;
    let day = calendar
        .add_working_days(calendar.local_date(&fired), every)
        .date;
    let start = hours.periods().first().map(|(s, _)| *s).unwrap_or_default();
    Some(local(calendar, day.and_time(start)))
}

/// The rungs still ahead at `now` for a duty due on `deadline`, in firing order: `(rung index,
/// moment)`. Rungs whose moment has passed are left out (a duty opened late does not replay
/// the earlier nudges), except that the latest passed rung fires at once when the deadline has
/// already passed, so an overdue duty is chased immediately.
pub fn plan(
    calendar: &Calendar,
    hours: &WorkingHours,
    ladder: &Ladder,
    deadline: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<(usize, DateTime<Utc>)> {
    let mut times: Vec<(usize, DateTime<Utc>)> = ladder
        .rungs
        .iter()
        .enumerate()
        .map(|(i, rung)| (i, fire_time(calendar, hours, ladder, rung, deadline)))
        .collect();
    times.sort_by_key(|(_, at)| *at);
    let passed: Vec<(usize, DateTime<Utc>)> =
        times.iter().copied().filter(|(_, at)| *at <= now).collect();
    let mut ahead: Vec<(usize, DateTime<Utc>)> =
        times.into_iter().filter(|(_, at)| *at > now).collect();
    if let Some((i, _)) = passed.last()
        && deadline_moment(calendar, hours, deadline) <= now
    {
        ahead.insert(0, (*i, now));
    }
    ahead
}

#[cfg(test)]
mod tests;
