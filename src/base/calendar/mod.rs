//! The company's working-day calendar: statutory holidays and make-up working days (调休) per
//! year, read from `bot-scripts/calendar/cn-YYYY.toml` ([`load`]), and deadlines counted in
//! working days ([`Calendar::add_working_days`], [`Calendar::explain`]) or in working hours
//! ([`Calendar::add_working_hours`]).
//!
//! Pure apart from [`load`] and [`Reloader`]: the clock is always an input, and every date and
//! day boundary is taken in the company's time zone ([`Calendar::time_zone`], default
//! `Asia/Shanghai`), never in the zone the server runs in. A year without data falls back to
//! Monday–Friday less the statutory holidays of the national rules ([`statutory`]), and
//! whatever is computed from it is marked provisional (make-up days are never guessed).
//!
//! A [`Calendar`] is a handle: its clones share the holiday data, which the running bot replaces
//! when a file of the folder changes ([`Reloader`]); each question reads one consistent snapshot.

mod explain;
mod file;
mod hours;
mod local;
mod reload;
pub mod statutory;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;

pub use explain::{Explanation, Step};
pub use file::{load, load_with_warnings, missing_year_warnings, parse_year};
pub use hours::{TimeDeadline, WorkingHours};
pub use local::{Now, local_datetime};
pub use reload::{Reload, Reloader};

/// The time zone used when bot.toml names none.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// One year's published holidays, as in one `cn-YYYY.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Year {
    pub year: i32,
    pub holidays: Vec<Holiday>,
}

/// A period of days off (weekends inside it included) and the weekend days worked instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The holiday's name as published, e.g. `国庆节`.
    pub name: String,
    pub start: NaiveDate,
    /// The last day off (inclusive).
    pub end: NaiveDate,
    /// Make-up working days (调休上班) for this holiday.
    pub makeup: Vec<NaiveDate>,
}

/// What a date is on the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayKind {
    /// Monday–Friday outside any holiday: a working day.
    Weekday,
    /// A weekend day worked instead of the named holiday: a working day.
    Makeup(String),
    /// A day off of the named statutory holiday: published, or (in a year without data) by the
    /// national rules, see [`statutory`].
    Holiday(String),
    /// Saturday or Sunday, not a make-up day.
    Weekend,
}

impl DayKind {
    pub fn is_working(&self) -> bool {
        matches!(self, DayKind::Weekday | DayKind::Makeup(_))
    }
}

/// The end of a count of working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub date: NaiveDate,
    /// The count crossed a year without holiday data (weekdays only were counted there).
    pub provisional: bool,
}

impl std::fmt::Display for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.date.format("%Y-%m-%d"))?;
        if self.provisional {
            write!(f, " (provisional)")?;
        }
        Ok(())
    }
}

/// Holidays and make-up days of the years with data, and the company's time zone. Clones share
/// the data: [`Calendar::replace_data`] changes it for every clone (the bot's reload).
#[derive(Debug, Clone)]
pub struct Calendar {
    time_zone: Tz,
    data: Arc<RwLock<Arc<Data>>>,
}

/// The published data: the years with a file, and only the days that differ from the
/// Monday–Friday rule (holidays and make-up days).
#[derive(Debug, Default)]
struct Data {
    years: BTreeSet<i32>,
    special: HashMap<NaiveDate, DayKind>,
}

impl Data {
    fn has_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    fn day(&self, date: NaiveDate) -> DayKind {
        if let Some(kind) = self.special.get(&date) {
            return kind.clone();
        }
        if !self.has_year(date.year())
            && let Some(name) = statutory::holiday_on(date)
        {
            return DayKind::Holiday(name);
        }
        match date.weekday() {
            Weekday::Sat | Weekday::Sun => DayKind::Weekend,
            _ => DayKind::Weekday,
        }
    }
}

impl Default for Calendar {
    /// No data at all: every count is on weekdays less statutory holidays, and provisional.
    fn default() -> Self {
        Calendar::new(Vec::new())
    }
}

