//! The operator's commands, while the bot runs (the real binary beside the running bot), on
//! both stores: `flowbot dead-letters` lists the messages WeCom would not take and
//! `--resend [ID…]` queues them again; `flowbot set-aside` lists the events set aside and
//! `--rerun [ID…]` queues them again.

#[macro_use]
mod support;

use std::process::{Command, Output};

use support::bot::{Backend, TestBot, spawn_bot};
use support::wait::until;

on_both_stores!(
    dead_letters_are_listed_and_resent_while_the_bot_runs,
    set_aside_events_are_listed_and_rerun_while_the_bot_runs,
);

/// Runs the binary against the running bot's store.
fn flowbot(bot: &TestBot, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    cmd.args(args)
        .current_dir(cwd.path())
        .env("FLOWBOT_DATA", &bot.settings.data_dir)
        .env("FLOWBOT_SIMULATOR", "off")
        .env("RUST_LOG", "warn");
    for key in ["FLOWBOT_CONFIG", "REDIS_URL", "FLOWBOT_REDIS_PREFIX"] {
        cmd.env_remove(key);
    }
    for key in ["CORP_ID", "AGENT_ID", "SECRET", "TOKEN", "AES_KEY"] {
        cmd.env_remove(format!("WECOM_{key}"));
    }
    if let Some(url) = &bot.settings.redis_url {
        cmd.env("REDIS_URL", url)
            .env("FLOWBOT_REDIS_PREFIX", &bot.settings.redis_prefix);
    }
    cmd.output().expect("run flowbot")
}

async fn dead_letters_are_listed_and_resent_while_the_bot_runs(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    // WeCom refuses the reply once (81013: not retried): it becomes a dead letter.
    bot.fake.fail_next("/message/send", 81013, 1);
    let (status, _) = bot
        .post(&bot.text("zhangsan", 7_200_000_000_000_000_001, "帮助"))
        .await;
    assert_eq!(status, 200);
    until("the reply is a dead letter", || async {
        bot.store.queue_stats().await.unwrap().dead_letters == 1
    })
    .await;
    let id = bot.store.dead_letters(1).await.unwrap()[0].id;

    let listed = flowbot(&bot, &["dead-letters"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let line: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(line["id"], id);
    assert!(
        line["last_error"].as_str().unwrap().contains("81013"),
        "{line}"
    );

    let unknown = flowbot(&bot, &["dead-letters", "--resend", "999999999"]);
    assert!(!unknown.status.success(), "an unknown id is reported");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("999999999"));

    let resent = flowbot(&bot, &["dead-letters", "--resend", &id.to_string()]);
    assert!(resent.status.success(), "{resent:?}");
    until("the running bot delivers the reply", || async {
        !bot.texts_to("zhangsan").is_empty()
    })
    .await;
    // The sender marks a pass's deliveries done at the pass's end: then nothing is left.
    until("the resent reply is done, no dead letter left", || async {
        let stats = bot.store.queue_stats().await.unwrap();
        (stats.dead_letters, stats.outbox) == (0, 0)
    })
    .await;

    // `--resend` alone queues all of them.
    bot.fake.fail_next("/message/send", 81013, 2);
    bot.post(&bot.text("lisi", 7_200_000_000_000_000_002, "帮助"))
        .await;
    bot.post(&bot.text("wangwu", 7_200_000_000_000_000_003, "帮助"))
        .await;
    until("both replies are dead letters", || async {
        bot.store.queue_stats().await.unwrap().dead_letters == 2
    })
    .await;
    let resent = flowbot(&bot, &["dead-letters", "--resend"]);
    assert!(resent.status.success(), "{resent:?}");
    until("both are delivered", || async {
        !bot.texts_to("lisi").is_empty() && !bot.texts_to("wangwu").is_empty()
    })
    .await;
    assert_eq!(bot.store.queue_stats().await.unwrap().dead_letters, 0);
    bot.stop().await;
}

async fn set_aside_events_are_listed_and_rerun_while_the_bot_runs(backend: Backend) {
    // No worker of its own: the test plays the worker that sets the event aside.
    let Some(bot) = spawn_bot(backend, |s| s.workers = 0).await else {
        return;
    };
    let (status, _) = bot
        .post(&bot.text("zhangsan", 7_200_000_000_000_000_011, "帮助"))
        .await;
    assert_eq!(status, 200);
    let now = bot.clock.now_ms();
    let lease = std::time::Duration::from_secs(30);
    let claimed = bot.store.claim_event(now, lease).await.unwrap();
    let claimed = claimed.expect("the queued message");
    let reason = "failed 5 attempts";
    assert!(
        bot.store
            .set_aside_event(&claimed, reason, now)
            .await
            .unwrap()
    );
    assert_eq!(bot.store.queue_stats().await.unwrap().events, 0);

    let listed = flowbot(&bot, &["set-aside"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let line: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(line["event_id"], claimed.event_id);
    assert_eq!(line["conversation"], claimed.conversation.as_str());
    assert_eq!(line["reason"], reason);

    let rerun = flowbot(&bot, &["set-aside", "--rerun"]);
    assert!(rerun.status.success(), "{rerun:?}");
    let rerun = String::from_utf8_lossy(&rerun.stdout);
    let line: serde_json::Value = serde_json::from_str(rerun.lines().next().unwrap()).unwrap();
    assert!(line["rerun_as"].as_u64().is_some(), "{line}");
    assert!(bot.store.set_aside_events().await.unwrap().is_empty());
    assert_eq!(bot.store.queue_stats().await.unwrap().events, 1);
    let again = bot.store.claim_event(now + 1, lease).await.unwrap();
    assert_eq!(again.expect("queued again").payload, claimed.payload);
    bot.stop().await;
}
