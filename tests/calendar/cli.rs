//! `flowbot workdays` and `flowbot check` on the calendar: the binary prints the deadline, and
//! check reports calendar mistakes at `file:line` and a missing next-year file from 1 December.

use std::path::Path;
use std::process::{Command, Output};

use chrono::NaiveDate;
use flowbot::base::scripts;

use super::{date, root};

fn flowbot(scripts_dir: &Path, args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    cmd.args(args)
        .current_dir(tmp.path())
        .env("FLOWBOT_SCRIPTS", scripts_dir)
        .env("TZ", "America/Los_Angeles")
        .env_remove("FLOWBOT_CONFIG")
        .env_remove("FLOWBOT_DIRECTORY");
    for key in ["CORP_ID", "AGENT_ID", "SECRET", "TOKEN", "AES_KEY"] {
        cmd.env_remove(format!("WECOM_{key}"));
    }
    cmd.output().expect("run flowbot")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn workdays_add_prints_the_deadline() {
    let dir = root().join("bot-scripts");
    let out = flowbot(&dir, &["workdays", "add", "2026-09-30", "5"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "2026-10-13\n");
    let out = flowbot(&dir, &["workdays", "add", "2026-12-30", "5"]);
    assert_eq!(stdout(&out), "2027-01-07 (provisional)\n");
    // 2027 has no file: 元旦 is skipped all the same.
    let out = flowbot(&dir, &["workdays", "add", "2026-12-28", "5"]);
    assert_eq!(stdout(&out), "2027-01-05 (provisional)\n");
    let out = flowbot(&dir, &["workdays", "add", "2026-10-13", "-2"]);
    assert_eq!(stdout(&out), "2026-10-10\n");
    let out = flowbot(&dir, &["workdays", "add", "2026-02-30", "5"]);
    assert!(!out.status.success(), "not a date");
}

#[test]
fn workdays_explain_names_the_holidays() {
    let out = flowbot(
        &root().join("bot-scripts"),
        &["workdays", "explain", "2026-09-30", "5"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("2026-10-01 Thu  skipped  holiday: 国庆节"),
        "{text}"
    );
    assert!(text.contains("2026-10-10 Sat  day 3    make-up working day for 国庆节"));
    assert!(text.contains("2026-10-11 Sun  skipped  weekend"));
    assert!(text.trim_end().ends_with("deadline: 2026-10-13 Tue"));

    let out = flowbot(
        &root().join("bot-scripts"),
        &["workdays", "explain", "2027-02-04", "1"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("2027-02-05 Fri  skipped  holiday: 春节 (provisional statutory holiday: no holiday data for 2027"),
        "{text}"
    );
    assert!(
        text.contains("2027-02-09 Tue  day 1    working day (no holiday data for 2027)"),
        "{text}"
    );
    assert!(
        text.contains("deadline: 2027-02-09 Tue (provisional"),
        "{text}"
    );
}

/// A copy of the shipped bot-scripts to break.
fn copy_scripts() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read_dir").flatten() {
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).expect("copy");
            }
        }
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    copy(&root().join("bot-scripts"), tmp.path());
    tmp
}

fn missing_2027(warnings: &[scripts::Diagnostic]) -> bool {
    warnings.iter().any(|w| {
        w.path.ends_with("calendar/cn-2027.toml") && w.line == 1 && w.message.contains("2027")
    })
}

#[test]
fn check_warns_from_december_when_next_year_is_missing() {
    let tmp = copy_scripts();
    let on = |d: &str| scripts::check_on(tmp.path(), date(d)).expect("valid");
    let report = on("2026-11-30");
    assert!(report.warnings.is_empty(), "{report}");
    assert_eq!(report.calendar_years, [2024, 2025, 2026]);
    assert!(missing_2027(&on("2026-12-01").warnings));
    assert!(missing_2027(&on("2026-12-31").warnings));
    // In 2027 itself this year's file is missing, any month.
    assert!(missing_2027(&on("2027-03-01").warnings));

    let out = flowbot(tmp.path(), &["check", "--today", "2026-12-01"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let expected = format!(
        "warning: {}:1: missing: no holidays for 2027",
        tmp.path().join("calendar/cn-2027.toml").display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(text.contains("holidays 2024-2026"), "{text}");

    // Once the file is there, no warning.
    let next = "year = 2027\n\n[[holiday]]\nname = \"元旦\"\nstart = \"2027-01-01\"\nend = \"2027-01-01\"\n";
    std::fs::write(tmp.path().join("calendar/cn-2027.toml"), next).unwrap();
    let report = on("2026-12-01");
    assert!(report.warnings.is_empty(), "{report}");
}

/// The line of the first occurrence of `needle` in a file.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

#[test]
fn check_reports_calendar_mistakes_at_their_lines() {
    let tmp = copy_scripts();
    let cal = tmp.path().join("calendar");
    let file = cal.join("cn-2026.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text
        .replace("year = 2026", "year = 2025")
        .replace(r#"end = "2026-02-23""#, r#"end = "2026-02-30""#)
        .replace(r#"makeup = ["2026-05-09"]"#, r#"makeup = ["2026-05-03"]"#)
        .replace(r#"start = "2026-06-19""#, r#"start = "2025-06-19""#);
    std::fs::write(&file, text).unwrap();
    std::fs::write(cal.join("holidays.toml"), "year = 2026\n").unwrap();

    let errs = scripts::check_on(tmp.path(), date("2026-06-01")).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let expect = |path: &Path, line: usize, fragment: &str| {
        let hit = errs
            .iter()
            .any(|d| d.path == path && d.line == line && d.message.contains(fragment));
        assert!(
            hit,
            "{}:{line}: …{fragment}… in\n{}",
            path.display(),
            all.join("\n")
        );
    };
    expect(
        &file,
        line_of(&file, "year = 2025"),
        "year 2025 does not match the file name",
    );
    expect(
        &file,
        line_of(&file, "2026-02-30"),
        "`2026-02-30` is not a date",
    );
    let both = "2026-05-03 is both a holiday (劳动节";
    expect(&file, line_of(&file, r#"makeup = ["2026-05-03"]"#), both);
    expect(
        &file,
        line_of(&file, "2025-06-19"),
        "2025-06-19 is not in 2026",
    );
    expect(&cal.join("holidays.toml"), 1, "named cn-YYYY.toml");
    assert_eq!(errs.len(), 5, "{}", all.join("\n"));

    // The CLI says the same, as file:line: message, and fails.
    let out = flowbot(tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = line_of(&file, "2026-02-30");
    let expected = format!("{}:{line}: `2026-02-30` is not a date", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn check_reports_bad_calendar_settings_in_bot_toml() {
    let tmp = copy_scripts();
    let bot = tmp.path().join("bot.toml");
    let text = std::fs::read_to_string(&bot)
        .unwrap()
        .replace("Asia/Shanghai", "Asia/Beijing")
        .replace(r#""13:30-17:30""#, r#""13:30-12:00""#);
    std::fs::write(&bot, text).unwrap();
    let errs = scripts::check_on(tmp.path(), NaiveDate::MIN).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let tz_line = line_of(&bot, "Asia/Beijing");
    let hours_line = line_of(&bot, "13:30-12:00");
    assert!(
        all.iter()
            .any(|l| l.contains(&format!(":{tz_line}: unknown time zone `Asia/Beijing`"))),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|l| l.contains(&format!(":{hours_line}: 13:30-12:00 ends before it starts"))),
        "{all:?}"
    );
}
