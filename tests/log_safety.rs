//! Item 6 of issue 15: logs that cannot be forged. The bot's text log (the same `tracing`
//! formatter `main` installs, here writing into memory) is read back after hostile callbacks: a
//! closing tag with a newline and a forged log line, a 60 KB junk body, a signed message whose
//! sender and text carry newlines. Every line must be one the bot wrote (it starts with a
//! timestamp) and none may be longer than a bound.

#[macro_use]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use support::bot::{Backend, spawn_bot};

on_both_stores!(hostile_callbacks_cannot_forge_or_flood_log_lines);

const WAIT: Duration = Duration::from_secs(15);
/// No log line is longer than this (a capped field is 200 characters, up to 4 bytes each).
const MAX_LINE_BYTES: usize = 2_000;
const FORGED: &str = "2026-01-01T00:00:00.000000Z  INFO FORGED callback URL verified";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of this test binary: installed once, shared by both backends' scenarios.
fn log() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_target(false)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn lines() -> Vec<String> {
    let bytes = log().0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn hostile_callbacks_cannot_forge_or_flood_log_lines(backend: Backend) {
    log();
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let good = bot.text("zhangsan", 1, "你好");
    let forged_tag = format!("<xml><Encrypt>abc</Encrypt\n{FORGED}></xml>");
    assert_eq!(bot.post_raw(&good.query, forged_tag).await.0, 400);
    let junk = format!("<xml><{}\n{FORGED}\n", "J".repeat(60 * 1024));
    assert_eq!(bot.post_raw(&good.query, junk).await.0, 400);
    let sender = format!("u01\n{FORGED}");
    assert_eq!(bot.post(&bot.text(&sender, 2, "hi")).await.0, 400);
    let text = format!("你好\n{FORGED}");
    assert_eq!(bot.post(&bot.text("zhangsan", 3, &text)).await.0, 200);
    bot.wait_for_messages("zhangsan", 1, WAIT).await;
    bot.settle(WAIT).await;
    bot.stop().await;

    let lines = lines();
    let refusals = lines
        .iter()
        .filter(|l| l.contains("callback refused"))
        .count();
    assert!(refusals >= 3, "the refusals are logged: {lines:#?}");
    for line in &lines {
        assert!(
            line.len() <= MAX_LINE_BYTES,
            "a {}-byte log line: {}…",
            line.len(),
            &line[..200]
        );
        let stamped = line.len() > 20
            && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && line.as_bytes()[4] == b'-'
            && line.as_bytes()[10] == b'T';
        assert!(stamped, "a line the bot did not write: {line:?}");
        assert!(!line.starts_with(FORGED), "a forged line: {line:?}");
    }
}
