//! `flowbot check` on the settings of authorisation before publishing: `[publication_review]`
//! in bot.toml and the refusable flow's own `[approvals]` words, each mistake reported with its
//! file and line.

use std::path::{Path, PathBuf};

use flowbot::base::scripts;

/// A copy of the shipped scripts with `bot.toml` and `flows/publication_review.toml` edited.
fn edited(
    bot: impl FnOnce(String) -> String,
    flow: impl FnOnce(String) -> String,
) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let path = entry.expect("entry").path();
            let target = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).expect("copy");
            }
        }
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bot-scripts");
    let tmp = tempfile::tempdir().expect("tempdir");
    copy(&src, tmp.path());
    let edit =
        |file: &str, text: String| std::fs::write(tmp.path().join(file), text).expect("write");
    let read = |file: &str| std::fs::read_to_string(tmp.path().join(file)).expect("read");
    edit("bot.toml", bot(read("bot.toml")));
    let file = "flows/publication_review.toml";
    edit(file, flow(read(file)));
    tmp
}

fn errors(dir: &Path) -> Vec<String> {
    scripts::check(dir)
        .expect_err("refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_reported(all: &[String], file: &str, fragment: &str) {
    assert!(
        all.iter()
            .any(|l| l.contains(&format!("{file}:")) && l.contains(fragment)),
        "{file}: {fragment}: {all:#?}"
    );
}

#[test]
fn the_settings_are_checked_against_the_flow_and_the_roles() {
    let tmp = edited(
        |bot| {
            bot.replace(
                r#"leader_review = "unless_checked""#,
                r#"leader_review = "sometimes""#,
            )
            .replace(
                r#"urgent_categories = ["突发事件"]"#,
                r#"urgent_categories = ["突发"]"#,
            )
            .replace(
                r#"escalate_to = "propaganda_head""#,
                r#"escalate_to = "nobody""#,
            )
            .replace(
                "urgent_remind_every_hours = 1",
                "urgent_remind_every_hours = 0",
            )
            .replace("\nescalated = ", "\nescalation = ")
        },
        |flow| flow,
    );
    let all = errors(tmp.path());
    for fragment in [
        "leader_review must be `always`, `unless_checked` or `never`, not `sometimes`",
        "urgent category `突发` is not a choice of `category`",
        "escalate_to `nobody` is not a role of [roles]",
        "hours must be at least 1",
        "needs the message `escalated`",
        "unknown publication_review message `escalation`",
    ] {
        assert_reported(&all, "bot.toml", fragment);
    }
}

#[test]
fn unless_checked_needs_the_leader_question() {
    let tmp = edited(
        |bot| bot,
        |flow| flow.replace("leader_checked", "checked_by_leader"),
    );
    assert_reported(
        &errors(tmp.path()),
        "bot.toml",
        "leader_review `unless_checked` needs a yes/no field `leader_checked`",
    );
}

#[test]
fn a_refusable_flow_needs_the_refusals_words_and_only_known_ones() {
    let tmp = edited(
        |bot| bot,
        |flow| {
            flow.replace("\nbutton_refuse = ", "\nbutton_refused = ")
                .replace("\ncard_refused = ", "\n# card_refused = ")
        },
    );
    let all = errors(tmp.path());
    for fragment in [
        "a refusable flow needs the message `button_refuse` in [approvals]",
        "a refusable flow needs the message `card_refused` in [approvals]",
        "unknown approval message `button_refused`",
    ] {
        assert_reported(&all, "flows/publication_review.toml", fragment);
    }
    let tmp = edited(
        |bot| bot,
        |flow| flow.replace("refusable = true", "refusable = false"),
    );
    assert_reported(
        &errors(tmp.path()),
        "flows/publication_review.toml",
        "`button_refuse` needs `refusable = true`",
    );
}

#[test]
fn without_the_table_the_flow_still_checks() {
    let tmp = edited(
        |bot| {
            let start = bot.find("[publication_review]").expect("the table");
            let end = bot[start..].find("# Group chats").expect("next section") + start;
            format!("{}{}", &bot[..start], &bot[end..])
        },
        |flow| flow,
    );
    let report = scripts::check(tmp.path()).expect("valid without [publication_review]");
    let loaded = scripts::Scripts::load(tmp.path()).expect("loads");
    assert!(loaded.publication_review.is_none());
    assert_eq!(report.flows, 5);
}
