//! Delivery that survives outages and is not doubled where WeCom can prevent it: the outbox
//! sender against the fake WeCom on both stores, time simulated by the ticks' clock. An outage
//! far longer than nine failures is waited out; the retry window of bot.toml `[delivery]` ends
//! in the dead letters, which are queued again; channels go out concurrently, each in order;
//! a renewed lease keeps a slow send to one sender; a dead sender's items are taken over after
//! its short lease, and a card or a text whose first attempt had an unknown outcome is
//! delivered once, while a legitimate repeat is delivered twice.

#[macro_use]
mod support;

use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::{Commit, CommitOutcome, NewEvent, OutboxItem, Store};
use flowbot::adapters::wecom::api::{ApiCredentials, MessageBody, Outbound, WeComClient};
use flowbot::base::clock::Clock;
use flowbot::runtime::outbox::{OutboxSender, Pacing};
use serde_json::json;
use support::FakeWeCom;
use support::bot::Backend;
use support::client::{AGENT, CORP, SECRET};
use support::store::{Harness, embedded_harness, redis_harness};
use support::wait::until;

on_both_stores!(
    an_outage_far_longer_than_nine_failures_is_waited_out,
    a_45009_penalty_holds_every_send,
    the_retry_window_of_bot_toml_ends_in_dead_letters_that_can_be_resent,
    channels_go_out_concurrently_each_in_order,
    a_renewed_lease_keeps_a_slow_send_to_one_sender,
    a_dead_senders_items_are_taken_over_and_delivered_once,
    an_answer_lost_in_a_timeout_is_not_delivered_twice,
    a_legitimate_repeat_is_delivered_twice,
);

const HOUR: i64 = 3_600_000;

struct Rig {
    fake: FakeWeCom,
    store: Arc<dyn Store>,
    _harness: Harness,
}

async fn rig(backend: Backend) -> Option<Rig> {
    let harness = match backend {
        Backend::Embedded => embedded_harness(),
        Backend::Redis => redis_harness().await?,
    };
    Some(Rig {
        fake: FakeWeCom::start(CORP, SECRET).await,
        store: harness.store.clone(),
        _harness: harness,
    })
}

impl Rig {
    fn client(&self, timeout: Duration) -> WeComClient {
        let credentials = ApiCredentials {
            corp_id: CORP.into(),
            agent_id: AGENT,
            secret: SECRET.into(),
        };
        WeComClient::new(
            &self.fake.base_url(),
            credentials,
            self.store.clone(),
            timeout,
            Clock::default(),
        )
    }

    fn sender(&self, pacing: Pacing) -> OutboxSender {
        OutboxSender::new(
            self.store.clone(),
            self.client(Duration::from_secs(5)),
            pacing,
            Clock::default(),
        )
    }

    /// Queues `messages` the way a worker does: with a completed event.
    async fn queue(&self, messages: &[Outbound]) {
        let now = now();
        let event = NewEvent {
            conversation: "test".into(),
            payload: "{}".into(),
        };
        let key = format!("k-{:x}", rand::random::<u64>());
        let ttl = Duration::from_secs(60);
        self.store
            .dedupe_and_enqueue(&key, ttl, &event, now)
            .await
            .unwrap();
        let claimed = self.store.claim_event(now, ttl).await.unwrap().unwrap();
        let outbox = messages
            .iter()
            .map(|m| OutboxItem {
                channel: m.channel(),
                payload: serde_json::to_string(m).unwrap(),
            })
            .collect();
        let commit = Commit {
            outbox,
            ..Default::default()
        };
        let outcome = self.store.complete_event(&claimed, &commit, now);
        assert_eq!(outcome.await.unwrap(), CommitOutcome::Committed);
    }

    async fn outbox(&self) -> u64 {
        self.store.queue_stats().await.unwrap().outbox
    }
}

fn now() -> i64 {
    Clock::default().now_ms()
}

fn text(to: &str, content: &str) -> Outbound {
    Outbound::Send {
        to_user: to.into(),
        body: MessageBody::Text {
            content: content.into(),
        },
    }
}

