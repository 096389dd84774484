//! `flowbot check`: the shipped bot-scripts pass, every broken fixture under
//! `tests/fixtures/broken-scripts/` is refused with the right file and line, and stored cases
//! and duties the scripts no longer define are warned about (both stores).

#[path = "export/seed.rs"]
#[allow(dead_code)]
mod seed;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::{CaseWrite, Commit, CommitOutcome, Enqueue, NewEvent, Store};
use flowbot::base::scripts::{self, Scripts};
use flowbot::domain::reminders::duty::{ALL_DUTIES, Duty};

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
    assert_eq!(
        report.flows, 5,
        "registration, change report, deregistration, publication review and annual report"
    );
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
    assert_eq!(
        s.roles.get("propaganda").map(|r| r.unit.as_str()),
        Some("xcb")
    );
    assert!(
        s.roles
            .get("propaganda_head")
            .is_some_and(|r| r.leaders_only)
    );
    assert_eq!(s.fallback_role.as_deref(), Some("propaganda_head"));
    assert_eq!(s.idle_after_ms, 30 * 60_000);
    assert_eq!(s.time_zone, chrono_tz::Asia::Shanghai);
    assert_eq!(s.working_hours.to_string(), "09:00-12:00, 13:30-17:30");
    assert_eq!(s.calendar.years().collect::<Vec<_>>(), [2024, 2025, 2026]);
    assert_eq!(s.calendar.time_zone(), s.time_zone);
}

/// Every approval command typed in a form is named by a phrase of `[messages.commands]`.
#[test]
fn every_command_has_a_phrase_for_forms() {
    let s = Scripts::load(&root().join("bot-scripts")).expect("loads");
    for text in [
        "我的",
        "待办",
        "待办 卡片",
        "状态",
        "状态 BA-2026-0001",
        "撤回 BA-2026-0001",
        "催办",
        "同意 BA-2026-0001",
        "驳回 BA-2026-0001 理由",
        "驳回",
        "修改 BA-2026-0001",
    ] {
        let command = flowbot::domain::approval::commands::in_form(text).expect(text);
        let phrase = s.render(
            &scripts::tpl::command(&command.kind),
            &minijinja::Value::UNDEFINED,
        );
        assert!(!phrase.is_empty(), "{text}: no phrase for {}", command.kind);
        assert_eq!(command.opens_form, text.starts_with("修改"), "{text}");
    }
    use flowbot::process::deregistration::order;
    for text in [
        "责令注销 DJ-2026-0001 长期停更",
        "责令注销",
        "已注销 DJ-2026-0001 https://pan.example.com/s/1",
        "已注销",
    ] {
        let command = order::parse(text).expect(text);
        let phrase = s.render(
            &scripts::tpl::command(order::kind(&command)),
            &minijinja::Value::UNDEFINED,
        );
        assert!(!phrase.is_empty(), "{text}: no phrase");
    }
}

/// Every menu item the help text names (`菜单“…”`) exists: the app menu shows a flow with a menu
/// key under its title (as the simulator's console does), and the help names each such flow.
#[test]
fn the_help_names_only_menu_items_that_exist() {
    let s = Scripts::load(&root().join("bot-scripts")).expect("loads");
    let menu: Vec<&str> = s
        .menu_keys
        .values()
        .filter_map(|flow| s.flows.get(flow))
        .map(|f| f.title.as_str())
        .collect();
    let named: Vec<&str> = s
        .help_text
        .split("菜单“")
        .skip(1)
        .filter_map(|rest| rest.split('”').next())
        .collect();
    assert!(!named.is_empty(), "the help names the menu");
    for item in &named {
        assert!(
            menu.contains(item),
            "the help names menu item {item}, the menu has {menu:?}"
        );
    }
    for item in &menu {
        assert!(
            named.contains(item),
            "the help does not name menu item {item}"
        );
    }
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

/// A copy of the shipped scripts with `bot.toml` and `flows/registration.toml` edited.
fn edited_copy(
    bot: impl FnOnce(String) -> String,
    registration: impl FnOnce(String) -> String,
) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = root().join("bot-scripts");
    std::fs::create_dir(tmp.path().join("flows")).expect("mkdir");
    let read = |file: &str| std::fs::read_to_string(src.join(file)).expect("read");
    let write =
        |file: &str, text: String| std::fs::write(tmp.path().join(file), text).expect("write");
    write("bot.toml", bot(read("bot.toml")));
    write(
        "flows/registration.toml",
        registration(read("flows/registration.toml")),
    );
    for other in [
        "change_report",
        "deregistration",
        "publication_review",
        "annual_report",
    ] {
        let file = format!("flows/{other}.toml");
        write(&file, read(&file));
    }
    tmp
}

