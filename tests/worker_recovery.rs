//! Faults in the pipeline: a worker that dies mid-event loses nothing and sends nothing twice;
//! a bot restarted on the same store delivers what was queued before it stopped.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use flowbot::directory::{Roles, StaticDirectory};
use flowbot::dispatch::Dispatcher;
use flowbot::scripts::Scripts;
use flowbot::store::{Commit, CommitOutcome};
use flowbot::worker::Worker;
use support::bot::{Backend, spawn_bot};
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(15);

on_both_stores!(
    an_event_whose_worker_died_is_handled_once_by_another,
    an_event_that_keeps_killing_its_workers_is_set_aside,
    a_decision_made_just_before_a_crash_is_announced_once_after_restart,
);

async fn an_event_whose_worker_died_is_handled_once_by_another(backend: Backend) {
    // A replica that only accepts callbacks: no worker of its own races the test.
    let Some(bot) = spawn_bot(backend, |s| s.workers = 0).await else {
        return;
    };
    bot.post(&bot.text("qianba", 9001, "你好")).await;

    // Worker A claims the event, then dies (it never completes).
    let now = bot.clock.now_ms();
    let lease = Duration::from_secs(30);
    let dead_claim = bot
        .store
        .claim_event(now, lease)
        .await
        .unwrap()
        .expect("the event is queued");
    assert_eq!(dead_claim.attempt, 1);

    let scripts = Arc::new(Scripts::load(&bot.settings.scripts_dir).unwrap());
    let directory = StaticDirectory::load(
        &bot.settings.scripts_dir.join("directory.toml"),
        Roles::new(scripts.roles.clone()),
    )
    .unwrap();
    let worker_b = Worker::new(
        bot.store.clone(),
        Dispatcher::new(
            bot.store.clone(),
            scripts,
            Arc::new(directory),
            bot.clock.clone(),
        ),
        lease,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
        bot.clock.clone(),
    );
    assert!(
        !worker_b.tick(now).await.unwrap(),
        "the conversation is leased to A"
    );
    // After A's lease has run out, B takes the event over and commits the reply.
    assert!(worker_b.tick(now + 31_000).await.unwrap());
    assert_eq!(bot.wait_for_messages("qianba", 1, WAIT).await.len(), 1);

    // A wakes up and tries to commit its stale claim: nothing happens.
    let late = bot
        .store
        .complete_event(&dead_claim, &Commit::default(), now + 32_000)
        .await
        .unwrap();
    assert_eq!(
        late,
        CommitOutcome::AlreadyDone,
        "the event was already completed"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(bot.fake.sent_to("qianba").len(), 1, "exactly one reply");
    bot.stop().await;
}

/// An event whose workers die five times is set aside: the conversation's next message is
/// answered instead of waiting forever behind it.
async fn an_event_that_keeps_killing_its_workers_is_set_aside(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.workers = 0).await else {
        return;
    };
    bot.post(&bot.text("sunqi", 9101, "你好")).await;
    bot.post(&bot.text("sunqi", 9102, "你好")).await;
    let now = bot.clock.now_ms();
    let lease = Duration::from_secs(30);
    for attempt in 1..=5 {
        let claim = bot
            .store
            .claim_event(now + (attempt - 1) * 31_000, lease)
            .await
            .unwrap();
        assert_eq!(
            claim.map(|c| c.attempt),
            Some(attempt as u32),
            "a worker claims it, then dies"
        );
    }
    let scripts = Arc::new(Scripts::load(&bot.settings.scripts_dir).unwrap());
    let directory = StaticDirectory::load(
        &bot.settings.scripts_dir.join("directory.toml"),
        Roles::new(scripts.roles.clone()),
    )
    .unwrap();
    let worker = Worker::new(
        bot.store.clone(),
        Dispatcher::new(
            bot.store.clone(),
            scripts,
            Arc::new(directory),
            bot.clock.clone(),
        ),
        lease,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
        bot.clock.clone(),
    );
    let later = now + 5 * 31_000;
    assert!(
        worker.tick(later).await.unwrap(),
        "the sixth claim sets it aside"
    );
    assert!(
        worker.tick(later + 1).await.unwrap(),
        "the next message is handled"
    );
    assert_eq!(bot.wait_for_messages("sunqi", 1, WAIT).await.len(), 1);
    assert_eq!(
        bot.store.queue_stats().await.unwrap().events,
        0,
        "nothing left queued"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        bot.fake.sent_to("sunqi").len(),
        1,
        "one answer: the second message's"
    );
    bot.stop().await;
}

