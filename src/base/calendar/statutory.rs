//! The statutory holidays of the national rules in force (国务院《全国年节及纪念日放假办法》 as
//! revised in November 2024, in force from 2025), for a year whose State Council notice is not
//! in the data yet: 元旦 1 January; 春节 农历除夕 to 正月初三 (4 days); 清明节 the day of the 清明
//! solar term; 劳动节 1–2 May; 端午节 农历五月初五; 中秋节 农历八月十五; 国庆节 1–3 October.
//!
//! Only the statutory days themselves: the yearly notice moves weekends around them (调休) and
//! names make-up working days, which are never guessed here. Lunar dates and the solar term
//! are computed by the `tyme4rs` crate (astronomical, checked against the published notices in
//! the tests). Results are memoised per year.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Datelike, NaiveDate};
use tyme4rs::tyme::lunar::LunarDay;
use tyme4rs::tyme::solar::{SolarDay, SolarTerm};

/// The first year of the rules as revised in 2024 (earlier years have published data).
pub const RULES_SINCE: i32 = 2025;
/// The last year computed; later years without data count weekdays only.
pub const RULES_UNTIL: i32 = 2100;

/// One year's statutory days off: (date, holiday name as in the calendar files), in date order;
/// a day of two holidays (中秋 on 1–3 October) is listed once with both names, `中秋节、国庆节`.
pub type Days = Arc<[(NaiveDate, String)]>;

/// The statutory holiday on `date` by the national rules, if any (years [`RULES_SINCE`] to
/// [`RULES_UNTIL`]; `None` outside them).
pub fn holiday_on(date: NaiveDate) -> Option<String> {
    days(date.year())
        .iter()
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name.clone())
}

/// The statutory days off of `year` by the national rules (empty outside the years covered).
pub fn days(year: i32) -> Days {
    static MEMO: OnceLock<Mutex<HashMap<i32, Days>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(days) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&year) {
        return days.clone();
    }
    let days: Days = compute(year).into();
    memo.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(year, days.clone());
    days
}

fn compute(year: i32) -> Vec<(NaiveDate, String)> {
    if !(RULES_SINCE..=RULES_UNTIL).contains(&year) {
        return Vec::new();
    }
    let solar = |month: u32, day: u32| NaiveDate::from_ymd_opt(year, month, day);
    let mut days = Vec::new();
    let mut add = |name: &'static str, first: Option<NaiveDate>, count: u64| {
        if let Some(first) = first {
            days.extend(first.iter_days().take(count as usize).map(|d| (d, name)));
        }
    };
    add("元旦", solar(1, 1), 1);
    // 除夕 is the day before 正月初一, whether the twelfth month has 29 or 30 days.
    let new_year_eve = lunar(year, 1, 1).and_then(|d| d.pred_opt());
    add("春节", new_year_eve, 4);
    add("清明节", solar_term(year, "清明"), 1);
    add("劳动节", solar(5, 1), 2);
    add("端午节", lunar(year, 5, 5), 1);
    add("中秋节", lunar(year, 8, 15), 1);
    add("国庆节", solar(10, 1), 3);
    days.sort();
    let mut merged: Vec<(NaiveDate, String)> = Vec::with_capacity(days.len());
    for (day, name) in days {
        match merged.last_mut() {
            Some((last, names)) if *last == day => *names = format!("{names}、{name}"),
            _ => merged.push((day, name.to_owned())),
        }
    }
    merged
}

/// The solar date of a day of the lunar year `year` (a month that is not the leap one).
fn lunar(year: i32, month: i32, day: usize) -> Option<NaiveDate> {
    let day = LunarDay::new(year as isize, month as isize, day).ok()?;
    date_of(day.get_solar_day())
}

/// The day (Beijing time) of the solar term `name` in `year`.
fn solar_term(year: i32, name: &str) -> Option<NaiveDate> {
    let term = SolarTerm::new(year as isize, name).ok()?;
    date_of(term.get_julian_day().get_solar_day())
}

fn date_of(day: SolarDay) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::try_from(day.get_year()).ok()?,
        u32::try_from(day.get_month()).ok()?,
        u32::try_from(day.get_day()).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// The lunar and solar-term days of the published notices 2024–2026 (the statutory day of
    /// each festival: 春节 from 除夕, as the 2025 and 2026 notices count it).
    #[test]
    fn computed_days_match_the_published_notices() {
        let known = [
            ("2024-02-09", 1, 1, "除夕 2024"),
            ("2025-01-28", 1, 1, "除夕 2025"),
            ("2026-02-16", 1, 1, "除夕 2026"),
        ];
        for (eve, m, d, what) in known {
            let first = lunar(date(eve).year(), m, d).expect(what);
            assert_eq!(first.pred_opt().unwrap(), date(eve), "{what}");
        }
        let lunar_days = [
            (2024, 5, 5, "2024-06-10"),
            (2024, 8, 15, "2024-09-17"),
            (2025, 5, 5, "2025-05-31"),
            (2025, 8, 15, "2025-10-06"),
            (2026, 5, 5, "2026-06-19"),
            (2026, 8, 15, "2026-09-25"),
        ];
        for (y, m, d, expected) in lunar_days {
            assert_eq!(lunar(y, m, d), Some(date(expected)), "{y}-{m}-{d}");
        }
        for (y, expected) in [
            (2024, "2024-04-04"),
            (2025, "2025-04-04"),
            (2026, "2026-04-05"),
        ] {
            assert_eq!(solar_term(y, "清明"), Some(date(expected)), "清明 {y}");
        }
    }

    #[test]
    fn the_2027_statutory_days() {
        let all = days(2027);
        let days: Vec<(String, &str)> = all
            .iter()
            .map(|(d, n)| (d.format("%m-%d").to_string(), n.as_str()))
            .collect();
        let expected = [
            ("01-01", "元旦"),
            ("02-05", "春节"),
            ("02-06", "春节"),
            ("02-07", "春节"),
            ("02-08", "春节"),
            ("04-05", "清明节"),
            ("05-01", "劳动节"),
            ("05-02", "劳动节"),
            ("06-09", "端午节"),
            ("09-15", "中秋节"),
            ("10-01", "国庆节"),
            ("10-02", "国庆节"),
            ("10-03", "国庆节"),
        ];
        let expected: Vec<(String, &str)> =
            expected.iter().map(|(d, n)| (d.to_string(), *n)).collect();
        assert_eq!(days, expected);
        assert_eq!(holiday_on(date("2027-02-05")).as_deref(), Some("春节"));
        assert_eq!(
            holiday_on(date("2027-02-09")),
            None,
            "初四 is not statutory"
        );
    }

    /// 13 days every year of the rules (12 when 中秋 falls on 1–3 October, a day off once under
    /// both names), none before them or after the last year computed.
    #[test]
    fn every_year_of_the_rules_has_thirteen_days() {
        for year in RULES_SINCE..=RULES_UNTIL {
            let days = days(year);
            let both = days.iter().filter(|(_, n)| n == "中秋节、国庆节").count();
            assert_eq!(days.len() + both, 13, "{year}: {days:?}");
            assert!(days.iter().all(|(d, _)| d.year() == year), "{year}");
            assert!(days.windows(2).all(|w| w[0].0 < w[1].0), "{year}");
        }
        let days_2028 = days(2028);
        assert!(
            days_2028.iter().any(|(_, n)| n == "中秋节、国庆节"),
            "{days_2028:?}"
        );
        assert!(days(2024).is_empty());
        assert!(days(RULES_UNTIL + 1).is_empty());
    }
}