impl Calendar {
    /// A calendar of these years in [`DEFAULT_TIME_ZONE`]. The data is taken as validated
    /// (see [`parse_year`]): a day listed twice keeps its last listing.
    pub fn new(years: impl IntoIterator<Item = Year>) -> Calendar {
        let mut data = Data::default();
        for y in years {
            data.years.insert(y.year);
            for h in y.holidays {
                for d in h.start.iter_days().take_while(|d| *d <= h.end) {
                    data.special.insert(d, DayKind::Holiday(h.name.clone()));
                }
                for d in h.makeup {
                    data.special.insert(d, DayKind::Makeup(h.name.clone()));
                }
            }
        }
        Calendar {
            time_zone: DEFAULT_TIME_ZONE,
            data: Arc::new(RwLock::new(Arc::new(data))),
        }
    }

    /// The data now (a reload swaps it whole; a question asked of one snapshot is consistent).
    fn snapshot(&self) -> Arc<Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes `other`'s holiday data (not its time zone), for this calendar and all its clones.
    pub fn replace_data(&self, other: &Calendar) {
        let data = other.snapshot();
        *self.data.write().unwrap_or_else(|e| e.into_inner()) = data;
    }

    /// The same calendar with its days bounded in another time zone.
    pub fn with_time_zone(mut self, time_zone: Tz) -> Calendar {
        self.time_zone = time_zone;
        self
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// The years with holiday data, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + use<> {
        let years: Vec<i32> = self.snapshot().years.iter().copied().collect();
        years.into_iter()
    }

    pub fn has_year(&self, year: i32) -> bool {
        self.snapshot().has_year(year)
    }

    /// What `date` is; in a year without data, weekdays, weekends and the statutory holidays of
    /// the national rules ([`statutory`]), without make-up days.
    pub fn day(&self, date: NaiveDate) -> DayKind {
        self.snapshot().day(date)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day(date).is_working()
    }

    /// The company's local date at an instant.
    pub fn local_date<Z: TimeZone>(&self, instant: &DateTime<Z>) -> NaiveDate {
        instant.with_timezone(&self.time_zone).date_naive()
    }

    /// "Within `n` working days of `date`": the `n`-th working day after `date`, `date` itself
    /// not counted (a negative `n` counts back before `date`; 0 is `date`).
    /// 2026-09-30 + 5 → 2026-10-13, over the National Day holiday and a make-up Saturday.
    pub fn add_working_days(&self, date: NaiveDate, n: i32) -> Deadline {
        self.walk(date, n, |_| {})
    }

    /// Like [`Calendar::add_working_days`] from the company's local date at an instant.
    pub fn working_days_after<Z: TimeZone>(&self, instant: &DateTime<Z>, n: i32) -> Deadline {
        self.add_working_days(self.local_date(instant), n)
    }

    /// Every day passed by [`Calendar::add_working_days`]: the counted and the skipped ones.
    pub fn explain(&self, date: NaiveDate, n: i32) -> Explanation {
        let mut steps = Vec::new();
        let deadline = self.walk(date, n, |s| steps.push(s));
        Explanation {
            start: date,
            n,
            steps,
            deadline,
        }
    }

    /// Walks day by day from `date` until `n` working days are counted, reporting each day.
    fn walk(&self, date: NaiveDate, n: i32, mut report: impl FnMut(Step)) -> Deadline {
        let data = self.snapshot();
        let forward = n >= 0;
        let mut provisional = n == 0 && !data.has_year(date.year());
        let (mut day, mut counted) = (date, 0u32);
        while counted < n.unsigned_abs() {
            let next = if forward {
                day.succ_opt()
            } else {
                day.pred_opt()
            };
            let Some(next) = next else { break };
            day = next;
            let kind = data.day(day);
            let no_data = !data.has_year(day.year());
            provisional |= no_data;
            let count = kind.is_working().then(|| {
                counted += 1;
                counted
            });
            report(Step {
                date: day,
                kind,
                count,
                provisional: no_data,
            });
        }
        Deadline {
            date: day,
            provisional,
        }
    }
}