fn card(to: &str, task_id: &str) -> Outbound {
    Outbound::Send {
        to_user: to.into(),
        body: MessageBody::TemplateCard {
            card: json!({
                "card_type": "button_interaction",
                "main_title": {"title": "新媒体备案审批"},
                "task_id": task_id,
                "button_list": [{"text": "同意", "key": "approve:BA-1", "style": 1}],
            }),
        },
    }
}

/// Cards delivered to `user`.
fn cards_to(fake: &FakeWeCom, user: &str) -> usize {
    fake.sent_to(user)
        .iter()
        .filter(|m| m["msgtype"] == "template_card")
        .count()
}

fn texts_to(fake: &FakeWeCom, user: &str) -> Vec<String> {
    fake.sent_to(user)
        .iter()
        .filter_map(|m| m["text"]["content"].as_str().map(str::to_owned))
        .collect()
}

/// 45009 and "system busy" on every send for twenty simulated hours (80 failures, one every
/// quarter hour): the message waits, then goes out once WeCom takes it, exactly once.
async fn an_outage_far_longer_than_nine_failures_is_waited_out(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake.fail_next("/message/send", 45009, 40);
    r.fake.fail_next("/message/send", -1, 40);
    r.queue(&[text("zhangsan", "您的备案已通过。")]).await;
    let sender = r.sender(Pacing::default());
    let t0 = now();
    for step in 0..80 {
        let report = sender.tick(t0 + step * HOUR / 4).await;
        assert_eq!((report.claimed, report.retried), (1, 1), "step {step}");
    }
    assert!(r.store.dead_letters(10).await.unwrap().is_empty());
    assert!(texts_to(&r.fake, "zhangsan").is_empty());
    let report = sender.tick(t0 + 20 * HOUR).await;
    assert_eq!(report.delivered, 1);
    assert_eq!(texts_to(&r.fake, "zhangsan"), ["您的备案已通过。"]);
    assert_eq!(r.fake.requests_to("/message/send").len(), 81);
    assert_eq!(r.outbox().await, 0);
}

/// 45009 penalises the app: after one, the other members' messages wait too (deferred, no
/// call) until the back-off has passed; then all go out.
async fn a_45009_penalty_holds_every_send(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake.fail_next("/message/send", 45009, 1);
    let users = ["m1", "m2", "m3", "m4", "m5"];
    let messages: Vec<_> = users.iter().map(|u| text(u, "您好")).collect();
    r.queue(&messages).await;
    let sender = r.sender(Pacing {
        concurrency: 1,
        ..Pacing::default()
    });
    let t0 = now();
    let report = sender.tick(t0).await;
    assert_eq!((report.retried, report.deferred), (1, 4), "{report:?}");
    assert_eq!(r.fake.requests_to("/message/send").len(), 1);
    let report = sender.tick(t0 + 11 * 60_000).await;
    assert_eq!(report.delivered, 5, "{report:?}");
    assert_eq!(r.fake.requests_to("/message/send").len(), 6);
    assert!(users.iter().all(|u| texts_to(&r.fake, u).len() == 1));
}

