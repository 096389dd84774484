//! `OutboxSender` against the fake WeCom and a real (embedded) store: pacing per member and per
//! robot as WeCom sees it, order per channel, retries with back-off and dead letters.

mod support;

use std::time::{Duration, Instant};

use flowbot::adapters::store::{Commit, CommitOutcome, NewEvent, OutboxItem};
use flowbot::adapters::wecom::api::{MessageBody, Outbound};
use flowbot::runtime::outbox::{OutboxSender, Pacing};
use support::Recorded;
use tokio::sync::oneshot;

use support::client::{Setup, setup};
use support::wait::until;

impl Setup {
    fn sender(&self, pacing: Pacing) -> OutboxSender {
        OutboxSender::new(
            self.store.clone(),
            self.client(),
            pacing,
            self.clock.clone(),
        )
    }

    /// Queues items the way the worker does: with a completed event.
    async fn queue(&self, items: Vec<OutboxItem>) {
        let now = now();
        let event = NewEvent {
            conversation: "test".into(),
            payload: "{}".into(),
        };
        let key = format!("test-{}", rand_suffix());
        self.store
            .dedupe_and_enqueue(&key, Duration::from_secs(60), &event, now)
            .await
            .unwrap();
        let claimed = self
            .store
            .claim_event(now, Duration::from_secs(60))
            .await
            .unwrap()
            .expect("the event");
        let commit = Commit {
            outbox: items,
            ..Default::default()
        };
        assert_eq!(
            self.store
                .complete_event(&claimed, &commit, now)
                .await
                .unwrap(),
            CommitOutcome::Committed
        );
    }

    async fn queue_messages(&self, messages: &[Outbound]) {
        let items = messages
            .iter()
            .map(|m| OutboxItem {
                channel: m.channel(),
                payload: serde_json::to_string(m).unwrap(),
            })
            .collect();
        self.queue(items).await;
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The wall clock, as the client's clock (no offset) reads it.
fn now() -> i64 {
    flowbot::base::clock::Clock::default().now_ms()
}

fn text(to: &str, content: String) -> Outbound {
    Outbound::Send {
        to_user: to.into(),
        body: MessageBody::Text { content },
    }
}

fn robot(name: &str, content: String) -> Outbound {
    Outbound::Robot {
        robot: name.into(),
        body: MessageBody::Text { content },
        mentioned: vec![],
    }
}

fn fast_pacing() -> Pacing {
    Pacing {
        member_limit: 30,
        robot_limit: 20,
        window: Duration::from_secs(2),
        retry_for: Duration::from_secs(3),
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..Pacing::default()
    }
}

/// The most calls any `window` of arrival times holds.
fn max_in_window(calls: &[Recorded], window: Duration) -> usize {
    let at: Vec<Instant> = calls.iter().map(|r| r.at).collect();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count())
        .max()
        .unwrap_or(0)
}

/// Runs the sender in the background until the returned sender is dropped or fired.
fn spawn(sender: OutboxSender) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(sender.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (stop, task)
}

/// Fifty messages to one member at 30 per 2 s: all arrive, in order, never more than 30 in
/// any 2 s of WeCom's clock.
#[tokio::test]
async fn member_messages_are_paced_and_keep_their_order() {
    let s = setup().await;
    let messages: Vec<_> = (0..50)
        .map(|i| text("zhangsan", format!("m{i:02}")))
        .collect();
    s.queue_messages(&messages).await;
    let (stop, task) = spawn(s.sender(fast_pacing()));
    let done = s
        .fake
        .wait_until(
            |f| f.sent_to("zhangsan").len() >= 50,
            Duration::from_secs(15),
        )
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done, "delivered {}", s.fake.sent_to("zhangsan").len());

    let contents: Vec<String> = s
        .fake
        .sent_to("zhangsan")
        .iter()
        .map(|b| b["text"]["content"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..50).map(|i| format!("m{i:02}")).collect();
    assert_eq!(contents, expected);
    let calls = s.fake.requests_to("/message/send");
    assert_eq!(calls.len(), 50, "each message sent once");
    assert_eq!(max_in_window(&calls, Duration::from_secs(2)), 30);
    assert_eq!(s.store.queue_stats().await.unwrap().outbox, 0);
}

/// A group robot at 20 per 2 s, with another robot and a member interleaved: each channel is
/// paced on its own and keeps its order.
#[tokio::test]
async fn robot_messages_are_paced_per_robot() {
    let s = setup().await;
    let mut messages = Vec::new();
    for i in 0..30 {
        messages.push(robot("robot-a", format!("a{i:02}")));
        if i < 5 {
            messages.push(robot("robot-b", format!("b{i:02}")));
            messages.push(text("lisi", format!("l{i:02}")));
        }
    }
    s.queue_messages(&messages).await;
    let (stop, task) = spawn(s.sender(fast_pacing()));
    let done = s
        .fake
        .wait_until(
            |f| f.robot_messages("robot-a").len() >= 30,
            Duration::from_secs(15),
        )
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done, "delivered {}", s.fake.robot_messages("robot-a").len());

