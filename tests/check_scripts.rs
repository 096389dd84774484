//! `flowbot check`: the shipped bot-scripts pass, and every broken fixture under
//! `tests/fixtures/broken-scripts/` is refused with the right file and line.

use std::path::{Path, PathBuf};

use flowbot::scripts::{self, Scripts};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped scripts compile without errors or warnings (on a fixed date: from 1 December
/// a missing calendar file for next year is a warning).
#[test]
fn shipped_bot_scripts_pass_the_check() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let report = scripts::check_on(&root().join("bot-scripts"), today).unwrap_or_else(|errs| {
        panic!(
            "{}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(report.warnings.is_empty(), "{report}");
    assert_eq!(report.flows, 2, "registration and change report");
    let s = Scripts::load(&root().join("bot-scripts")).expect("loads");
    assert!(s.help_text.contains("备案"));
    assert_eq!(
        s.keywords.get("登记").map(String::as_str),
        Some("registration")
    );
    assert_eq!(
        s.menu_keys.get("registration").map(String::as_str),
        Some("registration")
    );
    assert_eq!(s.roles.get("propaganda").map(String::as_str), Some("xcb"));
    assert_eq!(s.idle_after_ms, 30 * 60_000);
    assert_eq!(s.time_zone, chrono_tz::Asia::Shanghai);
    assert_eq!(s.working_hours.to_string(), "09:00-12:00, 13:30-17:30");
    assert_eq!(s.calendar.years().collect::<Vec<_>>(), [2024, 2025, 2026]);
    assert_eq!(s.calendar.time_zone(), s.time_zone);
}

/// Every broken fixture: (folder, file suffix, line, message fragment).
const CASES: &[(&str, &str, usize, &str)] = &[
    (
        "unknown-key",
        "flows/registration.toml",
        62,
        "unknown field `colour`",
    ),
    (
        "condition-missing-field",
        "flows/registration.toml",
        90,
        "`certifed`, which is not an earlier field",
    ),
    (
        "condition-later-field",
        "flows/registration.toml",
        71,
        "`scope`, which is not an earlier field",
    ),
    (
        "empty-choices",
        "flows/registration.toml",
        44,
        "the choice list is empty",
    ),
    (
        "bad-template",
        "flows/registration.toml",
        56,
        "template does not compile",
    ),
    (
        "unknown-role",
        "flows/registration.toml",
        169,
        "role `publicity` does not exist",
    ),
    (
        "duplicate-field-id",
        "flows/registration.toml",
        61,
        "duplicate field id `account_name`",
    ),
    (
        "unknown-field-type",
        "flows/registration.toml",
        118,
        "unknown variant `telephone`",
    ),
    (
        "duplicate-keyword",
        "bot.toml",
        31,
        "keyword `登记` is used by flows `registration` and `change`",
    ),
    (
        "bad-message-template",
        "bot.toml",
        62,
        "template does not compile",
    ),
    (
        "unknown-key-bot",
        "bot.toml",
        13,
        "unknown field `resume_after_minute`",
    ),
    (
        "directory-unknown-leader",
        "directory.toml",
        18,
        "unknown leader `liuyan`",
    ),
    ("toml-syntax", "flows/registration.toml", 53, ""),
    (
        "flow-without-file",
        "bot.toml",
        26,
        "flow `renewal` has no file",
    ),
];

fn expect(dir: &Path, file: &str, line: usize, fragment: &str) {
    let errs = match scripts::check(dir) {
        Ok(r) => panic!("{} passed: {r}", dir.display()),
        Err(errs) => errs,
    };
    let hit = errs
        .iter()
        .any(|d| d.path.ends_with(file) && d.line == line && d.message.contains(fragment));
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        hit,
        "{}: expected {file}:{line}: …{fragment}…, got:\n{}",
        dir.display(),
        all.join("\n")
    );
    assert!(all.iter().all(|l| l.contains(':')), "file:line format");
}

/// Each broken fixture reports its error at its file and line.
#[test]
fn broken_scripts_report_file_and_line() {
    for (folder, file, line, fragment) in CASES {
        expect(
            &root().join("tests/fixtures/broken-scripts").join(folder),
            file,
            *line,
            fragment,
        );
    }
}

/// `Scripts::load` refuses a broken folder and lists the diagnostics as `file:line: message`.
#[test]
fn load_refuses_a_broken_folder_and_says_why() {
    let dir = root().join("tests/fixtures/broken-scripts/unknown-role");
    let err = Scripts::load(&dir).expect_err("refused");
    let text = err.to_string();
    assert!(
        text.contains("flows/registration.toml:169: role `publicity` does not exist"),
        "{text}"
    );
}

/// A folder without bot.toml is refused with the missing file named.
#[test]
fn a_missing_folder_is_reported() {
    let errs = scripts::check(Path::new("/nonexistent/bot-scripts")).expect_err("refused");
    assert!(
        errs[0]
            .to_string()
            .starts_with("/nonexistent/bot-scripts/bot.toml:1: cannot read")
    );
}

/// Several mistakes in one folder are all reported, not just the first.
#[test]
fn every_error_is_reported_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = root().join("bot-scripts");
    std::fs::create_dir(tmp.path().join("flows")).expect("mkdir");
    std::fs::copy(src.join("bot.toml"), tmp.path().join("bot.toml")).expect("copy");
    let flow = std::fs::read_to_string(src.join("flows/registration.toml")).expect("read");
    let flow = flow
        .replace(r#"role = "propaganda""#, r#"role = "boss""#)
        .replace(r#"when = "certified""#, r#"when = "nothing""#)
        .replace(r#"prompt = "请输入账号名称：""#, r#"prompt = "{% for %}""#);
    std::fs::write(tmp.path().join("flows/registration.toml"), flow).expect("write");
    std::fs::copy(
        src.join("flows/change_report.toml"),
        tmp.path().join("flows/change_report.toml"),
    )
    .expect("copy");
    let errs = scripts::check(tmp.path()).expect_err("refused");
    assert_eq!(errs.len(), 3, "{errs:?}");
}