/// The department's closure orders need their words and their ladder.
#[test]
fn a_closure_order_needs_its_ladder_and_its_words() {
    let tmp = edited_copy(
        |bot| {
            bot.replace("duties.closure_order", "duties.closure_orders")
                .replace("closed_to_department = ", "closed_to_dept = ")
        },
        |flow| flow,
    );
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    for fragment in [
        "[closure_order] needs its ladder [duties.closure_order]",
        "[closure_order] needs the message `closed_to_department`",
        "unknown closure_order message `closed_to_dept`",
    ] {
        assert!(
            all.iter().any(|l| l.contains(fragment)),
            "{fragment}: {all:#?}"
        );
    }
}

/// A flow that closes accounts must ask which one (its `account` field).
#[test]
fn a_closing_flow_needs_an_account_field() {
    let tmp = edited_copy(|bot| bot, |flow| flow);
    let file = tmp.path().join("flows/deregistration.toml");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace(r#"id = "account""#, r#"id = "which""#)).expect("write");
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        all.iter().any(|l| l.contains("deregistration.toml")
            && l.contains("closes_account needs a field `account`")),
        "{all:#?}"
    );
}

/// Several mistakes in one folder are all reported, not just the first.
#[test]
fn every_error_is_reported_at_once() {
    let tmp = edited_copy(
        |bot| bot,
        |flow| {
            flow.replace(r#"role = "propaganda""#, r#"role = "boss""#)
                .replace(r#"when = "certified""#, r#"when = "nothing""#)
                .replace(r#"prompt = "请输入账号名称：""#, r#"prompt = "{% for %}""#)
        },
    );
    let errs = scripts::check(tmp.path()).expect_err("refused");
    assert_eq!(errs.len(), 3, "{errs:?}");
}

/// Separation of duties and duplicates are checked: the fallback role must be declared, the
/// subjects must be member fields, and a registering flow must say what a duplicate is told.
#[test]
fn separation_and_duplicate_settings_are_checked() {
    let tmp = edited_copy(
        |bot| {
            bot.replace(
                r#"fallback_role = "propaganda_head""#,
                r#"fallback_role = "department_head""#,
            )
        },
        |flow| {
            let start = flow.find("duplicate = ").expect("the duplicate words");
            let end = start + flow[start..].find("\"\"\"\n\n").expect("their end") + 5;
            format!("{}{}", &flow[..start], &flow[end..]).replace(
                r#"subjects = ["admin"]"#,
                r#"subjects = ["admin_email", "nobody"]"#,
            )
        },
    );
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    for fragment in [
        "fallback_role `department_head` is not a role of [roles]",
        "subject `admin_email` is not a member field",
        "subject `nobody` is not a field of this flow",
        "registers_account needs `duplicate`",
    ] {
        assert!(
            all.iter().any(|l| l.contains(fragment)),
            "{fragment}: {all:#?}"
        );
    }
    assert_eq!(all.len(), 4, "{all:#?}");
}

/// A change record needs both its heading and its line template.
#[test]
fn a_change_record_needs_its_heading_and_its_line() {
    let tmp = edited_copy(
        |bot| bot.replace("changes = \"变更记录\"\n", ""),
        |flow| flow,
    );
    let errs = scripts::check(tmp.path()).expect_err("refused");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0]
            .to_string()
            .contains("`changes` and `change` go together")
    );
}

/// The four seeded registrations (flow `registration`) and a duty of a kind bot-scripts never
/// defined, committed as the worker would.
async fn seed_store(store: &Arc<dyn Store>) {
    seed::write(store, &seed::cases()).await;
    let duty = Duty {
        number: "RW-2026-0001".into(),
        kind: "publication_review".into(),
        unit: "tw".into(),
        unit_name: "团委".into(),
        account: "DJ-2026-0001".into(),
        account_name: "团委青年之声".into(),
        person: "张三".into(),
        role: "admin".into(),
        event: "left".into(),
        due: vec!["liuyang".into()],
        deadline: "2026-12-07".into(),
        opened_at_ms: seed::submitted_ms(),
        done: false,
        timers: Vec::new(),
        ordered_by: None,
        evidence: None,
        campaign: None,
    };
    let event = NewEvent {
        conversation: "seed-duty".into(),
        payload: "seed-duty".into(),
    };
    let (now, ttl) = (seed::submitted_ms(), Duration::from_secs(3600));
    let queued = store.dedupe_and_enqueue("seed-duty", ttl, &event, now);
    assert!(matches!(queued.await.unwrap(), Enqueue::Accepted { .. }));
    let claimed = store.claim_event(now, ttl).await.unwrap().expect("claimed");
    let commit = Commit {
        cases: vec![CaseWrite {
            number: duty.number.clone(),
            expected_version: Some(0),
            body: Some(serde_json::to_string(&duty).unwrap()),
            add_to: vec![ALL_DUTIES.to_owned()],
            ..CaseWrite::default()
        }],
        ..Default::default()
    };
    let done = store.complete_event(&claimed, &commit, now).await.unwrap();
    assert_eq!(done, CommitOutcome::Committed);
}

/// `flowbot check <scripts>` in an empty working dir, with only the given environment.
fn flowbot_check(scripts: &Path, env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    cmd.arg("check")
        .arg(scripts)
        .current_dir(cwd.path())
        .env("RUST_LOG", "warn");
    for key in [
        "FLOWBOT_CONFIG",
        "FLOWBOT_DATA",
        "FLOWBOT_REDIS_PREFIX",
        "REDIS_URL",
    ] {
        cmd.env_remove(key);
    }
    cmd.envs(env.iter().copied());
    (cmd.output().expect("run flowbot"), cwd)
}

/// Runs the check of the shipped scripts and of a copy without flow `registration` against
/// the seeded store the environment names.
fn assert_check_warns_of_stored_refs(env: &[(&str, &str)]) {
    let warning_lines = |out: &Output| -> Vec<String> {
        assert!(out.status.success(), "exit 0 with warnings: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            stdout.lines().last().is_some_and(|l| l.starts_with("ok: ")),
            "{stdout}"
        );
        stdout
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .map(str::to_owned)
            .collect()
    };
    let duty = "warning: stored duty RW-2026-0001 (open) is of kind `publication_review`";

    let (shipped, _) = flowbot_check(&root().join("bot-scripts"), env);
    let lines = warning_lines(&shipped);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with(duty), "{lines:#?}");

    let renamed = support::scripts::with_flow_renamed("registration", "registration_v2");
    let (out, _) = flowbot_check(renamed.path(), env);
    let lines = warning_lines(&out);
    let cases: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("is of flow `registration`"))
        .collect();
    assert_eq!(cases.len(), 4, "{lines:#?}");
    for (number, status) in [
        ("BA-2026-0001", "approved"),
        ("BA-2026-0002", "pending"),
        ("BA-2026-0003", "rejected"),
    ] {
        let case = format!("warning: stored case {number} ({status})");
        assert!(cases.iter().any(|l| l.starts_with(&case)), "{lines:#?}");
    }
    assert!(lines.iter().any(|l| l.starts_with(duty)), "{lines:#?}");
    assert_eq!(lines.len(), 5, "{lines:#?}");
}