    let contents = |bodies: Vec<serde_json::Value>| -> Vec<String> {
        bodies
            .iter()
            .map(|b| b["text"]["content"].as_str().unwrap().to_owned())
            .collect()
    };
    let expected: Vec<String> = (0..30).map(|i| format!("a{i:02}")).collect();
    assert_eq!(contents(s.fake.robot_messages("robot-a")), expected);
    assert_eq!(s.fake.robot_messages("robot-b").len(), 5);
    assert_eq!(s.fake.sent_to("lisi").len(), 5);
    let calls: Vec<_> = s
        .fake
        .requests_to("/webhook/send")
        .into_iter()
        .filter(|r| r.query["key"] == "robot-a")
        .collect();
    assert_eq!(calls.len(), 30);
    assert_eq!(max_in_window(&calls, Duration::from_secs(2)), 20);
}

/// A retryable error that never clears is retried with back-off for the retry window (here
/// 3 s from the first failure), then dead-lettered with the last error; a refusal is
/// dead-lettered at once.
#[tokio::test]
async fn failing_items_are_dead_lettered() {
    let s = setup().await;
    s.fake.fail_next("/message/send", -1, 4);
    s.queue_messages(&[text("zhangsan", "busy".into())]).await;
    let sender = s.sender(fast_pacing());
    let mut t = now();
    let mut retried = 0;
    for _ in 0..4 {
        let report = sender.tick(t).await;
        assert_eq!(report.claimed, 1);
        retried += report.retried;
        t += 1_000; // past any back-off (at most 200 ms here)
    }
    assert_eq!(retried, 3);
    assert_eq!(sender.tick(t).await.claimed, 0);
    let dead = s.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].failures, 4);
    assert!(dead[0].last_error.contains("-1"), "{}", dead[0].last_error);
    assert_eq!(s.fake.requests_to("/message/send").len(), 4);

    s.fake.fail_next("/message/send", 81013, 1);
    s.queue_messages(&[text("outsider", "no".into())]).await;
    let report = sender.tick(now() + 10_000).await;
    assert_eq!((report.claimed, report.dead_lettered), (1, 1));
    let dead = s.store.dead_letters(10).await.unwrap();
    assert!(
        dead[0].last_error.contains("81013"),
        "{}",
        dead[0].last_error
    );
    assert_eq!(dead[0].failures, 1);
}

/// A payload that is not an `Outbound` is dead-lettered at once, and the others still go out.
#[tokio::test]
async fn invalid_payload_is_dead_lettered_at_once() {
    let s = setup().await;
    let good = text("zhangsan", "fine".into());
    s.queue(vec![
        OutboxItem {
            channel: "member:zhangsan".into(),
            payload: "{not json".into(),
        },
        OutboxItem {
            channel: good.channel(),
            payload: serde_json::to_string(&good).unwrap(),
        },
    ])
    .await;
    let report = s.sender(fast_pacing()).tick(now()).await;
    assert_eq!((report.dead_lettered, report.delivered), (1, 1));
    let dead = s.store.dead_letters(10).await.unwrap();
    assert_eq!(dead[0].payload, "{not json");
    assert!(
        dead[0].last_error.contains("unparsable"),
        "{}",
        dead[0].last_error
    );
    assert_eq!(s.fake.sent_to("zhangsan").len(), 1);
}

/// A 45009 answer is retried after a back-off and the message is delivered, once.
#[tokio::test]
async fn rate_limited_answer_is_retried_and_delivered() {
    let s = setup().await;
    s.fake.fail_next("/message/send", 45009, 1);
    s.queue_messages(&[text("zhangsan", "hello".into())]).await;
    let (stop, task) = spawn(s.sender(fast_pacing()));
    let done = s
        .fake
        .wait_until(|f| f.sent_to("zhangsan").len() == 1, Duration::from_secs(5))
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done);
    let codes: Vec<_> = s
        .fake
        .requests_to("/message/send")
        .iter()
        .map(|r| r.errcode)
        .collect();
    assert_eq!(codes, [45009, 0]);
    assert_eq!(s.store.queue_stats().await.unwrap().outbox, 0);
}

/// The notifier wakes an idle sender at once, without waiting for the idle interval.
#[tokio::test]
async fn notifier_wakes_the_sender() {
    let s = setup().await;
    let sender = s.sender(fast_pacing()).with_idle(Duration::from_secs(30));
    let notify = sender.notifier();
    s.queue_messages(&[text("zhangsan", "first".into())]).await;
    let (stop, task) = spawn(sender);
    // The sender has delivered what was queued and completed it, and then finds nothing more:
    // from here on it waits for the notifier or its 30 s idle interval.
    until("the first message is delivered and completed", || async {
        s.fake.sent_to("zhangsan").len() == 1 && s.store.queue_stats().await.unwrap().outbox == 0
    })
    .await;
    s.queue_messages(&[text("zhangsan", "wake".into())]).await;
    notify.notify_one();
    let delivered = s
        .fake
        .wait_until(|f| f.sent_to("zhangsan").len() == 2, Duration::from_secs(2))
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(delivered, "woken at once, not after the idle interval");
}

