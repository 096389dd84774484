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

on_both_stores!(an_event_whose_worker_died_is_handled_once_by_another);

async fn an_event_whose_worker_died_is_handled_once_by_another(backend: Backend) {
    // A replica that only accepts callbacks: no worker of its own races the test.
    let Some(bot) = spawn_bot(backend, |s| s.workers = 0).await else {
        return;
    };
    bot.post(&bot.text("qianba", 9001, "你好")).await;

    // Worker A claims the event, then dies (it never completes).
    let now = flowbot::clock::now_ms();
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
        Dispatcher::new(bot.store.clone(), scripts, Arc::new(directory)),
        lease,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
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
