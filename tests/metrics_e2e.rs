//! `/metrics` scraped before and after callbacks: an accepted one, its duplicate and a forged
//! one move the callback counters by one each, the event is counted as handled and its reply as
//! sent; with no worker, the queue depth and the oldest event's age show the waiting event, and
//! an overdue timer is counted. The binary started with `FLOWBOT_LOG_FORMAT=json` writes JSON
//! lines, and each line of an event's handling (the handler's own too) carries its event id.
//! Both stores.
//!
//! The recorder is one per process: the scenarios take turns (`TURN`) so that each sees only
//! its own callbacks between two scrapes.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use flowbot::adapters::store::redis::RedisStore;
use flowbot::adapters::store::{Store, Timer};
use flowbot::runtime::loadgen::{signed_callback, signed_xml};
use support::bot::{Backend, CORP_ID, SECRET, TestBot, delete_redis_keys, redis_url, spawn_bot};
use support::fake_wecom::FakeWeCom;
use support::flows::register;
use support::wait::until;

on_both_stores!(
    callbacks_move_the_counters,
    a_waiting_event_shows_in_the_queue_gauges,
    a_filed_and_approved_registration_is_counted,
    json_log_lines_carry_the_event_id,
);

/// The dashboard asks only for metrics the bot serves.
#[test]
fn the_dashboard_names_only_served_metrics() {
    use flowbot::runtime::metrics::*;
    let served = [
        CALLBACKS,
        CALLBACKS_REFUSED,
        CALLBACK_SECONDS,
        EVENTS,
        EVENT_SECONDS,
        QUEUE_EVENTS,
        QUEUE_OLDEST,
        OUTBOX_BACKLOG,
        SENDS,
        DEAD_LETTERS,
        DEAD_LETTERED,
        TIMERS_PENDING,
        TIMERS_OVERDUE,
        TOKEN_REFRESHES,
        CASES_FILED,
        CASES_DECIDED,
        OVERDUE,
    ];
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/flowbot.json"
    ))
    .unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names = regex::Regex::new(r"flowbot_[a-z_]+").unwrap();
    let mut asked = std::collections::BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            for name in names.find_iter(target["expr"].as_str().unwrap()) {
                let name = name.as_str();
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(name);
                assert!(served.contains(&base), "{name} is not served");
                asked.insert(base.to_owned());
            }
        }
    }
    assert_eq!(asked.len(), served.len(), "every metric has a panel");
}

const WAIT: Duration = Duration::from_secs(20);

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The samples of one scrape: `name{label="value",…}` → value.
struct Scrape(Vec<(String, BTreeMap<String, String>, f64)>);

impl Scrape {
    async fn of(bot: &TestBot) -> Scrape {
        let (status, text) = bot.get("/metrics").await;
        assert_eq!(status, 200, "{text}");
        Scrape(text.lines().filter_map(parse_line).collect())
    }

    /// The value of the series `name` with exactly `labels` (0 when absent).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.0
            .iter()
            .find(|(n, l, _)| n == name && *l == want)
            .map_or(0.0, |(_, _, v)| *v)
    }

    /// Whether the text has a series named `name` at all.
    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _, _)| n == name)
    }
}

fn parse_line(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => {
            let labels = rest
                .trim_end_matches('}')
                .split(',')
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k.to_owned(), v.trim_matches('"').to_owned()))
                })
                .collect();
            (name.to_owned(), labels)
        }
        None => (series.to_owned(), BTreeMap::new()),
    };
    Some((name, labels, value))
}

/// How much each series moved between two scrapes.
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

