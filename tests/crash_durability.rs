//! Kill -9 the bot process in the middle of a burst of callbacks: every callback it
//! acknowledged with 200 is answered after a restart, exactly once. On both stores.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::redis::RedisStore;
use flowbot::adapters::store::{QueueStats, Store};
use flowbot::adapters::wecom::crypto::{AesKey, CallbackCrypto};
use support::bot::{CORP_ID, SECRET, delete_redis_keys, redis_url};
use support::fake_wecom::FakeWeCom;
use support::wait::until;

const TOKEN: &str = "crashtesttoken";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Bot {
    child: Child,
    url: String,
}

fn start_bot(
    data: &std::path::Path,
    api_base: &str,
    workers: u32,
    redis_prefix: Option<&str>,
) -> Bot {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "error")
        .env("FLOWBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("FLOWBOT_DATA", data)
        .env(
            "FLOWBOT_SCRIPTS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"),
        )
        .env("FLOWBOT_WORKERS", workers.to_string())
        .env("FLOWBOT_DIRECTORY", "static")
        .env("WECOM_CORP_ID", CORP_ID)
        .env("WECOM_AGENT_ID", "1000002")
        .env("WECOM_SECRET", SECRET)
        .env("WECOM_TOKEN", TOKEN)
        .env("WECOM_AES_KEY", AES_KEY)
        .env("WECOM_API_BASE", api_base)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(prefix) = redis_prefix {
        command
            .env("REDIS_URL", redis_url())
            .env("FLOWBOT_REDIS_PREFIX", prefix);
    }
    Bot {
        child: command.spawn().expect("the flowbot binary starts"),
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(bot: &Bot) {
    let http = reqwest::Client::new();
    let ready = format!("{}/readyz", bot.url);
    until("the bot is ready", || async {
        let answer = http.get(&ready).send().await;
        answer.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// The queue of the stopped bot's store.
async fn queue_stats(data: &std::path::Path, redis_prefix: Option<&str>) -> QueueStats {
    let stats = match redis_prefix {
        Some(prefix) => {
            let store = RedisStore::connect(&redis_url(), prefix).await.unwrap();
            store.queue_stats().await
        }
        None => EmbeddedStore::open(data).unwrap().queue_stats().await,
    };
    stats.expect("queue stats")
}

/// How many messages WeCom accepted.
fn delivered(fake: &FakeWeCom) -> usize {
    fake.requests_to("/message/send")
        .iter()
        .filter(|r| r.errcode == 0)
        .count()
}

async fn acknowledged_callbacks_survive_a_kill(redis_prefix: Option<String>) {
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;
    let data = tempfile::tempdir().unwrap();
    let key = AesKey::from_encoding_aes_key(AES_KEY).unwrap();
    let crypto = CallbackCrypto::new(TOKEN, key, CORP_ID);

    // First life: accepts callbacks only (no workers), killed mid-burst.
    let mut bot = start_bot(data.path(), &fake.base_url(), 0, redis_prefix.as_deref());
    wait_ready(&bot).await;
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let http = reqwest::Client::new();
    let mut senders = tokio::task::JoinSet::new();
    // The bot runs in another process: stamp callbacks with the wall clock, as WeCom does.
    let clock = flowbot::base::clock::Clock::default();
    for task in 0..16u64 {
        let (http, url, crypto, acked, clock) = (
            http.clone(),
            bot.url.clone(),
            crypto.clone(),
            acked.clone(),
            clock.clone(),
        );
        senders.spawn(async move {
            for i in 0.. {
                let n = task * 1_000_000 + i;
                let user = format!("u{n}");
                let now = clock.now_ms() / 1000;
                let (query, body) =
                    flowbot::runtime::loadgen::signed_callback(&crypto, &user, n, "你好", now);
                match http
                    .post(format!("{url}/wecom/callback?{query}"))
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().unwrap().insert(user);
                    }
                    Ok(_) => {}
                    Err(_) => return, // the bot is gone
                }
            }
        });
    }
    until("the burst got going", || {
        std::future::ready(acked.lock().unwrap().len() > 20)
    })
    .await;
    bot.child.kill().expect("kill -9");
    bot.child.wait().unwrap();
    while senders.join_next().await.is_some() {}
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "the burst got going before the kill ({} acked)",
        acked.len()
    );

    // What the killed bot stored: the acknowledged callbacks and maybe some whose answer the
    // kill cut off. Each is one user's one message.
    let stored = queue_stats(data.path(), redis_prefix.as_deref())
        .await
        .events;
    assert!(
        stored >= acked.len() as u64,
        "{stored} stored, {} acked",
        acked.len()
    );

    // Second life on the same store, with workers: every stored callback is answered.
    let mut bot = start_bot(data.path(), &fake.base_url(), 2, redis_prefix.as_deref());
    wait_ready(&bot).await;
    let all_answered = fake
        .wait_until(
            move |f| delivered(f) >= stored as usize,
            Duration::from_secs(60),
        )
        .await;
    // A graceful stop: the event in hand and the outbox's tick finish, then the process exits.
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    until("the bot has exited", || {
        std::future::ready(bot.child.try_wait().unwrap().is_some())
    })
    .await;
    // Everything it was given is handled and delivered: no reply can still come.
    let stats = queue_stats(data.path(), redis_prefix.as_deref()).await;
    if let Some(prefix) = &redis_prefix {
        delete_redis_keys(prefix);
    }
    assert_eq!((stats.events, stats.outbox), (0, 0), "the bot had settled");
    let missing: Vec<_> = acked
        .iter()
        .filter(|u| fake.sent_to(u).is_empty())
        .take(5)
        .collect();
    assert!(
        all_answered,
        "acknowledged callbacks lost, e.g. {missing:?}"
    );
    let mut replies: BTreeMap<String, usize> = BTreeMap::new();
    for r in fake.requests_to("/message/send") {
        if r.errcode == 0 {
            *replies
                .entry(r.body["touser"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
    }
    let twice: Vec<_> = replies.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_keeps_every_acknowledged_callback_across_kill_9() {
    acknowledged_callbacks_survive_a_kill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_keeps_every_acknowledged_callback_across_kill_9_of_the_bot() {
    let prefix = format!("flowbot-crash-{}", std::process::id());
    let probe = redis::Client::open(redis_url()).and_then(|c| c.get_connection());
    if probe.is_err() {
        assert!(
            std::env::var_os("REDIS_REQUIRED").is_none(),
            "REDIS_REQUIRED but Redis does not answer"
        );
        eprintln!("SKIPPED: Redis at {} does not answer", redis_url());
        return;
    }
    acknowledged_callbacks_survive_a_kill(Some(prefix)).await;
}