/// The embedded store keeps queued events across a restart of the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_queued_before_a_restart_are_answered_after_it() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let bot = spawn_bot(Backend::Embedded, move |s| {
        s.workers = 0;
        s.data_dir = dir;
    })
    .await
    .unwrap();
    for i in 0..3 {
        assert_eq!(bot.post(&bot.text("zhoujiu", 500 + i, "你好")).await.0, 200);
    }
    let settings = bot.settings.clone();
    bot.stop().await;

    // The same store, now with workers: the three messages are answered.
    let bot = spawn_bot(Backend::Embedded, move |s| {
        let fresh_fake = s.api_base.clone();
        *s = settings.clone();
        s.api_base = fresh_fake;
        s.workers = 2;
    })
    .await
    .unwrap();
    let replies = bot.wait_for_messages("zhoujiu", 3, WAIT).await;
    assert_eq!(replies.len(), 3);
    bot.stop().await;
}

/// The bot decides (the decision and its notifications commit together) and dies before it
/// sends anything; after a restart every notification goes out, once.
async fn a_decision_made_just_before_a_crash_is_announced_once_after_restart(backend: Backend) {
    // In its first life WeCom accepts nothing from the bot: every notification stays queued.
    let Some(bot) = spawn_bot(backend, |s| {
        s.pacing.base_backoff = Duration::from_millis(200);
        s.pacing.max_backoff = Duration::from_secs(1);
    })
    .await
    else {
        return;
    };
    bot.fake.fail_next("/message/send", -1, 100_000);
    bot.fake.fail_next("/update_template_card", -1, 100_000);
    bot.say("zhangsan", support::flows::REGISTRATION).await;
    let number = format!("BA-{}-0001", support::flows::year(&bot));
    let mut task = None;
    for _ in 0..200 {
        if let Some(record) = bot.store.get_case(&number).await.unwrap() {
            let case: serde_json::Value = serde_json::from_str(&record.body).unwrap();
            task = case["chain"][0]["task_ids"][0].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task = task.expect("the case is filed");
    bot.post(&bot.tap(
        "liuyang",
        &format!("approve:{number}"),
        &task,
        "rc-before-crash",
    ))
    .await;
    for _ in 0..200 {
        let case = support::flows::case_json(&bot, &number).await;
        if case["current_step"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        bot.fake.sent_to("zhangsan").is_empty(),
        "nothing was sent before the crash"
    );
    let settings = bot.settings.clone();
    let kept = bot.keep_store_and_stop().await;

    // Second life on the same store, delivering normally.
    let Some(bot) = spawn_bot(backend, move |s| {
        let fresh_fake = s.api_base.clone();
        *s = settings.clone();
        s.api_base = fresh_fake;
        s.pacing = flowbot::outbox::Pacing::default();
    })
    .await
    else {
        return;
    };
    drop(kept);
    assert!(
        bot.wait_for_text("zhangsan", "已通过", WAIT).await,
        "the applicant hears of the decision"
    );
    let u = "chenjing";
    bot.fake
        .wait_until(
            move |f| f.sent_to(u).iter().any(|m| m["msgtype"] == "template_card"),
            WAIT,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let told = bot
        .texts_to("zhangsan")
        .iter()
        .filter(|t| t.contains("已通过"))
        .count();
    assert_eq!(told, 1, "once");
    let cards = bot
        .fake
        .sent_to("chenjing")
        .iter()
        .filter(|m| m["msgtype"] == "template_card")
        .count();
    assert_eq!(cards, 1, "the next approver's card, once");
    assert_eq!(
        bot.fake.accepted_bodies("/update_template_card").len(),
        1,
        "the tapped card updated once"
    );
    bot.stop().await;
}