/// The embedded store in FLOWBOT_DATA, as the bot would open it.
#[tokio::test]
async fn check_warns_of_cases_of_a_removed_flow_in_the_embedded_store() {
    let data = tempfile::tempdir().expect("tempdir");
    {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(data.path()).expect("open"));
        seed_store(&store).await;
    }
    let data = data.path().to_str().expect("utf-8 path");
    assert_check_warns_of_stored_refs(&[("FLOWBOT_DATA", data)]);
}

/// Redis at REDIS_URL under FLOWBOT_REDIS_PREFIX, as the bot would open it.
#[tokio::test]
async fn check_warns_of_cases_of_a_removed_flow_in_redis() {
    let Some(harness) = support::store::redis_harness().await else {
        return;
    };
    seed_store(&harness.store).await;
    let (url, prefix) = harness.redis.clone().expect("a redis harness");
    assert_check_warns_of_stored_refs(&[("REDIS_URL", &url), ("FLOWBOT_REDIS_PREFIX", &prefix)]);
}

/// Without REDIS_URL and without a data dir there is no store to check, and none is created.
#[test]
fn check_without_a_store_creates_none() {
    let (out, cwd) = flowbot_check(&root().join("bot-scripts"), &[]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("stored"), "{stdout}");
    assert!(!cwd.path().join("data").exists(), "no store is created");
}

