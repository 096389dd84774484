//! Instants as the company's local dates and times: pure conversions in a given time zone.
//! The [`crate::base::clock::Clock`] reads the time and hands out [`Now`]s; the domain takes them.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// A moment as the company sees it: the instant and the company's local date at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Milliseconds since the Unix epoch.
    pub ms: i64,
    /// The company's local date at `ms`.
    pub today: NaiveDate,
}

impl Now {
    /// The instant, for the calendar's working-hour arithmetic.
    pub fn instant(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.ms).unwrap_or_default()
    }

    /// The year of the local date (case numbers count per year).
    pub fn year(&self) -> i32 {
        self.today.year()
    }
}

/// The local date and time in `zone` at `ms` milliseconds since the Unix epoch.
pub fn local_datetime(zone: Tz, ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&zone)
        .naive_local()
}
