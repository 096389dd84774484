//! Why a working-day deadline falls where it does: every day passed, counted or skipped, with
//! the holiday names from the data. Shown by `flowbot workdays explain`. In a year without data
//! a holiday is the statutory one of the national rules, and says it is provisional.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::{DayKind, Deadline};

/// One day passed while counting working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// `Some(k)` when this day is the `k`-th working day counted; `None` when skipped.
    pub count: Option<u32>,
    /// Its year has no holiday data: only the weekday was looked at.
    pub provisional: bool,
}

/// The days counted and skipped from `start` to the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub start: NaiveDate,
    pub n: i32,
    pub steps: Vec<Step>,
    pub deadline: Deadline,
}

impl Explanation {
    /// The skipped days (holidays and weekends).
    pub fn skipped(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.count.is_none())
    }

    /// The counted working days, in counting order.
    pub fn counted(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.count.is_some())
    }
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d %a").to_string()
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.kind {
            DayKind::Weekday => "working day".to_owned(),
            DayKind::Makeup(name) => format!("make-up working day for {name}"),
            DayKind::Holiday(name) => format!("holiday: {name}"),
            DayKind::Weekend => "weekend".to_owned(),
        };
        let count = match self.count {
            Some(k) => format!("day {k}"),
            None => "skipped".to_owned(),
        };
        write!(f, "{}  {count:<8} {what}", day(self.date))?;
        match (&self.kind, self.provisional) {
            (DayKind::Holiday(_), true) => write!(
                f,
                " (provisional statutory holiday: no holiday data for {}, taken from the national rules)",
                self.date.year()
            )?,
            (_, true) => write!(f, " (no holiday data for {})", self.date.year())?,
            (_, false) => {}
        }
        Ok(())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.n.unsigned_abs();
        let unit = if n == 1 {
            "working day"
        } else {
            "working days"
        };
        let dir = if self.n < 0 { "before" } else { "after" };
        writeln!(f, "{n} {unit} {dir} {} (not counted):", day(self.start))?;
        for s in &self.steps {
            writeln!(f, "  {s}")?;
        }
        write!(f, "deadline: {}", day(self.deadline.date))?;
        if self.deadline.provisional {
            write!(
                f,
                " (provisional: a year without holiday data was counted on weekdays less the \
                 statutory holidays of the national rules, without make-up days)"
            )?;
        }
        Ok(())
    }
}