/// `[campaigns.annual_review]` is checked against its flow and its ladder (and its schedule, its
/// group, a ladder's `unit_group`), at its lines.
#[test]
fn the_annual_review_campaign_is_checked() {
    let line_of = |needle: &str| {
        let text = std::fs::read_to_string(root().join("bot-scripts/bot.toml")).unwrap();
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    };
    for (from, to, needle, message) in [
        (
            r#"self_check = ["team_named", "monitoring", "prepublish_review"]"#,
            r#"self_check = ["team_named", "posts"]"#,
            "self_check = ",
            "self-check item `posts` is not a yes/no field of the flow",
        ),
        (
            r#"flow = "annual_report""#,
            r#"flow = "annual_reports""#,
            r#"flow = "annual_report""#,
            "flow `annual_reports` has no file flows/annual_reports.toml",
        ),
        (
            "deadline_working_days = 20\n",
            "",
            "[campaigns.annual_review]",
            "needs either `deadline_working_days` or `deadline`",
        ),
        (
            "# opens_on = \"2027-01-05\"",
            "opens_on = \"2027-13-05\"",
            "# opens_on = ",
            "expected a date as YYYY-MM-DD",
        ),
        (
            "# opens_on = \"2027-01-05\"",
            "year = 2026",
            "# opens_on = ",
            "`year` is the year an opening by schedule covers: it needs `opens_on`",
        ),
        (
            "# group = \"xcb\"",
            "group = \"nope\"",
            "# group = \"xcb\"",
            "group `nope` is not in [groups]",
        ),
        (
            "group = \"xcb\"\nunit_group = true",
            "\nunit_group = true",
            "unit_group = true",
            "`unit_group` needs `group`",
        ),
    ] {
        let dir = support::scripts::with_bot_toml(from, to);
        let errors = flowbot::base::scripts::check(dir.path()).expect_err("refused");
        let line = line_of(needle);
        assert!(
            errors.iter().any(|d| d.path.ends_with("bot.toml")
                && d.line == line
                && d.message.contains(message)),
            "{message} at bot.toml:{line}: {errors:#?}"
        );
    }
}

/// `[work_circle]` and `[reposts]` are checked: a chat id WeCom takes, a department group of
/// `[groups]`, every message and no other; each error at its line of bot.toml.
#[test]
fn the_work_circle_and_reposts_are_checked() {
    let tmp = edited_copy(
        |bot| {
            bot.replace("chat_id = \"wrkcircle01\"", "chat_id = \"wrk-circle!\"")
                .replace("department_group = \"xcb\"", "department_group = \"nope\"")
                .replace("all_done = ", "all_finished = ")
        },
        |flow| flow,
    );
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let bot = std::fs::read_to_string(tmp.path().join("bot.toml")).unwrap();
    let line_of = |needle: &str| bot.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (needle, fragment) in [
        (
            "wrk-circle!",
            "[work_circle] chat_id must be 1 to 32 letters or digits",
        ),
        (
            "department_group = \"nope\"",
            "department_group `nope` is not in [groups]",
        ),
        ("all_finished = ", "unknown repost message `all_finished`"),
    ] {
        let at = format!("bot.toml:{}: ", line_of(needle));
        assert!(
            all.iter().any(|l| l.contains(&at) && l.contains(fragment)),
            "{at}{fragment}: {all:#?}"
        );
    }
    assert!(
        all.iter()
            .any(|l| l.contains("[reposts] needs the message `all_done`")),
        "{all:#?}"
    );
}

