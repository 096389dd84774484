//! Conversation transcripts run against the engine alone (no store, no HTTP).
//!
//! A transcript (`tests/transcripts/*.txt`) is read top to bottom:
//! - `> text` the user sends a text; `> [menu:key]` the user clicks a menu item;
//! - `< text` the bot's reply to the last input contains `text`; `< /re/` matches the regex
//!   (a command the engine hands back to run shows as `[run: text]`);
//!   `<! text` the reply does not contain `text`;
//! - `@user userid` who is talking (default `zhangsan`, from `bot-scripts/directory.toml`);
//! - `@wait 31m` the clock moves on (minutes); `@scripts folder` uses another scripts folder;
//! - `@accounts id:name,id:name` the unit's registered accounts; `@include file` inlines a file;
//! - `= idle` no form is in progress; `= case NUMBER UNIT` a case was submitted;
//!   `= answer FIELD VALUE` the submitted answer shows as VALUE; `= cases N` N cases so far.
//!
//! When the engine asks for a case number, the harness allocates `PREFIX-2026-000N` like the
//! worker would and calls `step` again.

use std::path::PathBuf;
use std::sync::Arc;

use flowbot::base::clock::Clock;
use flowbot::base::diagnostics::Source;
use flowbot::base::directory::{Snapshot, parse_static};
use flowbot::base::scripts::Scripts;
use flowbot::domain::approval::commands;
use flowbot::domain::engine::{
    Account, Answer, Answers, Context, ConversationState, Effect, EngineInput, StepOutcome, step,
};
use regex::Regex;

/// 2026-05-03 10:00 in Shanghai.
const START_MS: i64 = 1_777_773_600_000;

struct Case {
    number: String,
    unit: String,
    answers: Answers,
}

struct Run {
    scripts: Scripts,
    snapshot: Arc<Snapshot>,
    user: String,
    accounts: Vec<Account>,
    now: i64,
    state: ConversationState,
    reply: String,
    cases: Vec<Case>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(folder: &str) -> (Scripts, Arc<Snapshot>) {
    let dir = root().join(folder);
    let scripts = Scripts::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = root().join("bot-scripts/directory.toml");
    let text = std::fs::read_to_string(&path).expect("directory.toml");
    let snap = parse_static(&Source::new(&path, text)).expect("directory parses");
    (scripts, Arc::new(snap))
}

impl Run {
    fn context(&self, case_number: Option<String>, input: &EngineInput) -> Context {
        let user = self
            .snapshot
            .person(&self.user)
            .cloned()
            .expect("known user");
        Context {
            units: self.snapshot.units_of(&self.user),
            user,
            directory: self.snapshot.clone(),
            accounts: self.accounts.clone(),
            propaganda: self.snapshot.members_of("xcb"),
            case_number,
            command: match input {
                EngineInput::Text(t) => commands::in_form(t),
                EngineInput::MenuClick(_) | EngineInput::File(_) => None,
            },
        }
    }

    fn send(&mut self, input: EngineInput) {
        let now = Clock::new(self.scripts.time_zone).at(self.now);
        let ctx = self.context(None, &input);
        let mut outcome = step(&self.scripts, &self.state, &input, &ctx, now);
        if let StepOutcome::NeedsCaseNumber { prefix, .. } = &outcome {
            let number = format!("{prefix}-2026-{:04}", self.cases.len() + 1);
            outcome = step(
                &self.scripts,
                &self.state,
                &input,
                &self.context(Some(number), &input),
                now,
            );
        }
        let StepOutcome::Next { state, effects } = outcome else {
            panic!("asked for a case number twice");
        };
        self.state = state;
        self.reply.clear();
        for e in effects {
            match e {
                Effect::Say(content) => self.reply.push_str(&content),
                Effect::RunCommand(text) => self.reply.push_str(&format!("\n[run: {text}]")),
                Effect::SubmitCase {
                    case_number,
                    unit,
                    answers,
                    ..
                } => self.cases.push(Case {
                    number: case_number,
                    unit,
                    answers,
                }),
            }
        }
        assert!(!self.reply.trim().is_empty(), "the bot said nothing");
    }
}

fn display(a: &Answer) -> String {
    match a {
        Answer::Bool(true) => "是".to_owned(),
        Answer::Bool(false) => "否".to_owned(),
        a => a.display("", ""),
    }
}

/// Replaces `@include file` lines by that file (under `tests/transcripts/`).
fn expand(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("@include ") {
            Some(f) => expand(
                &std::fs::read_to_string(root().join("tests/transcripts").join(f))
                    .expect("include"),
            ),
            None => format!("{l}\n"),
        })
        .collect()
}

fn run(name: &str) -> Run {
    let path = root().join("tests/transcripts").join(name);
    let text = expand(&std::fs::read_to_string(&path).expect("transcript"));
    run_text(name, &text)
}

