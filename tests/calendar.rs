//! The working-day calendar against the published holiday notices for 2024–2026: every holiday
//! period, its make-up days and the days around it; deadlines over holidays and into a year
//! without data (its statutory holidays by the national rules, provisional); the explanation;
//! working hours; the time zone. The CLI and `flowbot check` are in `calendar/cli.rs`, the
//! reload of a changed folder in `calendar/reload.rs`.

#[path = "calendar/cli.rs"]
mod cli;
#[path = "calendar/hours.rs"]
mod hours;
#[path = "calendar/reload.rs"]
mod reload;

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use flowbot::base::calendar::{self, Calendar, DayKind, Deadline};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect(s)
}

/// The shipped calendar, `bot-scripts/calendar`.
pub fn shipped() -> Calendar {
    calendar::load(&root().join("bot-scripts/calendar")).expect("the shipped calendar loads")
}

/// Every holiday period of the State Council's notices: (name, first day off, last day off,
/// make-up working days). 2025's National Day runs on into Mid-Autumn (10-06, see `RENAMED`).
const PERIODS: &[(&str, &str, &str, &[&str])] = &[
    ("元旦", "2024-01-01", "2024-01-01", &[]),
    (
        "春节",
        "2024-02-10",
        "2024-02-17",
        &["2024-02-04", "2024-02-18"],
    ),
    ("清明节", "2024-04-04", "2024-04-06", &["2024-04-07"]),
    (
        "劳动节",
        "2024-05-01",
        "2024-05-05",
        &["2024-04-28", "2024-05-11"],
    ),
    ("端午节", "2024-06-10", "2024-06-10", &[]),
    ("中秋节", "2024-09-15", "2024-09-17", &["2024-09-14"]),
    (
        "国庆节",
        "2024-10-01",
        "2024-10-07",
        &["2024-09-29", "2024-10-12"],
    ),
    ("元旦", "2025-01-01", "2025-01-01", &[]),
    (
        "春节",
        "2025-01-28",
        "2025-02-04",
        &["2025-01-26", "2025-02-08"],
    ),
    ("清明节", "2025-04-04", "2025-04-06", &[]),
    ("劳动节", "2025-05-01", "2025-05-05", &["2025-04-27"]),
    ("端午节", "2025-05-31", "2025-06-02", &[]),
    (
        "国庆节",
        "2025-10-01",
        "2025-10-08",
        &["2025-09-28", "2025-10-11"],
    ),
    ("元旦", "2026-01-01", "2026-01-03", &["2026-01-04"]),
    (
        "春节",
        "2026-02-15",
        "2026-02-23",
        &["2026-02-14", "2026-02-28"],
    ),
    ("清明节", "2026-04-04", "2026-04-06", &[]),
    ("劳动节", "2026-05-01", "2026-05-05", &["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", &[]),
    ("中秋节", "2026-09-25", "2026-09-27", &[]),
    (
        "国庆节",
        "2026-10-01",
        "2026-10-07",
        &["2026-09-20", "2026-10-10"],
    ),
];

/// Days inside a period that carry another name in the notice.
const RENAMED: &[(&str, &str)] = &[("2025-10-06", "中秋节")];

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn all_makeup() -> Vec<NaiveDate> {
    PERIODS
        .iter()
        .flat_map(|p| p.3.iter().map(|d| date(d)))
        .collect()
}

/// Each period: every day off is a holiday with its name, each make-up day is a working day
/// for that holiday, and the days just before and after are ordinary days.
#[test]
fn every_holiday_period_of_2024_to_2026() {
    let cal = shipped();
    let makeup = all_makeup();
    for (name, start, end, makeups) in PERIODS {
        let (start, end) = (date(start), date(end));
        for d in start.iter_days().take_while(|d| *d <= end) {
            let expected = RENAMED
                .iter()
                .find(|(day, _)| date(day) == d)
                .map_or(*name, |(_, n)| *n);
            assert_eq!(cal.day(d), DayKind::Holiday(expected.into()), "{d}");
            assert!(!cal.is_working_day(d), "{d} is a day off");
        }
        for m in *makeups {
            let m = date(m);
            assert!(is_weekend(m), "{m}: make-up days are weekend days");
            assert_eq!(cal.day(m), DayKind::Makeup(name.to_string()), "{m}");
            assert!(cal.is_working_day(m), "{m} is worked");
        }
        for around in [start.pred_opt().unwrap(), end.succ_opt().unwrap()] {
            assert!(
                !matches!(cal.day(around), DayKind::Holiday(_)),
                "{around} is outside {name}"
            );
            let working = !is_weekend(around) || makeup.contains(&around);
            assert_eq!(
                cal.is_working_day(around),
                working,
                "{around} next to {name}"
            );
        }
    }
}

/// The table above is the whole of the data: no other holiday or make-up day in 2024–2026.
#[test]
fn the_data_has_no_other_special_days() {
    let cal = shipped();
    assert_eq!(cal.years().collect::<Vec<_>>(), [2024, 2025, 2026]);
    let (mut holidays, mut makeups) = (0, 0);
    for d in date("2024-01-01")
        .iter_days()
        .take_while(|d| *d <= date("2026-12-31"))
    {
        match cal.day(d) {
            DayKind::Holiday(_) => holidays += 1,
            DayKind::Makeup(_) => makeups += 1,
            DayKind::Weekday => assert!(!is_weekend(d)),
            DayKind::Weekend => assert!(is_weekend(d)),
        }
    }
    let listed: i64 = PERIODS
        .iter()
        .map(|p| (date(p.2) - date(p.1)).num_days() + 1)
        .sum();
    assert_eq!(holidays, listed);
    assert_eq!(makeups, all_makeup().len());
    assert_eq!((holidays, makeups), (28 + 28 + 33, 8 + 5 + 6));
}

/// The worked example: 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13.
#[test]
fn worked_example_national_day_2026() {
    let cal = shipped();
    let d = cal.add_working_days(date("2026-09-30"), 5);
    assert_eq!(
        d,
        Deadline {
            date: date("2026-10-13"),
            provisional: false
        }
    );
    assert_eq!(d.to_string(), "2026-10-13");
    let e = cal.explain(date("2026-09-30"), 5);
    let counted: Vec<NaiveDate> = e.counted().map(|s| s.date).collect();
    let expected = [
        "2026-10-08",
        "2026-10-09",
        "2026-10-10",
        "2026-10-12",
        "2026-10-13",
    ];
    assert_eq!(counted, expected.map(date));
}

#[test]
fn deadlines_around_other_holidays() {
    let cal = shipped();
    let cases = [
        // Spring Festival 2026: 02-15..02-23 off, 02-14 and 02-28 worked.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-24", 4, "2026-02-28"),
        // New Year 2026: 01-01..01-03 off, Sunday 01-04 worked.
        ("2025-12-31", 1, "2026-01-04"),
        // 2025 National Day and Mid-Autumn: 10-01..10-08 off, 10-11 worked.
        ("2025-09-30", 3, "2025-10-11"),
        ("2025-09-26", 1, "2025-09-28"),
        // An ordinary week: Friday + 1 is Monday.
        ("2026-11-20", 1, "2026-11-23"),
        ("2026-11-20", 0, "2026-11-20"),
        // Counting back: the 2nd working day before 2026-10-13 is 10-10 (make-up Saturday).
        ("2026-10-13", -2, "2026-10-10"),
        ("2026-10-08", -1, "2026-09-30"),
    ];
    for (start, n, end) in cases {
        let d = cal.add_working_days(date(start), n);
        assert_eq!(d.date, date(end), "{start} + {n}");
        assert!(!d.provisional, "{start} + {n}");
    }
}

/// Into 2027 (no data yet): weekdays less the statutory holidays of the national rules, marked
/// provisional; inside 2026 it is not.
#[test]
fn year_boundary_is_provisional() {
    let cal = shipped();
    let d = cal.add_working_days(date("2026-12-30"), 5);
    assert_eq!(d.date, date("2027-01-07"));
    assert!(d.provisional);
    assert_eq!(d.to_string(), "2027-01-07 (provisional)");

    let e = cal.explain(date("2026-12-30"), 5);
    let provisional: Vec<bool> = e.steps.iter().map(|s| s.provisional).collect();
    // 12-31, 01-01 (元旦), 01-02 (Sat), 01-03 (Sun), 01-04, 01-05, 01-06, 01-07.
    assert_eq!(
        provisional,
        [false, true, true, true, true, true, true, true]
    );
    assert_eq!(
        e.steps[1].kind,
        DayKind::Holiday("元旦".into()),
        "2027-01-01 by the national rules"
    );
    assert_eq!(e.steps[1].count, None);

    let inside = cal.add_working_days(date("2026-12-24"), 5);
    assert_eq!(
        (inside.date, inside.provisional),
        (date("2026-12-31"), false)
    );
    // Before the rules of 2025 nothing is computed: weekdays only.
    let before = cal.add_working_days(date("2024-01-02"), -1);
    assert_eq!(
        (before.date, before.provisional),
        (date("2023-12-29"), true)
    );
    // No data at all: 2026's statutory days 10-01..10-03 only, no make-up Saturday.
    let empty = Calendar::default().add_working_days(date("2026-09-30"), 5);
    assert_eq!((empty.date, empty.provisional), (date("2026-10-09"), true));
}

/// 2027 has no file yet: the statutory holidays of the rules in force from 2025 apply, with
/// the lunar dates computed (除夕 2027-02-05, 初一 02-06, 清明 04-05, 端午 06-09, 中秋 09-15),
/// and no make-up day is guessed.
#[test]
fn statutory_holidays_of_a_year_without_data() {
    let cal = shipped();
    assert!(!cal.has_year(2027));
    let holidays = [
        ("2027-01-01", "元旦"),
        ("2027-02-05", "春节"),
        ("2027-02-06", "春节"),
        ("2027-02-07", "春节"),
        ("2027-02-08", "春节"),
        ("2027-04-05", "清明节"),
        ("2027-05-01", "劳动节"),
        ("2027-05-02", "劳动节"),
        ("2027-06-09", "端午节"),
        ("2027-09-15", "中秋节"),
        ("2027-10-01", "国庆节"),
        ("2027-10-02", "国庆节"),
        ("2027-10-03", "国庆节"),
    ];
    for (day, name) in holidays {
        assert_eq!(cal.day(date(day)), DayKind::Holiday(name.into()), "{day}");
    }
    let off = |d: NaiveDate| matches!(cal.day(d), DayKind::Holiday(_));
    let year = date("2027-01-01")
        .iter_days()
        .take_while(|d| d.year() == 2027);
    assert_eq!(year.filter(|d| off(*d)).count(), holidays.len());
    // The days around them are ordinary: 02-04 and 02-09 (初四) work, 10-04 too; no make-up
    // Saturday or Sunday is guessed.
    for day in [
        "2027-02-04",
        "2027-02-09",
        "2027-04-06",
        "2027-06-10",
        "2027-10-04",
    ] {
        assert_eq!(cal.day(date(day)), DayKind::Weekday, "{day}");
    }
    assert!(
        date("2027-01-01")
            .iter_days()
            .take_while(|d| d.year() == 2027)
            .all(|d| !matches!(cal.day(d), DayKind::Makeup(_)))
    );
    let cases = [
        // The brief's case: 12-29, 12-30, 12-31, then 元旦 and a weekend, 01-04, 01-05.
        ("2026-12-28", 5, "2027-01-05"),
        // 春节: 除夕 (Fri) to 初三 (Mon), then Tuesday.
        ("2027-02-04", 1, "2027-02-09"),
        // 清明 is a Monday, 端午 and 中秋 Wednesdays.
        ("2027-04-02", 1, "2027-04-06"),
        ("2027-06-08", 1, "2027-06-10"),
        ("2027-09-14", 1, "2027-09-16"),
        // 国庆 1–3 October (Fri–Sun): Monday works.
        ("2027-09-30", 1, "2027-10-04"),
    ];
    for (start, n, end) in cases {
        let d = cal.add_working_days(date(start), n);
        assert_eq!((d.date, d.provisional), (date(end), true), "{start} + {n}");
    }
}

#[test]
fn explain_lists_counted_and_skipped_days() {
    let text = shipped().explain(date("2026-09-30"), 5).to_string();
    let expected = "\
5 working days after 2026-09-30 Wed (not counted):
  2026-10-01 Thu  skipped  holiday: 国庆节
  2026-10-02 Fri  skipped  holiday: 国庆节
  2026-10-03 Sat  skipped  holiday: 国庆节
  2026-10-04 Sun  skipped  holiday: 国庆节
  2026-10-05 Mon  skipped  holiday: 国庆节
  2026-10-06 Tue  skipped  holiday: 国庆节
  2026-10-07 Wed  skipped  holiday: 国庆节
  2026-10-08 Thu  day 1    working day
  2026-10-09 Fri  day 2    working day
  2026-10-10 Sat  day 3    make-up working day for 国庆节
  2026-10-11 Sun  skipped  weekend
  2026-10-12 Mon  day 4    working day
  2026-10-13 Tue  day 5    working day
deadline: 2026-10-13 Tue";
    assert_eq!(text, expected);

    let e = shipped().explain(date("2026-12-30"), 5);
    let text = e.to_string();
    assert!(
        text.contains("2027-01-01 Fri  skipped  holiday: 元旦 (provisional statutory holiday: no holiday data for 2027, taken from the national rules)"),
        "{text}"
    );
    assert!(
        text.contains("2027-01-04 Mon  day 2    working day (no holiday data for 2027)"),
        "{text}"
    );
    assert!(text.ends_with("deadline: 2027-01-07 Thu (provisional: a year without holiday data was counted on weekdays less the statutory holidays of the national rules, without make-up days)"), "{text}");
    assert_eq!(e.skipped().count(), 3);
}

/// Day boundaries are Shanghai's, not UTC's or the server's.
#[test]
fn dates_are_taken_in_the_company_time_zone() {
    let cal = shipped();
    assert_eq!(cal.time_zone(), chrono_tz::Asia::Shanghai);
    let instant = Utc.with_ymd_and_hms(2026, 10, 7, 20, 0, 0).unwrap();
    assert_eq!(
        instant.date_naive(),
        date("2026-10-07"),
        "still a holiday in UTC"
    );
    assert_eq!(cal.local_date(&instant), date("2026-10-08"));
    assert!(cal.is_working_day(cal.local_date(&instant)));
    let clock = flowbot::base::clock::Clock::new(cal.time_zone());
    assert_eq!(
        clock.at(instant.timestamp_millis()).today,
        date("2026-10-08")
    );

    // 2026-10-09 00:30 in Shanghai: one working day later is the make-up Saturday.
    let late = Utc.with_ymd_and_hms(2026, 10, 8, 16, 30, 0).unwrap();
    assert_eq!(cal.working_days_after(&late, 1).date, date("2026-10-10"));
    let utc = shipped().with_time_zone(chrono_tz::UTC);
    assert_eq!(utc.working_days_after(&late, 1).date, date("2026-10-09"));
    assert_eq!(utc.local_date(&instant), date("2026-10-07"));
}
