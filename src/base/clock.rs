//! The company clock: the only place that reads the wall clock, and the one conversion of an
//! instant into the company's local date and time (bot.toml `[calendar] time_zone`).
//!
//! The application builds one [`Clock`] and hands clones to everything that reads time; clones
//! share one offset, which the simulator moves ahead ("jump ahead") so that reminders and
//! deadlines can be watched without waiting (0 unless the simulator sets it). Pure code (the
//! domain) never reads a clock: it is given a [`Now`] (a pure value of [`crate::base::calendar`]),
//! read here at the edge.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use crate::base::calendar::{DEFAULT_TIME_ZONE, Now, local_datetime};

/// Wall time plus an adjustable offset, in the company's time zone; cheap to clone, clones
/// share the offset.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    zone: Tz,
    /// Milliseconds added to the wall clock (the simulator's "jump ahead").
    offset_ms: AtomicI64,
}

impl Default for Clock {
    /// The wall clock in [`DEFAULT_TIME_ZONE`], the zone bot.toml falls back to.
    fn default() -> Self {
        Clock::new(DEFAULT_TIME_ZONE)
    }
}

impl Clock {
    /// The wall clock, no offset, with local dates in `zone`.
    pub fn new(zone: Tz) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                zone,
                offset_ms: AtomicI64::new(0),
            }),
        }
    }

    /// The company's time zone.
    pub fn zone(&self) -> Tz {
        self.inner.zone
    }

    /// Milliseconds since the Unix epoch, now (plus the offset, normally 0).
    pub fn now_ms(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        wall.saturating_add(self.offset_ms())
    }

    /// The current moment with its local date.
    pub fn now(&self) -> Now {
        self.at(self.now_ms())
    }

    /// The moment `ms` with its local date.
    pub fn at(&self, ms: i64) -> Now {
        Now {
            ms,
            today: self.local(ms).date(),
        }
    }

    /// The company's local date and time at `ms`.
    pub fn local(&self, ms: i64) -> NaiveDateTime {
        local_datetime(self.inner.zone, ms)
    }

    /// The offset added to the wall clock.
    pub fn offset_ms(&self) -> i64 {
        self.inner.offset_ms.load(Ordering::Relaxed)
    }

    /// Sets the offset added to the wall clock, for this clock and all its clones.
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.inner.offset_ms.store(offset_ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_local_date_turns_at_local_midnight_in_shanghai() {
        let clock = Clock::new(chrono_tz::Asia::Shanghai);
        // 16:30 UTC on 30 November is 00:30 on 1 December in Shanghai.
        let now = clock.at(ms("2026-11-30T16:30:00Z"));
        assert_eq!(now.today, date(2026, 12, 1));
        assert_eq!(
            clock.local(now.ms).format("%Y-%m-%d %H:%M").to_string(),
            "2026-12-01 00:30"
        );
        // A minute before local midnight it is still 30 November.
        assert_eq!(
            clock.at(ms("2026-11-30T15:59:00Z")).today,
            date(2026, 11, 30)
        );
        // New Year's Eve in UTC is already the new year (and its case numbers) in Shanghai.
        assert_eq!(clock.at(ms("2026-12-31T16:00:00Z")).year(), 2027);
    }

    #[test]
    fn another_zone_gives_its_own_dates() {
        let clock = Clock::new(chrono_tz::America::New_York);
        assert_eq!(clock.zone(), chrono_tz::America::New_York);
        // 03:30 UTC on 1 December is still the evening of 30 November in New York (UTC-5).
        let now = clock.at(ms("2026-12-01T03:30:00Z"));
        assert_eq!(now.today, date(2026, 11, 30));
        assert_eq!(clock.local(now.ms).format("%H:%M").to_string(), "22:30");
        // In July daylight saving time applies (UTC-4).
        let summer = clock.local(ms("2026-07-01T03:30:00Z"));
        assert_eq!(summer.format("%m-%d %H:%M").to_string(), "06-30 23:30");
    }

    #[test]
    fn the_offset_jumps_every_clone_ahead() {
        let clock = Clock::default();
        assert_eq!(clock.zone(), chrono_tz::Asia::Shanghai);
        assert_eq!(clock.offset_ms(), 0);
        let shared = clock.clone();
        let before = clock.now_ms();
        let week = 7 * 86_400_000;
        shared.set_offset_ms(week);
        let after = clock.now_ms();
        assert_eq!(clock.offset_ms(), week);
        assert!(after - before >= week, "the jump moves now ahead");
        assert!(after - before < week + 60_000, "by the jump, not more");
        assert!(clock.now().today >= clock.at(before).today + chrono::Days::new(7));
        // Another clock is not moved: each bot has its own.
        assert!(Clock::default().now_ms() < after - week / 2);
        clock.set_offset_ms(0);
        assert!(shared.now_ms() < after - week / 2);
    }
}