/// An untrusted IP (60020) is fixed by an admin in the console: the queued message waits with
/// back-off and goes out once WeCom accepts the calls again; it is not dead-lettered.
#[tokio::test]
async fn a_configuration_error_is_retried_until_fixed() {
    let s = setup().await;
    s.fake.fail_next("/message/send", 60020, 2);
    s.queue_messages(&[text("zhangsan", "hello".into())]).await;
    let (stop, task) = spawn(s.sender(fast_pacing()));
    let done = s
        .fake
        .wait_until(|f| f.sent_to("zhangsan").len() == 1, Duration::from_secs(5))
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done);
    let codes: Vec<_> = s
        .fake
        .requests_to("/message/send")
        .iter()
        .map(|r| r.errcode)
        .collect();
    assert_eq!(codes, [60020, 60020, 0]);
    assert!(s.store.dead_letters(10).await.unwrap().is_empty());
}

/// A 500-item digest for one group robot: split under WeCom's 4096-byte markdown limit, the
/// parts go out paced (here 3 per second), in order, every item exactly once.
#[tokio::test]
async fn a_500_item_digest_goes_out_paced_in_order_and_complete() {
    use flowbot::domain::reminders::digest::{DigestItem, build};
    let s = setup().await;
    let items: Vec<DigestItem> = (0..500)
        .map(|i| DigestItem {
            unit: format!("单位{}", i % 5),
            line: format!("· 第{i:03}项 账号变更报备，责任人 张三，期限 2026-12-04"),
            mention: vec![format!("leader{}", i % 5)],
        })
        .collect();
    let parts = build(
        "【新媒体待办提醒】",
        |u| format!("**{u}**"),
        &items,
        4096 - 512,
    );
    assert!(parts.len() >= 5, "{} parts", parts.len());
    let messages: Vec<Outbound> = parts
        .iter()
        .map(|p| Outbound::Robot {
            robot: "robot-digest".into(),
            body: MessageBody::Markdown {
                content: p.content.clone(),
            },
            mentioned: p.mention.clone(),
        })
        .collect();
    s.queue_messages(&messages).await;
    let pacing = Pacing {
        robot_limit: 3,
        window: Duration::from_secs(1),
        ..fast_pacing()
    };
    let (stop, task) = spawn(s.sender(pacing));
    let n = parts.len();
    let done = s
        .fake
        .wait_until(
            move |f| f.robot_messages("robot-digest").len() >= n,
            Duration::from_secs(30),
        )
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done, "every part delivered");
    let received: Vec<String> = s
        .fake
        .robot_messages("robot-digest")
        .iter()
        .map(|b| b["markdown"]["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        received.iter().all(|c| c.len() <= 4096),
        "within WeCom's limit, mentions included"
    );
    let all = received.concat();
    let mut last = 0;
    for i in 0..500 {
        let needle = format!("第{i:03}项");
        assert_eq!(all.matches(&needle).count(), 1, "item {i} exactly once");
        if i % 5 == 0 {
            let at = all.find(&needle).unwrap();
            assert!(at >= last, "unit 0 keeps its order at item {i}");
            last = at;
        }
    }
    // Paced: the sender lets at most 3 go per second. Arrival times at the fake include each
    // request's time in transit, which a loaded machine stretches for one request and not the
    // next, so the window is checked with that much slack.
    let calls = s.fake.requests_to("/webhook/send");
    assert!(
        max_in_window(&calls, Duration::from_millis(700)) <= 3,
        "paced"
    );
}

/// Forwarded evidence is read from the evidence store when it is delivered, uploaded as the
/// app's media (an image as an image) and sent; the queued item names it by its key only.
#[tokio::test]
async fn evidence_is_uploaded_from_the_evidence_store_and_sent() {
    use flowbot::adapters::evidence::EvidenceStore;
    use flowbot::domain::evidence::{EvidenceRef, MediaKind};
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let evidence = EvidenceStore::open(None, dir.path()).unwrap();
    evidence
        .put("evidence/42.png", b"png-bytes".to_vec())
        .await
        .unwrap();
    let item = Outbound::Evidence {
        to_user: "liuyang".into(),
        evidence: EvidenceRef {
            key: "evidence/42.png".into(),
            kind: MediaKind::Image,
            name: "截图.png".into(),
            size: 9,
        },
    };
    assert!(!serde_json::to_string(&item).unwrap().contains("png-bytes"));
    s.queue_messages(&[item]).await;
    let (stop, task) = spawn(s.sender(fast_pacing()).with_evidence(evidence));
    let done = s
        .fake
        .wait_until(
            |f| !f.media_sent_to("liuyang").is_empty(),
            Duration::from_secs(5),
        )
        .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    assert!(done);
    let sent = s.fake.media_sent_to("liuyang");
    assert_eq!(
        sent,
        [(
            "image".to_owned(),
            "截图.png".to_owned(),
            b"png-bytes".to_vec()
        )]
    );
    let upload = &s.fake.requests_to("/media/upload")[0];
    assert_eq!(upload.query.get("type").map(String::as_str), Some("image"));
}