async fn callbacks_move_the_counters(backend: Backend) {
    let _turn = TURN.lock().await;
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let before = Scrape::of(&bot).await;

    let callback = bot.text("zhangsan", 7_100_000_001, "你好");
    assert_eq!(bot.post(&callback).await.0, 200, "accepted");
    assert_eq!(
        bot.post(&callback).await.0,
        200,
        "a duplicate is answered 200"
    );
    let forged = bot.text("zhangsan", 7_100_000_002, "你好");
    let query = forged
        .query
        .replacen("msg_signature=", "msg_signature=0", 1);
    assert_eq!(bot.post_raw(&query, forged.body).await.0, 403, "forged");
    // The accepted one is handled and answered.
    assert!(
        !bot.wait_for_messages("zhangsan", 1, WAIT).await.is_empty(),
        "zhangsan is answered"
    );
    bot.settle(WAIT).await;

    let after = Scrape::of(&bot).await;
    let callbacks = "flowbot_callbacks_total";
    assert_eq!(
        moved(&before, &after, callbacks, &[("outcome", "accepted")]),
        1.0
    );
    assert_eq!(
        moved(&before, &after, callbacks, &[("outcome", "duplicate")]),
        1.0
    );
    assert_eq!(
        moved(&before, &after, callbacks, &[("outcome", "refused")]),
        1.0
    );
    let refused = "flowbot_callbacks_refused_total";
    assert_eq!(
        moved(&before, &after, refused, &[("reason", "bad_signature")]),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "flowbot_callback_duration_seconds_count",
            &[]
        ),
        3.0,
        "every POST is timed"
    );
    let handled = [("kind", "text"), ("result", "ok")];
    assert_eq!(
        moved(&before, &after, "flowbot_events_handled_total", &handled),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "flowbot_event_duration_seconds_count",
            &[("kind", "text")]
        ),
        1.0
    );
    let sent = moved(
        &before,
        &after,
        "flowbot_sends_total",
        &[("result", "ok"), ("errcode", "0")],
    );
    let answered = bot.fake.sent_to("zhangsan").len() as f64;
    assert_eq!(sent, answered, "one send counted per message delivered");
    assert!(
        after.value("flowbot_token_refreshes_total", &[("result", "ok")]) >= 1.0,
        "the first send fetched a token"
    );
    // Sampled from this bot's store at the scrape: nothing left.
    assert_eq!(after.value("flowbot_queue_events", &[]), 0.0);
    assert_eq!(after.value("flowbot_outbox_backlog", &[]), 0.0);
    assert_eq!(
        after.value("flowbot_queue_oldest_event_age_seconds", &[]),
        0.0
    );
    for gauge in ["flowbot_dead_letters", "flowbot_timers_pending"] {
        assert!(after.has(gauge), "{gauge} is served");
    }
    bot.stop().await;
}

async fn a_filed_and_approved_registration_is_counted(backend: Backend) {
    let _turn = TURN.lock().await;
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let before = Scrape::of(&bot).await;
    register(&bot).await;
    bot.settle(WAIT).await;
    let after = Scrape::of(&bot).await;
    let flow = [("flow", "registration")];
    assert_eq!(
        moved(&before, &after, "flowbot_cases_filed_total", &flow),
        1.0
    );
    let approved = [("flow", "registration"), ("status", "approved")];
    assert_eq!(
        moved(&before, &after, "flowbot_cases_decided_total", &approved),
        1.0
    );
    assert_eq!(
        moved(
            &before,
            &after,
            "flowbot_events_handled_total",
            &[("kind", "card_event"), ("result", "ok")]
        ),
        2.0,
        "two approvals"
    );
    bot.stop().await;
}

async fn a_waiting_event_shows_in_the_queue_gauges(backend: Backend) {
    let _turn = TURN.lock().await;
    let Some(bot) = spawn_bot(backend, |s| s.workers = 0).await else {
        return;
    };
    let callback = bot.text("zhangsan", 7_100_000_003, "你好");
    assert_eq!(bot.post(&callback).await.0, 200);
    // Nobody handles it: 90 s later it is still waiting, 90 s old.
    bot.clock.set_offset_ms(bot.clock.offset_ms() + 90_000);
    let scrape = Scrape::of(&bot).await;
    assert_eq!(scrape.value("flowbot_queue_events", &[]), 1.0);
    let age = scrape.value("flowbot_queue_oldest_event_age_seconds", &[]);
    assert!((90.0..120.0).contains(&age), "oldest event age {age}");

    // A timer due an hour from now is pending; asked two hours ahead it is overdue.
    let now = bot.clock.now_ms();
    let timer = Timer {
        id: "metrics-test".into(),
        due_ms: now + 3_600_000,
        conversation: "metrics:test".into(),
        payload: "{}".into(),
    };
    bot.store.schedule_timer(&timer).await.unwrap();
    let scrape = Scrape::of(&bot).await;
    assert_eq!(scrape.value("flowbot_timers_pending", &[]), 1.0);
    assert_eq!(scrape.value("flowbot_timers_overdue", &[]), 0.0);
    let later = bot.store.backlog(now + 7_200_000).await.unwrap();
    assert_eq!(later.overdue_timers, 1);
    assert!(later.oldest_event_ms.is_some_and(|at| at <= now - 90_000));
    bot.stop().await;
}

/// The bot binary with JSON logs; its stdout lines are collected as they come.
struct JsonBot {
    child: std::process::Child,
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    redis_prefix: Option<String>,
}

impl Drop for JsonBot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(prefix) = &self.redis_prefix {
            delete_redis_keys(prefix);
        }
    }
}

