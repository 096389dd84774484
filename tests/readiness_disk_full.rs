//! Item 7 of issue 15, honest readiness on the embedded store: `/readyz` proves a write. A full
//! disk is made honestly and without privileges: the file-size limit of this test process
//! (`RLIMIT_FSIZE`, its soft limit set with util-linux `prlimit` on our own pid) is lowered
//! to 0, so no file can
//! grow — SQLite's next commit cannot append to its write-ahead log, as on a full disk (EFBIG
//! instead of ENOSPC; `SIGXFSZ` is caught so it does not end the process). This binary holds only
//! this test because the limit is process-wide.

#[macro_use]
mod support;

use std::process::Command;

use support::bot::{Backend, spawn_bot};

fn set_file_size_limit(limit: &str) {
    let status = Command::new("prlimit")
        .args(["--pid", &std::process::id().to_string()])
        .arg(format!("--fsize={limit}"))
        .status()
        .expect("prlimit (util-linux) runs");
    assert!(status.success(), "prlimit --fsize={limit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_embedded_store_cannot_grow_its_files() {
    use tokio::signal::unix::{SignalKind, signal};
    // SIGXFSZ (25 on Linux): a write past the limit raises it; caught, the write fails instead.
    let _xfsz = signal(SignalKind::from_raw(25)).expect("SIGXFSZ can be caught");
    let Some(bot) = spawn_bot(Backend::Embedded, |_| {}).await else {
        return;
    };
    assert_eq!(bot.get("/readyz").await, (200, "ready".into()));
    set_file_size_limit("0:");
    let full = bot.get("/readyz").await;
    let health = bot.get("/healthz").await.0;
    set_file_size_limit("unlimited:");
    assert_eq!(full, (503, "store cannot take a write".into()));
    assert_eq!(health, 200, "the process still serves");
    bot.stop().await;
}
