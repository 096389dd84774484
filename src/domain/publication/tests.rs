//! The answer deadline, reminders and the leader rule on the real 2026 calendar.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::base::calendar::DEFAULT_TIME_ZONE;

fn calendar() -> Calendar {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts/calendar");
    crate::base::calendar::load(&dir)
        .expect("calendar")
        .with_time_zone(DEFAULT_TIME_ZONE)
}

fn hours() -> WorkingHours {
    WorkingHours::parse(&["09:00-12:00", "13:30-17:30"]).unwrap()
}

/// A Shanghai wall-clock moment.
fn sh(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    DEFAULT_TIME_ZONE
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn settings(leader_review: LeaderReview) -> PublicationReview {
    PublicationReview {
        leader_review,
        urgent_categories: vec!["突发事件".into()],
        answer_working_hours: 8,
        urgent_answer_hours: 2,
        remind_every_working_hours: 4,
        urgent_remind_every_hours: 1,
        escalate_after: 2,
        escalate_to: "propaganda_head".into(),
    }
}

fn answers(category: &str, checked: bool) -> Answers {
    Answers(vec![
        (
            CATEGORY_FIELD.into(),
            Answer::Choice {
                value: category.into(),
                other: None,
            },
        ),
        (LEADER_CHECKED_FIELD.into(), Answer::Bool(checked)),
    ])
}

#[test]
fn only_the_urgent_categories_are_urgent() {
    let s = settings(LeaderReview::Never);
    assert!(is_urgent(&s, &answers("突发事件", false)));
    assert!(!is_urgent(&s, &answers("热点敏感", false)));
    assert!(!is_urgent(&s, &Answers(Vec::new())));
}

#[test]
fn the_leader_step_follows_the_setting_and_the_applicants_word() {
    let yes = answers("其他", true);
    let no = answers("其他", false);
    assert!(!skips_leader(&settings(LeaderReview::Always), &yes));
    assert!(skips_leader(&settings(LeaderReview::Never), &no));
    assert!(skips_leader(&settings(LeaderReview::UnlessChecked), &yes));
    assert!(!skips_leader(&settings(LeaderReview::UnlessChecked), &no));
}

#[test]
fn the_answer_is_due_in_working_hours_or_in_clock_hours_when_urgent() {
    let (cal, h, s) = (calendar(), hours(), settings(LeaderReview::Never));
    // Monday 30 November, 10:00: 6 working hours that day, 2 more on Tuesday.
    assert_eq!(
        deadline(&s, (&cal, &h), sh(11, 30, 10, 0), false),
        sh(12, 1, 11, 0)
    );
    // Saturday 5 December, 02:00, urgent: two hours later, at night.
    assert_eq!(
        deadline(&s, (&cal, &h), sh(12, 5, 2, 0), true),
        sh(12, 5, 4, 0)
    );
}

#[test]
fn reminders_wait_for_working_time_unless_urgent() {
    let (cal, h, s) = (calendar(), hours(), settings(LeaderReview::Never));
    let night = sh(12, 5, 4, 0);
    assert_eq!(send_time((&cal, &h), night, true), night);
    assert_eq!(send_time((&cal, &h), night, false), sh(12, 7, 9, 0));
    assert_eq!(
        next_reminder(&s, (&cal, &h), sh(12, 1, 11, 0), false),
        sh(12, 1, 16, 30)
    );
    assert_eq!(next_reminder(&s, (&cal, &h), night, true), sh(12, 5, 5, 0));
}

#[test]
fn the_senior_role_is_told_once() {
    let s = settings(LeaderReview::Never);
    let told: Vec<u32> = (0..5).filter(|o| escalates(&s, *o)).collect();
    assert_eq!(told, [1]);
}
