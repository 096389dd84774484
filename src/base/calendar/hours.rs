//! Working-hour arithmetic: the working periods of a working day (bot.toml
//! `[calendar.working_hours]`, e.g. 09:00–12:00 and 13:30–17:30, local time), and deadlines that
//! count only that time on working days (approvals: "within 4 working hours").

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

use super::Calendar;

/// The working periods of every working day, in local time: sorted, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for WorkingHours {
    /// 09:00–12:00 and 13:30–17:30.
    fn default() -> Self {
        WorkingHours::parse(&["09:00-12:00", "13:30-17:30"]).expect("valid default")
    }
}

fn hhmm(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.trim().split_once(':')?;
    let ok = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || !ok(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl WorkingHours {
    /// Periods `(start, end)`; refused when empty, when one ends before it starts, or when they
    /// overlap or are out of order.
    pub fn new(periods: Vec<(NaiveTime, NaiveTime)>) -> Result<WorkingHours, String> {
        if periods.is_empty() {
            return Err("no working period".into());
        }
        for (i, (s, e)) in periods.iter().enumerate() {
            if s >= e {
                return Err(format!("{} ends before it starts", Period(*s, *e)));
            }
            if let Some((_, prev_end)) = i.checked_sub(1).map(|j| periods[j])
                && prev_end > *s
            {
                return Err(format!(
                    "{} starts before the previous period ends",
                    Period(*s, *e)
                ));
            }
        }
        Ok(WorkingHours { periods })
    }

    /// Periods written `HH:MM-HH:MM` (an en dash `–` also works).
    pub fn parse<S: AsRef<str>>(periods: &[S]) -> Result<WorkingHours, String> {
        let parsed = periods
            .iter()
            .map(|p| {
                let p = p.as_ref();
                p.split_once(['-', '–'])
                    .and_then(|(s, e)| Some((hhmm(s)?, hhmm(e)?)))
                    .ok_or_else(|| format!("`{p}` is not a period HH:MM-HH:MM"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        WorkingHours::new(parsed)
    }

    pub fn periods(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.periods
    }

    /// Working time in one working day.
    pub fn per_day(&self) -> TimeDelta {
        self.periods.iter().map(|(s, e)| *e - *s).sum()
    }
}

struct Period(NaiveTime, NaiveTime);

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0.format("%H:%M"), self.1.format("%H:%M"))
    }
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (s, e)) in self.periods.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{}", Period(*s, *e))?;
        }
        Ok(())
    }
}

/// The end of a count of working hours, in the company's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeDeadline {
    pub at: DateTime<Tz>,
    /// The count crossed a year without holiday data (weekdays only were counted there).
    pub provisional: bool,
}

impl Calendar {
    /// `duration` of working time after `start`: only the working periods of working days
    /// count, in the company's time zone. A count that ends exactly at the end of a period ends
    /// there (not at the next period's start); zero or a negative duration is `start` itself.
    pub fn add_working_hours<Z: TimeZone>(
        &self,
        start: &DateTime<Z>,
        duration: TimeDelta,
        hours: &WorkingHours,
    ) -> TimeDeadline {
        if duration <= TimeDelta::zero() {
            let at = start.with_timezone(&self.time_zone);
            let provisional = !self.has_year(at.year());
            return TimeDeadline { at, provisional };
        }
        self.run(start, duration, hours)
    }

    /// The first instant at or after `start` inside working hours on a working day (where a
    /// nudge that must wait for working time goes).
    pub fn next_working_time<Z: TimeZone>(
        &self,
        start: &DateTime<Z>,
        hours: &WorkingHours,
    ) -> TimeDeadline {
        self.run(start, TimeDelta::zero(), hours)
    }

    /// Whether `instant` is inside working hours on a working day.
    pub fn is_working_time<Z: TimeZone>(
        &self,
        instant: &DateTime<Z>,
        hours: &WorkingHours,
    ) -> bool {
        let local = instant.with_timezone(&self.time_zone).naive_local();
        self.is_working_day(local.date())
            && hours
                .periods
                .iter()
                .any(|(s, e)| *s <= local.time() && local.time() < *e)
    }

    /// Consumes `remaining` working time from `start`; with zero, stops at the first working
    /// moment.
    fn run<Z: TimeZone>(
        &self,
        start: &DateTime<Z>,
        mut remaining: TimeDelta,
        hours: &WorkingHours,
    ) -> TimeDeadline {
        let local = start.with_timezone(&self.time_zone).naive_local();
        let (mut day, mut cursor) = (local.date(), local.time());
        let mut provisional = false;
        loop {
            provisional |= !self.has_year(day.year());
            if self.is_working_day(day) {
                for (s, e) in &hours.periods {
                    let from = cursor.max(*s);
                    if from >= *e {
                        continue;
                    }
                    let available = *e - from;
                    if remaining <= available {
                        let at = self.resolve(day.and_time(from) + remaining);
                        return TimeDeadline { at, provisional };
                    }
                    remaining -= available;
                }
            }
            let Some(next) = day.succ_opt() else {
                let at = self.resolve(day.and_time(cursor));
                return TimeDeadline { at, provisional };
            };
            day = next;
            cursor = NaiveTime::MIN;
        }
    }

    /// A local wall-clock time as an instant; a time skipped by a daylight-saving change is
    /// taken one hour later, an ambiguous one at its first occurrence.
    fn resolve(&self, local: NaiveDateTime) -> DateTime<Tz> {
        let tz = self.time_zone;
        tz.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + TimeDelta::hours(1)))
                    .earliest()
            })
            .unwrap_or_else(|| tz.from_utc_datetime(&local))
    }
}