fn run_text(name: &str, text: &str) -> Run {
    let (scripts, snapshot) = load("bot-scripts");
    let mut r = Run {
        scripts,
        snapshot,
        user: "zhangsan".to_owned(),
        accounts: Vec::new(),
        now: START_MS,
        state: ConversationState::default(),
        reply: String::new(),
        cases: Vec::new(),
    };
    let mut last_input = String::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        let ctx = || format!("{at} after `> {last_input}`, the bot said:\n{}\n", r.reply);
        if let Some(t) = line.strip_prefix("> ") {
            last_input = t.to_owned();
            let input = match t.strip_prefix("[menu:").and_then(|k| k.strip_suffix(']')) {
                Some(key) => EngineInput::MenuClick(key.to_owned()),
                None => EngineInput::Text(t.to_owned()),
            };
            r.send(input);
            if std::env::var_os("TRANSCRIPT_LOG").is_some() {
                println!("> {t}\n{}\n", r.reply);
            }
        } else if let Some(t) = line.strip_prefix("<! ") {
            assert!(!r.reply.contains(t), "{}should not contain `{t}`", ctx());
        } else if let Some(t) = line.strip_prefix("< ") {
            let ok = match t.strip_prefix('/').and_then(|x| x.strip_suffix('/')) {
                Some(re) => Regex::new(re).expect("regex").is_match(&r.reply),
                None => r.reply.contains(t),
            };
            assert!(ok, "{}expected `{t}`", ctx());
        } else if let Some(cmd) = line.strip_prefix('@') {
            let (k, v) = cmd.split_once(' ').unwrap_or((cmd, ""));
            match k {
                "user" => v.clone_into(&mut r.user),
                "wait" => {
                    r.now += v.trim_end_matches('m').parse::<i64>().expect("minutes") * 60_000
                }
                "scripts" => (r.scripts, r.snapshot) = load(v),
                "accounts" => {
                    r.accounts = v
                        .split(',')
                        .filter_map(|p| p.split_once(':'))
                        .map(|(id, name)| Account {
                            id: id.to_owned(),
                            name: name.to_owned(),
                        })
                        .collect()
                }
                _ => panic!("{at}: unknown directive @{k}"),
            }
        } else if let Some(cmd) = line.strip_prefix("= ") {
            let parts: Vec<&str> = cmd.splitn(3, ' ').collect();
            match parts.as_slice() {
                ["idle"] => assert!(r.state.is_idle(), "{}expected no form", ctx()),
                ["cases", n] => assert_eq!(r.cases.len().to_string(), *n, "{at}"),
                ["case", number, unit] => {
                    let c = r.cases.last().unwrap_or_else(|| panic!("{at}: no case"));
                    assert_eq!(
                        (c.number.as_str(), c.unit.as_str()),
                        (*number, *unit),
                        "{at}"
                    );
                }
                ["answer", field, value] => {
                    let c = r.cases.last().unwrap_or_else(|| panic!("{at}: no case"));
                    let got = c.answers.get(field).map(display);
                    assert_eq!(got.as_deref(), Some(*value), "{at}: answer {field}");
                }
                ["no-answer", field] => {
                    let c = r.cases.last().unwrap_or_else(|| panic!("{at}: no case"));
                    assert!(
                        c.answers.get(field).is_none(),
                        "{at}: {field} was submitted"
                    );
                }
                _ => panic!("{at}: unknown check `{cmd}`"),
            }
        } else {
            assert!(
                line.trim().is_empty() || line.starts_with('#'),
                "{at}: cannot read `{line}`"
            );
        }
    }
    r
}

macro_rules! transcripts {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let _ = run(concat!(stringify!($name), ".txt"));
        }
    )*};
}

transcripts!(
    complete_registration,
    controls,
    edit_from_summary,
    resume_after_idle,
    cancel,
    no_unit_refused,
    retry_ladder,
    outside_a_flow,
    field_types,
    conditional_and_other,
    member_lookup,
    scripts_changed,
    control_words,
    reserved_words,
    change_report_accounts,
    readme_conversation,
);

/// A full registration at the longest answers the scripts allow still serialises to ≤ 4 KiB.
#[test]
fn full_registration_state_fits_in_4_kib() {
    let long = |n: usize| "宣".repeat(n);
    let answers = [
        "1".to_owned(),
        "2026-04-28".to_owned(),
        "5".to_owned(),
        long(100),
        long(50),
        "x".repeat(64),
        format!("https://weibo.com/{}", "a".repeat(180)),
        "是".to_owned(),
        long(100),
        long(300),
        "zhangwei2".to_owned(),
        "0755-88886666-123456".to_owned(),
        "13800138000".to_owned(),
        "本人".to_owned(),
        "010-12345678".to_owned(),
        "13900139000".to_owned(),
        format!("{}@example.com", "a".repeat(40)),
    ];
    let mut text = String::from("> 备案\n");
    for a in &answers {
        text.push_str(&format!("> {a}\n"));
    }
    text.push_str("< 请核对以下信息\n");
    let r = run_text("state-size", &text);
    let json = serde_json::to_string(&r.state).expect("serialises");
    assert!(json.len() <= 4096, "{} bytes: {json}", json.len());
    let back: ConversationState = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, r.state);
}

/// Confirming without a case number asks for one and changes nothing.
#[test]
fn confirm_without_a_case_number_changes_nothing() {
    let text = expand("@include partials/fill_to_summary.txt\n");
    let r = run_text("needs-number", &text);
    let input = EngineInput::Text("确认".into());
    let outcome = step(
        &r.scripts,
        &r.state,
        &input,
        &r.context(None, &input),
        Clock::new(r.scripts.time_zone).at(START_MS),
    );
    assert_eq!(
        outcome,
        StepOutcome::NeedsCaseNumber {
            flow: "registration".into(),
            prefix: "BA".into()
        }
    );
}
