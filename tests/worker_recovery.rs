//! Faults in the pipeline: a worker that dies mid-event loses nothing and sends nothing twice;
//! handling that panics is caught, the worker goes on and the event is set aside after its
//! attempts; shutdown finishes the event in hand; a bot restarted on the same store delivers
//! what was queued before it stopped.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::{
    Commit, CommitOutcome, Enqueue, NewEvent, OutboxItem, Store, StoreError, VersionedState,
};
use flowbot::base::clock::Clock;
use flowbot::base::directory::{Roles, StaticDirectory};
use flowbot::base::scripts::Scripts;
use flowbot::dispatch::event::{Event, FiredTimer, TimerJob};
use flowbot::dispatch::{DispatchError, Dispatcher};
use flowbot::runtime::worker::{Handle, MAX_ATTEMPTS, Worker};
use support::bot::{Backend, spawn_bot};
use support::store::{Harness, embedded_harness, redis_harness};
use support::wait::until;
use tokio::sync::Notify;

const WAIT: Duration = Duration::from_secs(15);

on_both_stores!(
    an_event_whose_worker_died_is_handled_once_by_another,
    an_event_that_keeps_killing_its_workers_is_set_aside,
    a_decision_made_just_before_a_crash_is_announced_once_after_restart,
    a_panic_in_handling_is_caught_and_the_event_set_aside_after_its_attempts,
    a_running_worker_goes_on_after_a_panic,
    an_event_waiting_on_an_unavailable_dependency_is_retried_for_hours_not_set_aside,
    shutdown_finishes_the_event_in_hand,
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
        Arc::new(Dispatcher::new(
            bot.store.clone(),
            scripts,
            Arc::new(directory),
            bot.clock.clone(),
            flowbot::process::all(),
        )),
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
    bot.settle(WAIT).await;
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
        Arc::new(Dispatcher::new(
            bot.store.clone(),
            scripts,
            Arc::new(directory),
            bot.clock.clone(),
            flowbot::process::all(),
        )),
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
    bot.settle(WAIT).await;
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
    until("the case is filed", || async {
        bot.store.get_case(&number).await.unwrap().is_some()
    })
    .await;
    let case = support::flows::case_json(&bot, &number).await;
    let task = case["chain"][0]["task_ids"][0]
        .as_str()
        .expect("the first step's card")
        .to_owned();
    bot.post(&bot.tap(
        "liuyang",
        &format!("approve:{number}"),
        &task,
        "rc-before-crash",
    ))
    .await;
    until("the leader's decision is committed", || async {
        support::flows::case_json(&bot, &number).await["current_step"] == 1
    })
    .await;
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
        s.pacing = flowbot::runtime::outbox::Pacing::default();
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
    bot.settle(WAIT).await;
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

/// A stand-in for the dispatcher. Test events are group digests; the group says what to do:
/// `boom` panics (until `fixed`), `down` fails as if the store were unreachable (until
/// `healed`), `slow` waits for [`Script::release`], anything else succeeds. Its delay notice is
/// one outbox item with the payload `delayed`.
#[derive(Default)]
struct Script {
    seen: std::sync::Mutex<Vec<String>>,
    entered: Notify,
    release: Notify,
    fixed: std::sync::atomic::AtomicBool,
    healed: std::sync::atomic::AtomicBool,
}

impl Script {
    fn seen(&self, group: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|g| *g == group)
            .count()
    }
}

#[async_trait::async_trait]
impl Handle for Script {
    async fn handle(
        &self,
        _conversation: &str,
        _state: Option<VersionedState>,
        event: &Event,
        _now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        let Event::Timer(FiredTimer {
            job: TimerJob::Digest { group, .. },
            ..
        }) = event
        else {
            panic!("the test queues only digests");
        };
        self.seen.lock().unwrap().push(group.clone());
        let flag = |f: &std::sync::atomic::AtomicBool| f.load(std::sync::atomic::Ordering::SeqCst);
        match group.as_str() {
            "boom" if !flag(&self.fixed) => panic!("the handler fails on this event"),
            "down" if !flag(&self.healed) => {
                return Err(DispatchError::Store(StoreError::Unavailable(
                    "injected: the backend does not answer".into(),
                )));
            }
            "slow" => {
                self.entered.notify_one();
                self.release.notified().await;
            }
            _ => {}
        }
        Ok(Commit::default())
    }