/// The assessment's rules must be known (each once) and its words complete; `考核` typed in a
/// form is named by its phrase.
#[test]
fn the_assessment_rules_and_words_are_checked() {
    let tmp = edited_copy(
        |bot| {
            bot.replace("rule = \"no_closure_ordered\"", "rule = \"no_incidents\"")
                .replace(
                    "refused = \"抱歉，年度考核表",
                    "refuse = \"抱歉，年度考核表",
                )
        },
        |flow| flow,
    );
    let text = std::fs::read_to_string(tmp.path().join("bot.toml")).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    expect(
        tmp.path(),
        "bot.toml",
        line("no_incidents"),
        "unknown rule `no_incidents` (known: no_late_change_report, no_closure_ordered, \
         no_failed_annual_review, min_repost_coverage)",
    );
    expect(
        tmp.path(),
        "bot.toml",
        line("refuse = "),
        "unknown assessment.message message `refuse`",
    );
    let s = Scripts::load(&root().join("bot-scripts")).expect("loads");
    let phrase = s.render(
        &scripts::tpl::command("assessment"),
        &minijinja::Value::UNDEFINED,
    );
    assert_eq!(phrase, "生成年度考核表");
    assert!(flowbot::process::assessment::parse("考核 2026").is_some());
}

#[test]
fn files_are_answers_only_of_text_and_url_questions() {
    let tmp = edited_copy(|bot| bot, |flow| flow);
    let file = tmp.path().join("flows/deregistration.toml");
    let text = std::fs::read_to_string(&file).expect("read");
    let edited = text.replacen("type = \"date\"\n", "type = \"date\"\nfiles = true\n", 1);
    assert_ne!(edited, text, "the closure report has a date question");
    std::fs::write(&file, edited).expect("write");
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        all.iter().any(|l| l.contains("deregistration.toml")
            && l.contains("files = true is only for text and url fields")),
        "{all:#?}"
    );
}

/// `min_repost_coverage` needs a `percent` from 0 to 100, which no other rule takes; a rule
/// over a process bot.toml does not configure is a warning, and so are its columns' headers
/// no longer needed.
#[test]
fn the_assessment_rule_parameters_are_checked() {
    for (from, to, needle, fragment) in [
        (
            "percent = 80\n",
            "",
            "rule = \"min_repost_coverage\"",
            "rule `min_repost_coverage` needs its threshold, e.g. `percent = 80`",
        ),
        (
            "percent = 80\n",
            "percent = 120\n",
            "percent = 80",
            "`percent` is a whole percent from 0 to 100",
        ),
        (
            "rule = \"no_failed_annual_review\"\n",
            "rule = \"no_failed_annual_review\"\npercent = 50\n",
            "rule = \"no_failed_annual_review\"",
            "rule `no_failed_annual_review` takes no `percent`",
        ),
        (
            "rule = \"no_failed_annual_review\"\n",
            "rule = \"no_closure_ordered\"\n",
            "rule = \"no_failed_annual_review\"",
            "rule `no_closure_ordered` is listed twice",
        ),
    ] {
        let dir = support::scripts::with_bot_toml(from, to);
        let shipped = std::fs::read_to_string(root().join("bot-scripts/bot.toml")).unwrap();
        // The line of `needle` in the shipped file (`percent = 120` and the added line sit
        // where the shipped line was, or just after the rule it follows).
        let mut line = shipped.lines().position(|l| l.contains(needle)).unwrap() + 1;
        if fragment.contains("takes no") {
            line += 1;
        }
        expect(dir.path(), "bot.toml", line, fragment);
    }

    // Without [reposts]: the rule is a warning, the repost headers are allowed but not needed.
    let dir = support::scripts::copy_shipped();
    let bot_toml = dir.path().join("bot.toml");
    let text = std::fs::read_to_string(&bot_toml).unwrap();
    let (start, end) = (
        text.find("\n[reposts]\n").expect("[reposts]"),
        text.find("\n[campaigns.annual_review]\n")
            .expect("the next table"),
    );
    let cut = format!("{}{}", &text[..start], &text[end..]);
    std::fs::write(&bot_toml, &cut).unwrap();
    let report = scripts::check(dir.path()).expect("passes");
    let line = cut
        .lines()
        .position(|l| l.contains("rule = \"min_repost_coverage\""))
        .unwrap()
        + 1;
    let warnings: Vec<String> = report.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&format!("bot.toml:{line}: "))
                && w.contains("rule `min_repost_coverage` never applies without [reposts]")),
        "{warnings:#?}"
    );
    let without = cut.replace("reposts_due = ", "# reposts_due = ");
    std::fs::write(&bot_toml, without).unwrap();
    scripts::check(dir.path()).expect("the repost headers are not needed");
}

