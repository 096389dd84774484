//! The reminder planner and digests on the real 2026 calendar: rung days around National Day,
//! quiet-hour deferral, catch-up of an overdue duty, a 500-item digest.

use chrono::{NaiveDate, TimeZone, Utc};

use super::digest::{DigestItem, build};
use super::*;
use crate::base::calendar::{Calendar, DEFAULT_TIME_ZONE, WorkingHours};
use crate::base::scripts::ladders::Recipient;

fn calendar() -> Calendar {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts/calendar");
    crate::base::calendar::load(&dir)
        .expect("calendar")
        .with_time_zone(DEFAULT_TIME_ZONE)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A Shanghai wall-clock moment.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    DEFAULT_TIME_ZONE
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn ladder(urgent: bool) -> Ladder {
    let rung = |offset, to: Vec<Recipient>| Rung {
        offset,
        to,
        group: None,
        unit_group: false,
        repeat_every: None,
    };
    Ladder {
        urgent,
        rungs: vec![
            rung(Offset::WorkingDays(-2), vec![Recipient::Due]),
            rung(Offset::WorkingDays(-1), vec![Recipient::Due]),
            rung(
                Offset::WorkingDays(0),
                vec![Recipient::Due, Recipient::UnitLeader],
            ),
            rung(Offset::Hours(3), vec![Recipient::UnitLeader]),
            Rung {
                offset: Offset::WorkingDays(1),
                to: vec![Recipient::Propaganda],
                group: Some("xcb".into()),
                unit_group: false,
                repeat_every: Some(5),
            },
        ],
    }
}

#[test]
fn rungs_follow_the_working_day_calendar_around_national_day() {
    // A change on 2026-09-30 is due 2026-10-13 (the policy's worked example).
    let (cal, hours) = (calendar(), WorkingHours::default());
    let l = ladder(false);
    let at = |i: usize| fire_time(&cal, &hours, &l, &l.rungs[i], date(2026, 10, 13));
    assert_eq!(
        at(0),
        sh(2026, 10, 10, 9, 0),
        "T-2: the make-up Saturday 10 October is a working day"
    );
    assert_eq!(at(1), sh(2026, 10, 12, 9, 0), "T-1: Monday 12 October");
    assert_eq!(at(2), sh(2026, 10, 13, 9, 0), "T: the deadline morning");
    assert_eq!(at(4), sh(2026, 10, 14, 9, 0), "T+1");
    let repeat = repeat_time(&cal, &hours, &l.rungs[4], at(4)).unwrap();
    assert_eq!(repeat, sh(2026, 10, 21, 9, 0), "then every 5 working days");
}

#[test]
fn quiet_hours_defer_a_nudge_to_the_next_working_morning_but_not_an_urgent_one() {
    let (cal, hours) = (calendar(), WorkingHours::default());
    // 3 hours after the end of Friday 2026-11-27 is 20:30: quiet.
    let calm = ladder(false);
    let deferred = fire_time(&cal, &hours, &calm, &calm.rungs[3], date(2026, 11, 27));
    assert_eq!(deferred, sh(2026, 11, 30, 9, 0), "waits for Monday morning");
    let urgent = ladder(true);
    let at_once = fire_time(&cal, &hours, &urgent, &urgent.rungs[3], date(2026, 11, 27));
    assert_eq!(
        at_once,
        sh(2026, 11, 27, 20, 30),
        "an urgent duty is not deferred"
    );
}

#[test]
fn a_plan_skips_passed_rungs_and_chases_an_overdue_duty_at_once() {
    let (cal, hours) = (calendar(), WorkingHours::default());
    let l = ladder(false);
    let plan_at = |now| plan(&cal, &hours, &l, date(2026, 10, 13), now);
    let early = plan_at(sh(2026, 9, 30, 10, 0));
    assert_eq!(
        early.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    let mid = plan_at(sh(2026, 10, 12, 10, 0));
    assert_eq!(
        mid.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [2, 3, 4],
        "T-2 and T-1 have passed"
    );
    let late = plan_at(sh(2026, 10, 20, 10, 0));
    assert_eq!(late.len(), 1);
    assert_eq!(
        late[0],
        (4, sh(2026, 10, 20, 10, 0)),
        "overdue: the latest rung fires now"
    );
}

#[test]
fn a_digest_groups_by_unit_and_splits_without_losing_or_reordering_items() {
    let items: Vec<DigestItem> = (0..500)
        .map(|i| DigestItem {
            unit: format!("单位{}", i % 7),
            line: format!("第{i:03}项 账号变更报备，责任人 张三，期限 2026-10-13"),
            mention: vec![format!("user{}", i % 7)],
        })
        .collect();
    let parts = build("【待办提醒】", |u| format!("**{u}**"), &items, 4096);
    assert!(parts.len() > 1, "500 items do not fit one message");
    assert!(parts.iter().all(|p| p.content.len() <= 4096));
    let all: String = parts.iter().map(|p| p.content.clone()).collect();
    for i in 0..500 {
        assert_eq!(
            all.matches(&format!("第{i:03}项")).count(),
            1,
            "item {i} exactly once"
        );
    }
    for unit in 0..7 {
        let positions: Vec<usize> = (0..500)
            .filter(|i| i % 7 == unit)
            .map(|i| all.find(&format!("第{i:03}项")).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "unit {unit} keeps its order"
        );
    }
}

#[test]
fn something_scheduled_on_a_date_happens_at_its_first_working_moment() {
    let (cal, hours) = (calendar(), WorkingHours::default());
    // A working day: its 09:00; National Day (a holiday) and a Saturday: the next working day's.
    assert_eq!(
        first_working_moment(&cal, &hours, date(2026, 11, 30)),
        sh(2026, 11, 30, 9, 0)
    );
    assert_eq!(
        first_working_moment(&cal, &hours, date(2026, 10, 1)),
        sh(2026, 10, 8, 9, 0)
    );
    assert_eq!(
        first_working_moment(&cal, &hours, date(2026, 11, 28)),
        sh(2026, 11, 30, 9, 0)
    );
}

#[test]
fn a_unit_group_rung_goes_to_the_unit_group_when_there_is_one() {
    let mut rung = ladder(false).rungs.pop().expect("the group rung");
    let has = |g: &str| g == "tw";
    assert_eq!(
        rung.group_for("tw", has),
        Some("xcb"),
        "not a unit_group rung"
    );
    rung.unit_group = true;
    assert_eq!(rung.group_for("tw", has), Some("tw"));
    assert_eq!(
        rung.group_for("gh", has),
        Some("xcb"),
        "no group of its own"
    );
    rung.group = None;
    assert_eq!(rung.group_for("tw", has), None, "direct messages");
}