    fn delay_notice(&self, _event: &Event) -> Vec<OutboxItem> {
        vec![OutboxItem {
            channel: "member:alice".into(),
            payload: "delayed".into(),
        }]
    }
}

async fn harness(backend: Backend) -> Option<Harness> {
    match backend {
        Backend::Embedded => Some(embedded_harness()),
        Backend::Redis => redis_harness().await,
    }
}

/// Queues a digest event for `group` in `conversation`.
async fn queue(store: &dyn Store, conversation: &str, group: &str, now_ms: i64) {
    let event = Event::Timer(FiredTimer {
        job: TimerJob::Digest {
            group: group.into(),
            slot_ms: now_ms,
        },
        due_ms: now_ms,
    });
    let new = NewEvent {
        conversation: conversation.into(),
        payload: event.to_payload(),
    };
    let key = format!("{conversation}:{group}:{now_ms}");
    let queued = store.dedupe_and_enqueue(&key, Duration::from_secs(600), &new, now_ms);
    assert!(matches!(queued.await.unwrap(), Enqueue::Accepted { .. }));
}

fn worker(store: Arc<dyn Store>, script: Arc<Script>, clock: &Clock) -> Worker {
    let lease = Duration::from_secs(30);
    let quiet = || Arc::new(Notify::new());
    Worker::new(store, script, lease, quiet(), quiet(), clock.clone())
}

/// The worker's loop in a task of its own, until the sender is used.
fn run(
    worker: Worker,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    (stop, running)
}

/// A handler that panics on one event: the worker answers the other conversations, the event
/// is claimed again after each lease, and after its last attempt it is set aside so that its
/// conversation goes on.
async fn a_panic_in_handling_is_caught_and_the_event_set_aside_after_its_attempts(
    backend: Backend,
) {
    let Some(h) = harness(backend).await else {
        return;
    };
    let clock = Clock::default();
    let now = clock.now_ms();
    queue(h.store.as_ref(), "alice", "boom", now).await;
    queue(h.store.as_ref(), "bob", "calm", now).await;
    queue(h.store.as_ref(), "alice", "after", now + 1).await;
    let script = Arc::new(Script::default());
    let worker = worker(h.store.clone(), script.clone(), &clock);

    assert!(worker.tick(now).await.unwrap(), "alice's event panics");
    assert!(worker.tick(now).await.unwrap(), "bob is answered");
    assert_eq!((script.seen("boom"), script.seen("calm")), (1, 1));
    assert!(
        !worker.tick(now).await.unwrap(),
        "alice's next event waits behind the leased one"
    );
    for attempt in 2..=MAX_ATTEMPTS {
        let after_lease = now + i64::from(attempt - 1) * 31_000;
        assert!(worker.tick(after_lease).await.unwrap());
        assert_eq!(script.seen("boom"), attempt as usize, "claimed again");
    }
    let later = now + i64::from(MAX_ATTEMPTS) * 31_000;
    assert!(worker.tick(later).await.unwrap(), "set aside");
    assert_eq!(
        script.seen("boom"),
        MAX_ATTEMPTS as usize,
        "not handled again"
    );
    assert!(worker.tick(later).await.unwrap(), "alice goes on");
    assert_eq!(script.seen("after"), 1);
    assert!(!worker.tick(later).await.unwrap(), "nothing left");
    assert_eq!(h.store.queue_stats().await.unwrap().events, 0);

    // The operator sees it in the set-aside list and, the bug fixed, re-runs it.
    let aside = h.store.set_aside_events().await.unwrap();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(aside[0].conversation, "alice");
    assert!(aside[0].payload.contains("boom"), "{}", aside[0].payload);
    assert!(aside[0].attempts > MAX_ATTEMPTS, "{aside:?}");
    script
        .fixed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let rerun = h.store.rerun_set_aside(aside[0].event_id, later).await;
    assert!(rerun.unwrap().is_some(), "queued again");
    assert!(
        h.store
            .rerun_set_aside(aside[0].event_id, later)
            .await
            .unwrap()
            .is_none(),
        "only once"
    );
    assert!(h.store.set_aside_events().await.unwrap().is_empty());
    assert!(worker.tick(later).await.unwrap(), "the re-run is handled");
    assert_eq!(script.seen("boom"), MAX_ATTEMPTS as usize + 1);
    assert_eq!(h.store.queue_stats().await.unwrap().events, 0);
}