/// bot.toml says two hours: a message still failing then is a dead letter (WeCom is not
/// called after it); `resend_dead_letters` (what `flowbot dead-letters --resend` runs) queues
/// it again and it goes out.
async fn the_retry_window_of_bot_toml_ends_in_dead_letters_that_can_be_resent(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    let dir = support::scripts::with_bot_toml("retry_hours = 24", "retry_hours = 2");
    let scripts = flowbot::base::scripts::Scripts::load(dir.path()).unwrap();
    let pacing = Pacing {
        retry_for: scripts.delivery.retry_for,
        ..Pacing::default()
    };
    // Nine failures: one every quarter hour, the ninth two hours after the first.
    r.fake.fail_next("/message/send", 45009, 9);
    r.queue(&[text("lisi", "请补充材料。")]).await;
    let sender = r.sender(pacing);
    let t0 = now();
    let mut dead_at = None;
    for step in 0..12 {
        let report = sender.tick(t0 + step * HOUR / 4).await;
        if report.dead_lettered == 1 {
            dead_at = Some(step);
            break;
        }
        assert_eq!(report.retried, 1, "step {step}");
    }
    assert_eq!(
        dead_at,
        Some(8),
        "dead-lettered at the first failure two hours on"
    );
    let dead = r.store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].last_error.contains("45009"),
        "{}",
        dead[0].last_error
    );
    assert_eq!(sender.tick(t0 + 10 * HOUR).await.claimed, 0);

    // WeCom is back; the operator sends the dead letters again.
    let queued = r
        .store
        .resend_dead_letters(&[dead[0].id], t0 + 10 * HOUR)
        .await
        .unwrap();
    assert_eq!(queued, [dead[0].id]);
    let report = sender.tick(t0 + 10 * HOUR).await;
    assert_eq!(report.delivered, 1);
    assert_eq!(texts_to(&r.fake, "lisi"), ["请补充材料。"]);
    assert!(r.store.dead_letters(10).await.unwrap().is_empty());
    assert_eq!(r.outbox().await, 0);
}

/// Twenty members, two messages each, every answer slow: several members are sent to at the
/// same time, never one member twice at once, and each member's two arrive in order.
async fn channels_go_out_concurrently_each_in_order(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake
        .slow_next("/message/send", Duration::from_millis(200), 40);
    let users: Vec<String> = (0..20).map(|i| format!("member{i:02}")).collect();
    let mut messages = Vec::new();
    for round in 0..2 {
        for user in &users {
            messages.push(text(user, &format!("{user}-{round}")));
        }
    }
    r.queue(&messages).await;
    let (stop, task) = spawn(r.sender(Pacing::default()));
    until("all forty are delivered", || async {
        users.iter().all(|u| texts_to(&r.fake, u).len() == 2)
    })
    .await;
    stop.send(()).unwrap();
    task.await.unwrap();
    for user in &users {
        assert_eq!(
            texts_to(&r.fake, user),
            [format!("{user}-0"), format!("{user}-1")]
        );
    }
    assert!(
        r.fake.max_in_flight() > 1,
        "members are sent to concurrently"
    );
    assert!(r.fake.max_in_flight() <= Pacing::default().concurrency);
    assert_eq!(
        r.fake.overlapping_calls(),
        0,
        "one call per member at a time"
    );
    assert_eq!(r.fake.requests_to("/message/send").len(), 40);
}