/// A Redis key prefix of this test, or `None` (with a loud message) when Redis does not answer
/// and `REDIS_REQUIRED` is unset.
async fn redis_prefix() -> Option<String> {
    let prefix = format!("flowbot-test-json-{}", std::process::id());
    match RedisStore::connect(&redis_url(), &prefix).await {
        Ok(store) if store.ping().await.is_ok() => Some(prefix),
        _ if std::env::var_os("REDIS_REQUIRED").is_some() => {
            panic!(
                "REDIS_REQUIRED is set but Redis at {} does not answer",
                redis_url()
            )
        }
        _ => None,
    }
}

fn start_json_bot(data: &std::path::Path, api_base: &str, redis_prefix: Option<String>) -> JsonBot {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = support::process::serve_command(port, api_base);
    command
        .env("FLOWBOT_LOG_FORMAT", "json")
        .env("RUST_LOG", "flowbot=debug")
        .env("FLOWBOT_DATA", data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(prefix) = &redis_prefix {
        command
            .env("REDIS_URL", redis_url())
            .env("FLOWBOT_REDIS_PREFIX", prefix);
    }
    let mut child = command.spawn().expect("the flowbot binary starts");
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            collected.lock().unwrap().push(line);
        }
    });
    JsonBot {
        child,
        url: format!("http://127.0.0.1:{port}"),
        lines,
        redis_prefix,
    }
}

/// The parsed lines whose message is `message`.
fn lines_saying(lines: &[serde_json::Value], message: &str) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter(|l| l["fields"]["message"] == message)
        .cloned()
        .collect()
}

async fn json_log_lines_carry_the_event_id(backend: Backend) {
    let prefix = match backend {
        Backend::Embedded => None,
        Backend::Redis => match redis_prefix().await {
            Some(prefix) => Some(prefix),
            None => {
                eprintln!("SKIPPED: Redis at {} does not answer", redis_url());
                return;
            }
        },
    };
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;
    let data = tempfile::tempdir().unwrap();
    let bot = start_json_bot(data.path(), &fake.base_url(), prefix);
    let http = reqwest::Client::new();
    until("the bot is ready", || async {
        let answer = http.get(format!("{}/readyz", bot.url)).send().await;
        answer.is_ok_and(|r| r.status().is_success())
    })
    .await;
    let crypto = support::process::crypto();
    // The bot runs in another process: stamp callbacks with the wall clock, as WeCom does.
    let now = flowbot::base::clock::Clock::default().now_ms() / 1000;
    // A text (answered), then a tap on a card the bot never sent: the dispatcher's own warning.
    let text = signed_callback(&crypto, "zhangsan", 7_200_000_001, "你好", now);
    let tap_xml = format!(
        "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>\
<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>\
<EventKey><![CDATA[nosuchaction:x]]></EventKey><TaskId><![CDATA[t1]]></TaskId>\
<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[rc]]></ResponseCode>\
<AgentID>1000002</AgentID></xml>"
    );
    let tap = signed_xml(&crypto, &tap_xml, now, "777");
    for (query, body) in [text, tap] {
        let answer = http
            .post(format!("{}/wecom/callback?{query}", bot.url))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let parsed = || -> Vec<serde_json::Value> {
        bot.lines
            .lock()
            .unwrap()
            .iter()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    };
    until("both events are handled", || {
        std::future::ready(lines_saying(&parsed(), "event handled").len() >= 2)
    })
    .await;
    let lines = parsed();
    assert!(lines.len() > 3, "{lines:#?}");
    let handled = lines_saying(&lines, "event handled");
    let ids: Vec<u64> = handled
        .iter()
        .map(|l| {
            assert_eq!(l["span"]["name"], "event", "{l}");
            l["span"]["event_id"]
                .as_u64()
                .unwrap_or_else(|| panic!("no event id: {l}"))
        })
        .collect();
    assert_ne!(ids[0], ids[1], "each event its own id");
    let refused = lines_saying(&lines, "card tap with an unknown key refused");
    assert_eq!(refused.len(), 1, "{lines:#?}");
    assert_eq!(
        refused[0]["span"]["event_id"].as_u64(),
        Some(ids[1]),
        "the handler's line carries the event's id: {}",
        refused[0]
    );
    // Lines outside any event's handling carry none.
    let listening: Vec<_> = lines
        .iter()
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("flowbot listening on"))
        })
        .collect();
    assert_eq!(listening.len(), 1, "{lines:#?}");
    assert!(listening[0].get("span").is_none(), "{}", listening[0]);
}
