//! Working-hour deadlines: only the working periods of working days count, in Shanghai time.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::{Asia::Shanghai, Tz};
use flowbot::base::calendar::WorkingHours;

use super::shipped;

fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Tz> {
    Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn nine_to_five() -> WorkingHours {
    WorkingHours::parse(&["09:00-12:00", "13:00-17:00"]).unwrap()
}

/// Friday 16:00 + 3 working hours: one hour on Friday, two on Monday.
#[test]
fn friday_afternoon_runs_into_monday() {
    let cal = shipped();
    let d = cal.add_working_hours(
        &sh(2026, 11, 20, 16, 0),
        TimeDelta::hours(3),
        &nine_to_five(),
    );
    assert_eq!(d.at, sh(2026, 11, 23, 11, 0));
    assert!(!d.provisional);
    // With the shipped hours (until 17:30 and from 13:30): 1.5 h on Friday, 1.5 h on Monday.
    let default = WorkingHours::default();
    assert_eq!(default.to_string(), "09:00-12:00, 13:30-17:30");
    assert_eq!(default.per_day(), TimeDelta::hours(7));
    let d = cal.add_working_hours(&sh(2026, 11, 20, 16, 0), TimeDelta::hours(3), &default);
    assert_eq!(d.at, sh(2026, 11, 23, 10, 30));
}

#[test]
fn a_make_up_saturday_counts_and_holidays_do_not() {
    let cal = shipped();
    let h = nine_to_five();
    let d = cal.add_working_hours(&sh(2026, 10, 9, 16, 0), TimeDelta::hours(3), &h);
    assert_eq!(d.at, sh(2026, 10, 10, 11, 0), "make-up Saturday 2026-10-10");
    let d = cal.add_working_hours(&sh(2026, 9, 30, 16, 0), TimeDelta::hours(3), &h);
    assert_eq!(d.at, sh(2026, 10, 8, 11, 0), "over National Day");
}

#[test]
fn lunch_period_ends_and_outside_hours() {
    let cal = shipped();
    let h = WorkingHours::default();
    let add = |start, hours: f64| {
        let minutes = (hours * 60.0) as i64;
        cal.add_working_hours(&start, TimeDelta::minutes(minutes), &h)
            .at
    };
    assert_eq!(add(sh(2026, 11, 18, 11, 0), 2.0), sh(2026, 11, 18, 14, 30));
    assert_eq!(add(sh(2026, 11, 20, 16, 0), 1.5), sh(2026, 11, 20, 17, 30));
    assert_eq!(add(sh(2026, 11, 21, 10, 0), 1.0), sh(2026, 11, 23, 10, 0));
    assert_eq!(add(sh(2026, 11, 18, 20, 0), 7.0), sh(2026, 11, 19, 17, 30));
    assert_eq!(add(sh(2026, 11, 18, 20, 0), 0.0), sh(2026, 11, 18, 20, 0));
}

/// The start may be given in any zone; the count is on Shanghai's clock and days.
#[test]
fn working_hours_are_counted_in_shanghai() {
    let cal = shipped();
    let start = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap(); // Friday 16:00 Shanghai
    let d = cal.add_working_hours(&start, TimeDelta::hours(3), &nine_to_five());
    assert_eq!(d.at, sh(2026, 11, 23, 11, 0));
    assert_eq!(
        d.at.with_timezone(&Utc),
        Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap()
    );

    // 2026-10-07T20:00Z is Thursday 10-08 04:00 in Shanghai: the next working moment is 09:00
    // that day, not after the holiday the UTC date is still in.
    let early = Utc.with_ymd_and_hms(2026, 10, 7, 20, 0, 0).unwrap();
    assert_eq!(
        cal.next_working_time(&early, &nine_to_five()).at,
        sh(2026, 10, 8, 9, 0)
    );
    assert!(!cal.is_working_time(&early, &nine_to_five()));
    assert!(cal.is_working_time(&sh(2026, 10, 10, 9, 0), &nine_to_five()));
    assert!(!cal.is_working_time(&sh(2026, 10, 11, 10, 0), &nine_to_five()));
}

#[test]
fn provisional_beyond_the_data_and_bad_periods() {
    let cal = shipped();
    let d = cal.add_working_hours(
        &sh(2026, 12, 31, 16, 0),
        TimeDelta::hours(3),
        &nine_to_five(),
    );
    assert_eq!(
        d.at,
        sh(2027, 1, 4, 11, 0),
        "2027-01-01 is 元旦 by the national rules, then a weekend"
    );
    assert!(d.provisional);
    for bad in [
        &["09:00-12:00", "11:00-17:00"][..],
        &["12:00-09:00"],
        &["9-12"],
        &["09:00-24:00"],
        &[],
    ] {
        assert!(WorkingHours::parse(bad).is_err(), "{bad:?}");
    }
}