/// A send slower than the lease: the lease is renewed while it runs, so another sender
/// ticking meanwhile never takes the item; WeCom gets it once.
async fn a_renewed_lease_keeps_a_slow_send_to_one_sender(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake.slow_next("/message/send", Duration::from_secs(3), 1);
    r.queue(&[text("zhangsan", "slow")]).await;
    let lease = Duration::from_millis(400);
    let first = r.sender(Pacing::default()).with_batch(8, lease);
    let second = r.sender(Pacing::default()).with_batch(8, lease);
    let working = tokio::spawn(async move { first.tick(now()).await });
    until("the slow send reached WeCom", || async {
        r.fake.requests_to("/message/send").len() == 1
    })
    .await;
    let mut taken = 0;
    while !working.is_finished() {
        taken += second.tick(now()).await.claimed;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = working.await.unwrap();
    assert_eq!((report.delivered, taken), (1, 0));
    assert_eq!(r.fake.requests_to("/message/send").len(), 1);
    assert_eq!(r.outbox().await, 0);
}

/// A sender dies while its card and text are at WeCom (delivered, answer never read): another
/// takes them over once the 20 s lease ran out, resends the text with WeCom's duplicate check
/// (dropped) and the card with its task id (42014): each delivered once, nothing dead.
async fn a_dead_senders_items_are_taken_over_and_delivered_once(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake
        .slow_next("/message/send", Duration::from_secs(3600), 2);
    r.queue(&[
        card("liuyang", "BA-2026-0001_r1_s0_abc"),
        text("zhangsan", "已提交，请等待审批。"),
    ])
    .await;
    let dying = r.sender(Pacing::default());
    let t0 = now();
    let task = tokio::spawn(async move { dying.tick(t0).await });
    until("both reached WeCom", || async {
        r.fake.requests_to("/message/send").len() == 2
    })
    .await;
    task.abort();
    let _ = task.await;
    let taker = r.sender(Pacing::default());
    assert_eq!(taker.tick(t0 + 5_000).await.claimed, 0, "leased");
    let report = taker.tick(t0 + 21_000).await;
    assert_eq!((report.claimed, report.delivered), (2, 2));
    assert_eq!(cards_to(&r.fake, "liuyang"), 1);
    assert_eq!(texts_to(&r.fake, "zhangsan"), ["已提交，请等待审批。"]);
    let calls = r.fake.requests_to("/message/send");
    assert_eq!(calls.len(), 4);
    let card_resend = calls
        .iter()
        .rfind(|c| c.body["touser"] == "liuyang")
        .unwrap();
    assert_eq!(card_resend.errcode, 42014);
    let text_resend = calls
        .iter()
        .rfind(|c| c.body["touser"] == "zhangsan")
        .unwrap();
    assert_eq!(text_resend.body["enable_duplicate_check"], 1);
    assert!(
        text_resend.body["duplicate_check_interval"]
            .as_u64()
            .unwrap()
            >= 60
    );
    assert_eq!(r.outbox().await, 0);
    assert!(r.store.dead_letters(10).await.unwrap().is_empty());
}

/// WeCom delivers but the answer comes after the client's timeout: the retry of a card is
/// answered 42014 and counts as delivered; the retry of a text asks for the duplicate check
/// and is not delivered again.
async fn an_answer_lost_in_a_timeout_is_not_delivered_twice(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    r.fake.slow_next("/message/send", Duration::from_secs(3), 2);
    r.queue(&[
        card("liuyang", "BA-2026-0002_r1_s0_def"),
        text("zhangsan", "审批已通过。"),
    ])
    .await;
    let pacing = Pacing {
        base_backoff: Duration::from_millis(10),
        ..Pacing::default()
    };
    let sender = OutboxSender::new(
        r.store.clone(),
        r.client(Duration::from_millis(500)),
        pacing,
        Clock::default(),
    );
    let t0 = now();
    let report = sender.tick(t0).await;
    assert_eq!(report.retried, 2, "{report:?}");
    let report = sender.tick(t0 + 60_000).await;
    assert_eq!(report.delivered, 2, "{report:?}");
    assert_eq!(cards_to(&r.fake, "liuyang"), 1);
    assert_eq!(texts_to(&r.fake, "zhangsan"), ["审批已通过。"]);
    let calls = r.fake.requests_to("/message/send");
    assert_eq!(calls.len(), 4);
    assert_eq!(
        calls[2].body["enable_duplicate_check"]
            .as_i64()
            .unwrap_or(0)
            + calls[3].body["enable_duplicate_check"]
                .as_i64()
                .unwrap_or(0),
        1,
        "only the text asks"
    );
    assert_eq!(r.outbox().await, 0);
}

/// The same prompt asked twice (two items, no failure): both are delivered, without the
/// duplicate check that would swallow the second.
async fn a_legitimate_repeat_is_delivered_twice(backend: Backend) {
    let Some(r) = rig(backend).await else { return };
    let prompt = "请回复“确认”提交，或回复“修改”更正。";
    r.queue(&[text("zhangsan", prompt)]).await;
    let sender = r.sender(Pacing::default());
    assert_eq!(sender.tick(now()).await.delivered, 1);
    r.queue(&[text("zhangsan", prompt)]).await;
    assert_eq!(sender.tick(now()).await.delivered, 1);
    assert_eq!(texts_to(&r.fake, "zhangsan"), [prompt, prompt]);
    assert!(
        r.fake
            .requests_to("/message/send")
            .iter()
            .all(|c| c.body.get("enable_duplicate_check").is_none())
    );
}

/// Runs the sender until the returned sender fires.
fn spawn(
    sender: OutboxSender,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(sender.run_until_stopped(async {
        let _ = stopped.await;
    }));
    (stop, task)
}
