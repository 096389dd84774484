//! A copy of the shipped bot-scripts in a temp dir, for tests that change a line of it.

use std::path::Path;

/// The shipped bot-scripts with `from` replaced by `to` in bot.toml (which must contain it).
pub fn with_bot_toml(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"),
        dir.path(),
    );
    let bot_toml = dir.path().join("bot.toml");
    let text = std::fs::read_to_string(&bot_toml).expect("bot.toml");
    assert!(text.contains(from), "bot.toml has {from:?}");
    std::fs::write(&bot_toml, text.replace(from, to)).expect("bot.toml written");
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The shipped scripts with flow `old` replaced by an identical flow `new` (its file renamed,
/// its keywords and menu keys moved): cases of `old` may be stored, but `old` is gone.
pub fn with_flow_renamed(old: &str, new: &str) -> tempfile::TempDir {
    let dir = with_bot_toml(&format!("[flows.{old}]"), &format!("[flows.{new}]"));
    let flows = dir.path().join("flows");
    std::fs::rename(
        flows.join(format!("{old}.toml")),
        flows.join(format!("{new}.toml")),
    )
    .expect("rename the flow");
    dir
}

/// An unchanged copy of the shipped bot-scripts, for tests that add or change files in it
/// while the bot runs.
pub fn copy_shipped() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts"),
        dir.path(),
    );
    dir
}