/// `[delivery] retry_hours` is from 1 to 168 hours, checked at its line.
#[test]
fn the_delivery_retry_window_is_checked() {
    let line = std::fs::read_to_string(root().join("bot-scripts/bot.toml"))
        .unwrap()
        .lines()
        .position(|l| l.starts_with("retry_hours = "))
        .unwrap()
        + 1;
    for bad in ["retry_hours = 0", "retry_hours = 169"] {
        let dir = support::scripts::with_bot_toml("retry_hours = 24", bad);
        let errors = flowbot::base::scripts::check(dir.path()).expect_err("refused");
        assert!(
            errors.iter().any(|d| d.path.ends_with("bot.toml")
                && d.line == line
                && d.message.contains("retry_hours must be from 1 to 168")),
            "{bad}: {errors:#?}"
        );
    }
    let dir = support::scripts::with_bot_toml("retry_hours = 24", "retry_hours = 2");
    let scripts = flowbot::base::scripts::Scripts::load(dir.path()).unwrap();
    assert_eq!(
        scripts.delivery.retry_for,
        std::time::Duration::from_secs(2 * 3600)
    );
    let dir = support::scripts::with_bot_toml("[delivery]\nretry_hours = 24\n", "");
    let scripts = flowbot::base::scripts::Scripts::load(dir.path()).unwrap();
    assert_eq!(
        scripts.delivery.retry_for,
        std::time::Duration::from_secs(24 * 3600)
    );
}

/// The desk's words (`[desk]`): each one needed, none unknown, errors at their line.
#[test]
fn the_desk_words_are_checked() {
    let tmp = edited_copy(
        |bot| {
            bot.replace("\ntitle = \"新媒体工作台\"", "\ntitel = \"新媒体工作台\"")
                .replace("page_of = \"第 {{ page }}", "page_of = \"第 {{ page ")
        },
        |flow| flow,
    );
    let text = std::fs::read_to_string(tmp.path().join("bot.toml")).unwrap();
    let line = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let errs = scripts::check(tmp.path()).expect_err("refused");
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    for fragment in [
        format!("bot.toml:{}", line("titel =")),
        "unknown desk message `titel`".to_owned(),
        "[desk] needs the message `title`".to_owned(),
        format!("bot.toml:{}", line("page_of =")),
    ] {
        assert!(
            all.iter().any(|l| l.contains(&fragment)),
            "{fragment}: {all:#?}"
        );
    }
    // The link's words go together: a label without its text is refused; neither is valid.
    let half = edited_copy(
        |bot| bot.replace("\nlink_text = \"在工作台查看\"", ""),
        |flow| flow,
    );
    let errs = scripts::check(half.path()).expect_err("a label without its text");
    assert!(
        errs.iter().any(|e| e
            .to_string()
            .contains("link_label and link_text go together")),
        "{errs:?}"
    );
    let none = edited_copy(
        |bot| {
            bot.replace("\nlink_text = \"在工作台查看\"", "")
                .replace("\nlink_label = \"工作台\"", "")
        },
        |flow| flow,
    );
    scripts::check(none.path()).expect("links are optional");
    // Without the table the desk is off and nothing is asked for.
    let off = edited_copy(
        |bot| {
            let start = bot.find("[desk]\n").unwrap();
            let end = start + bot[start..].find("\n\n").unwrap();
            format!("{}{}", &bot[..start], &bot[end..])
        },
        |flow| flow,
    );
    let loaded = scripts::Scripts::load(off.path()).expect("valid without [desk]");
    assert!(!loaded.desk);
    assert!(
        scripts::Scripts::load(&root().join("bot-scripts"))
            .unwrap()
            .desk
    );
}