/// A handling that fails because a dependency is unavailable is not counted as an attempt: the
/// event waits with back-off (the other conversations go on), is tried again for hours without
/// being set aside, the member is told once that the answer is delayed, and once the dependency
/// is back the event is handled.
async fn an_event_waiting_on_an_unavailable_dependency_is_retried_for_hours_not_set_aside(
    backend: Backend,
) {
    let Some(h) = harness(backend).await else {
        return;
    };
    let clock = Clock::default();
    let now = clock.now_ms();
    queue(h.store.as_ref(), "alice", "down", now).await;
    queue(h.store.as_ref(), "bob", "calm", now).await;
    let script = Arc::new(Script::default());
    let worker = worker(h.store.clone(), script.clone(), &clock);

    assert!(worker.tick(now).await.unwrap(), "alice's event waits");
    assert!(worker.tick(now).await.unwrap(), "bob is answered");
    assert_eq!(script.seen("calm"), 1);
    assert!(
        !worker.tick(now).await.unwrap(),
        "alice's event is not due yet"
    );

    // Three hours of an outage, looked at every minute.
    let mut t = now;
    while t < now + 3 * 3_600_000 {
        t += 60_000;
        while worker.tick(t).await.unwrap() {}
    }
    let tries = script.seen("down");
    assert!(
        tries > 2 * MAX_ATTEMPTS as usize,
        "retried again and again ({tries} tries)"
    );
    assert!(
        tries < 200,
        "with back-off, not every minute ({tries} tries)"
    );
    assert!(h.store.set_aside_events().await.unwrap().is_empty());
    assert_eq!(
        h.store.queue_stats().await.unwrap().events,
        1,
        "still queued"
    );
    let outbox = h
        .store
        .claim_outbox(t, Duration::from_secs(30), 100)
        .await
        .unwrap();
    let notices = outbox.iter().filter(|o| o.payload == "delayed").count();
    assert_eq!(notices, 1, "told once that the answer is delayed");

    script
        .healed
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let back = t + 6 * 60_000;
    assert!(worker.tick(back).await.unwrap(), "handled once it is back");
    assert_eq!(script.seen("down"), tries + 1);
    assert_eq!(h.store.queue_stats().await.unwrap().events, 0);
    assert!(h.store.set_aside_events().await.unwrap().is_empty());
}

/// The worker loop survives a panic: the next event is handled by the same running worker, and
/// once the lease runs out (the clock moved on) the failing event is tried again.
async fn a_running_worker_goes_on_after_a_panic(backend: Backend) {
    let Some(h) = harness(backend).await else {
        return;
    };
    let clock = Clock::default();
    let script = Arc::new(Script::default());
    let (stop, running) = run(worker(h.store.clone(), script.clone(), &clock));
    queue(h.store.as_ref(), "alice", "boom", clock.now_ms()).await;
    until("the event panicked once", || async {
        script.seen("boom") == 1
    })
    .await;
    queue(h.store.as_ref(), "bob", "calm", clock.now_ms()).await;
    until("bob's event is handled", || async {
        script.seen("calm") == 1
    })
    .await;
    clock.set_offset_ms(31_000);
    until("the event is tried again after its lease", || async {
        script.seen("boom") == 2
    })
    .await;
    assert!(!running.is_finished(), "the worker runs on");
    let _ = stop.send(());
    running.await.expect("the worker stops cleanly");
}

/// Shutdown while an event is being handled: the worker finishes and commits it, then stops.
async fn shutdown_finishes_the_event_in_hand(backend: Backend) {
    let Some(h) = harness(backend).await else {
        return;
    };
    let clock = Clock::default();
    let script = Arc::new(Script::default());
    let (stop, running) = run(worker(h.store.clone(), script.clone(), &clock));
    queue(h.store.as_ref(), "alice", "slow", clock.now_ms()).await;
    script.entered.notified().await;
    stop.send(()).expect("the worker listens");
    script.release.notify_one();
    tokio::time::timeout(WAIT, running)
        .await
        .expect("the worker stops")
        .expect("cleanly");
    assert_eq!(
        h.store.queue_stats().await.unwrap().events,
        0,
        "the event in hand was committed before stopping"
    );
}
