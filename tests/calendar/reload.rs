//! Reloading a changed calendar folder ([`calendar::Reloader`]): a new year's file takes effect
//! in every clone of the calendar, a broken file is refused at its `file:line` and the calendar
//! in use is kept, a removed file takes its year away. The running bot's reload is in
//! `tests/calendar_reload_e2e.rs`.

use flowbot::base::calendar::{self, DayKind, Reload, Reloader};

use super::{date, root};

/// A fictional 2027 notice (the real one is not published): National Day 10-01..10-07 with
/// make-up days 09-26 (Sun) and 10-09 (Sat).
pub const CN_2027: &str = "year = 2027\n\n[[holiday]]\nname = \"国庆节\"\n\
start = \"2027-10-01\"\nend = \"2027-10-07\"\nmakeup = [\"2027-09-26\", \"2027-10-09\"]\n";

fn folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for y in [2024, 2025, 2026] {
        let name = format!("cn-{y}.toml");
        let from = root().join("bot-scripts/calendar").join(&name);
        std::fs::copy(from, tmp.path().join(name)).unwrap();
    }
    tmp
}

#[test]
fn a_new_file_is_taken_a_broken_one_refused() {
    let tmp = folder();
    let cal = calendar::load(tmp.path()).unwrap();
    let shared = cal.clone();
    let mut reloader = Reloader::new(tmp.path(), cal.clone());
    assert!(matches!(reloader.poll(), Reload::Unchanged));
    // Provisional: 国庆 1–3 October only.
    assert_eq!(
        shared.add_working_days(date("2027-09-30"), 1).date,
        date("2027-10-04")
    );

    std::fs::write(tmp.path().join("cn-2027.toml"), CN_2027).unwrap();
    match reloader.poll() {
        Reload::Reloaded { years, warnings } => {
            assert_eq!(years, [2024, 2025, 2026, 2027]);
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        other => panic!("not reloaded: {other:?}"),
    }
    assert!(shared.has_year(2027), "every clone sees the reload");
    let d = shared.add_working_days(date("2027-09-30"), 1);
    assert_eq!((d.date, d.provisional), (date("2027-10-08"), false));
    assert_eq!(
        shared.day(date("2027-10-09")),
        DayKind::Makeup("国庆节".into())
    );
    assert!(matches!(reloader.poll(), Reload::Unchanged));

    // A broken file: refused at its line, the calendar as it was.
    let broken = "year = 2028\n\n[[holiday]]\nname = \"元旦\"\nstart = \"2028-01-01\"\nend = \"2027-12-31\"\n";
    std::fs::write(tmp.path().join("cn-2028.toml"), broken).unwrap();
    match reloader.poll() {
        Reload::Refused(errors) => {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let expected = format!("{}:6: ", tmp.path().join("cn-2028.toml").display());
            assert!(text.iter().any(|e| e.starts_with(&expected)), "{text:?}");
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(shared.has_year(2027) && !shared.has_year(2028));
    assert_eq!(
        shared.add_working_days(date("2027-09-30"), 1).date,
        date("2027-10-08")
    );
    // Refused once: not reported again until the folder changes.
    assert!(matches!(reloader.poll(), Reload::Unchanged));

    // Fixed 2028 and 2027 removed: 2027 is provisional again.
    std::fs::remove_file(tmp.path().join("cn-2028.toml")).unwrap();
    std::fs::remove_file(tmp.path().join("cn-2027.toml")).unwrap();
    assert!(matches!(reloader.poll(), Reload::Reloaded { .. }));
    assert!(!shared.has_year(2027));
    assert_eq!(
        shared.add_working_days(date("2027-09-30"), 1).date,
        date("2027-10-04")
    );
}
