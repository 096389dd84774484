//! Real processes for the fault tests: the built `flowbot` binary started with env settings
//! (killed with `kill -9` or stopped with SIGTERM), a throw-away `redis-server` with an AOF in a
//! temp dir, a burst of signed callbacks from many distinct users, and the figures a kill test
//! prints (messages, lost, duplicated), counted from what the fake WeCom delivered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::redis::RedisStore;
use flowbot::adapters::store::{QueueStats, Store};
use flowbot::adapters::wecom::crypto::{AesKey, CallbackCrypto};

use super::bot::{CORP_ID, SECRET, redis_url};
use super::fake_wecom::{FakeWeCom, Recorded};
use super::wait::until;

pub const TOKEN: &str = "crashtesttoken";
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// The callback crypto of a bot started by [`start_bot`].
pub fn crypto() -> CallbackCrypto {
    let key = AesKey::from_encoding_aes_key(AES_KEY).expect("a valid key");
    CallbackCrypto::new(TOKEN, key, CORP_ID)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Where a bot process keeps its state.
#[derive(Debug, Clone)]
pub enum StoreAt {
    /// The embedded store in this folder.
    Embedded(PathBuf),
    /// Redis at this URL under this key prefix (`data`: the bot's folder for the rest).
    Redis {
        url: String,
        prefix: String,
        data: PathBuf,
    },
}

impl StoreAt {
    /// The store the shared Redis (`REDIS_URL`) would give a test under `prefix`, or `None`
    /// (with a loud message) when it does not answer and `REDIS_REQUIRED` is unset.
    pub fn shared_redis(prefix: &str, data: &Path) -> Option<StoreAt> {
        if !super::store::redis_answers(&redis_url()) {
            assert!(
                std::env::var_os("REDIS_REQUIRED").is_none(),
                "REDIS_REQUIRED but Redis at {} does not answer",
                redis_url()
            );
            eprintln!("SKIPPED: Redis at {} does not answer", redis_url());
            return None;
        }
        Some(StoreAt::Redis {
            url: redis_url(),
            prefix: prefix.to_owned(),
            data: data.to_owned(),
        })
    }

    /// The queue of a stopped (or running) bot's store.
    pub async fn queue_stats(&self) -> QueueStats {
        let stats = match self {
            StoreAt::Redis { url, prefix, .. } => {
                let store = RedisStore::connect(url, prefix).await.expect("Redis");
                store.queue_stats().await
            }
            StoreAt::Embedded(data) => {
                EmbeddedStore::open(data)
                    .expect("store")
                    .queue_stats()
                    .await
            }
        };
        stats.expect("queue stats")
    }

    /// Waits (up to `timeout`) until a running bot's Redis store has no event and no outbox item
    /// left; `true` at once for the embedded store, which the running bot holds locked.
    pub async fn wait_settled(&self, timeout: Duration) -> bool {
        let StoreAt::Redis { url, prefix, .. } = self else {
            return true;
        };
        let store = RedisStore::connect(url, prefix).await.expect("Redis");
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let stats = store.queue_stats().await.expect("queue stats");
            if (stats.events, stats.outbox) == (0, 0) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Deletes the keys under the prefix of a Redis store (nothing for the embedded one).
    pub fn clean_up(&self) {
        if let StoreAt::Redis { url, prefix, .. } = self {
            delete_keys(url, prefix);
        }
    }
}

/// Deletes the keys under `prefix` at `url` (never FLUSHALL).
pub fn delete_keys(url: &str, prefix: &str) {
    super::store::delete_keys(url, prefix);
}

/// A running `flowbot serve`.
pub struct BotProcess {
    pub child: Child,
    pub url: String,
}

/// `flowbot serve` of the built binary on `port` with the shipped bot-scripts, the static
/// directory and the test credentials, against the fake WeCom at `api_base`; nothing else from
/// this process's environment.
pub fn serve_command(port: u16, api_base: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FLOWBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "FLOWBOT_SCRIPTS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts"),
        )
        .env("FLOWBOT_DIRECTORY", "static")
        .env("WECOM_CORP_ID", CORP_ID)
        .env("WECOM_AGENT_ID", "1000002")
        .env("WECOM_SECRET", SECRET)
        .env("WECOM_TOKEN", TOKEN)
        .env("WECOM_AES_KEY", AES_KEY)
        .env("WECOM_API_BASE", api_base);
    command
}

/// Starts the built binary on a free port with `workers` event workers, against the fake WeCom
/// at `api_base` and the store `store`.
pub fn start_bot(store: &StoreAt, api_base: &str, workers: u32) -> BotProcess {
    let port = free_port();
    let mut command = serve_command(port, api_base);
    command
        .env("RUST_LOG", "error")
        .env("FLOWBOT_WORKERS", workers.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match store {
        StoreAt::Embedded(data) => {
            command.env("FLOWBOT_DATA", data);
        }
        StoreAt::Redis { url, prefix, data } => {
            command
                .env("FLOWBOT_DATA", data)
                .env("REDIS_URL", url)
                .env("FLOWBOT_REDIS_PREFIX", prefix);
        }
    }
    BotProcess {
        child: command.spawn().expect("the flowbot binary starts"),
        url: format!("http://127.0.0.1:{port}"),
    }
}

impl BotProcess {
    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let ready = format!("{}/readyz", self.url);
        until("the bot is ready", || async {
            let answer = http.get(&ready).send().await;
            answer.is_ok_and(|r| r.status().is_success())
        })
        .await;
    }

    /// `kill -9`: the process ends at once, whatever it was doing.
    pub fn kill9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("the killed bot is reaped");
    }

    /// A graceful stop (SIGTERM): the event in hand and the outbox's tick finish, then the
    /// process exits.
    pub async fn terminate(&mut self) {
        let term = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        until("the bot has exited", || {
            std::future::ready(self.child.try_wait().expect("try_wait").is_some())
        })
        .await;
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A throw-away `redis-server` on a free port, persisting with `appendonly yes` and
/// `appendfsync always` in a temp dir; never the shared Redis. `always` because the claim under
/// test is "acknowledged means kept": with `everysec` Redis itself may lose up to about two
/// seconds of acknowledged writes when killed while a slow fsync is pending (README, "Several replicas").
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts one, or `None` (with a loud message) when `redis-server` is not installed and
    /// `REDIS_REQUIRED` is unset.
    pub async fn start() -> Option<RedisServer> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                std::env::var_os("REDIS_REQUIRED").is_none(),
                "REDIS_REQUIRED but redis-server is not installed"
            );
            eprintln!("SKIPPED: redis-server is not installed");
            return None;
        }
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
        };
        server.restart().await;
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and folder; returns once it answers PING.
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", "", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let url = self.url();
        until("the throw-away Redis answers", || {
            let answers = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok();
            std::future::ready(answers)
        })
        .await;
    }

    /// `kill -9` of the server.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9 redis-server");
            child.wait().expect("redis-server is reaped");
        }
    }

    /// The folder of its AOF.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What a burst of callbacks got: the users whose callback was acknowledged with 200, and the
/// non-200 answers (status, how long the answer took).
#[derive(Default)]
pub struct BurstLog {
    pub acked: BTreeSet<String>,
    pub refused: Vec<(u16, Duration)>,
    /// Requests that got no answer at all (a bot that is gone, or the timeout).
    pub unanswered: u64,
}

/// Callbacks from distinct users (`u<n>`, one message each) posted by `tasks` concurrent
/// senders to `urls` (round robin; a bot that does not answer is passed over for the next, as
/// a load balancer does), until stopped, `limit` callbacks were sent, or no bot answers.
pub struct Burst {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    limit: u64,
    pub log: Arc<Mutex<BurstLog>>,
    tasks: tokio::task::JoinSet<()>,
}

/// How long a callback may take before the burst counts it unanswered: generous, so that a
/// bot answering "quickly" is told from one that hangs, without a timed assertion.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(15);

impl Burst {
    pub fn start(urls: Vec<String>, tasks: u64, limit: u64) -> Burst {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let log = Arc::new(Mutex::new(BurstLog::default()));
        let http = reqwest::Client::builder()
            .timeout(CALLBACK_TIMEOUT)
            .build()
            .expect("http client");
        // The bot runs in another process: stamp callbacks with the wall clock, as WeCom does.
        let clock = flowbot::base::clock::Clock::default();
        let crypto = crypto();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let (http, urls, crypto, clock) =
                (http.clone(), urls.clone(), crypto.clone(), clock.clone());
            let (stop, sent, log) = (stop.clone(), sent.clone(), log.clone());
            set.spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = sent.fetch_add(1, Ordering::SeqCst);
                    if n >= limit {
                        return;
                    }
                    let user = format!("u{n}");
                    let now = clock.now_ms() / 1000;
                    let (query, body) =
                        flowbot::runtime::loadgen::signed_callback(&crypto, &user, n, "你好", now);
                    let mut answered = false;
                    for k in 0..urls.len() {
                        let url = &urls[(n as usize + k) % urls.len()];
                        let started = Instant::now();
                        let answer = http
                            .post(format!("{url}/wecom/callback?{query}"))
                            .body(body.clone())
                            .send()
                            .await;
                        let mut log = log.lock().unwrap();
                        match answer {
                            Ok(r) if r.status().is_success() => {
                                log.acked.insert(user.clone());
                            }
                            Ok(r) => log.refused.push((r.status().as_u16(), started.elapsed())),
                            Err(_) => {
                                log.unanswered += 1;
                                continue;
                            }
                        }
                        answered = true;
                        break;
                    }
                    if !answered {
                        return; // no bot answers: the burst is over
                    }
                }
            });
        }
        Burst {
            stop,
            sent,
            limit,
            log,
            tasks: set,
        }
    }

    pub fn acked(&self) -> usize {
        self.log.lock().unwrap().acked.len()
    }

    pub fn refused(&self) -> usize {
        self.log.lock().unwrap().refused.len()
    }

    /// Whether the burst has callbacks left to send (it is not over).
    pub fn running(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && self.sent() < self.limit
    }

    /// Callbacks sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Stops the senders and waits for them.
    pub async fn finish(mut self) -> BurstLog {
        self.stop.store(true, Ordering::SeqCst);
        while self.tasks.join_next().await.is_some() {}
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Waits for the senders to end by themselves (limit reached, or no bot answers).
    pub async fn join(mut self) -> BurstLog {
        while self.tasks.join_next().await.is_some() {}
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

/// The figures of a fault test, from the messages the fake WeCom delivered.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Callbacks acknowledged with 200 (each a message that must be answered).
    pub messages: usize,
    /// Acknowledged messages whose sender got no answer.
    pub lost: usize,
    /// Texts delivered more than once: the same content to the same member (the extra copies).
    pub duplicated: usize,
    /// Cards delivered, and cards delivered more than once (the same task id).
    pub cards: usize,
    pub cards_duplicated: usize,
}

impl Figures {
    /// Counts what `fake` delivered against the users whose callback was acknowledged.
    pub fn count(fake: &FakeWeCom, acked: &BTreeSet<String>) -> Figures {
        let mut copies: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut cards: BTreeMap<String, usize> = BTreeMap::new();
        let mut answered = BTreeSet::new();
        for r in fake.requests_to("/cgi-bin/message/send") {
            if r.errcode != 0 || !r.delivered {
                continue;
            }
            let to = r.body["touser"].as_str().unwrap_or_default().to_owned();
            answered.insert(to.clone());
            if r.body["msgtype"] == "template_card" {
                let task = r.body["template_card"]["task_id"].to_string();
                *cards.entry(task).or_default() += 1;
            } else {
                let kind = r.body["msgtype"].as_str().unwrap_or_default();
                *copies.entry((to, r.body[kind].to_string())).or_default() += 1;
            }
        }
        Figures {
            messages: acked.len(),
            lost: acked.iter().filter(|u| !answered.contains(*u)).count(),
            duplicated: copies.values().map(|n| n - 1).sum(),
            cards: cards.len(),
            cards_duplicated: cards.values().map(|n| n - 1).sum(),
        }
    }

    /// Prints the figures on one line, named after the test (shown with `--nocapture`).
    pub fn print(&self, test: &str) {
        println!(
            "FIGURES {test}: messages={} lost={} duplicated={} cards={} cards_duplicated={}",
            self.messages, self.lost, self.duplicated, self.cards, self.cards_duplicated
        );
    }
}

/// What makes two `message/send` calls the same message: recipient, type and content (a
/// card's content holds its task id).
fn message_key(r: &Recorded) -> (String, String) {
    let kind = r.body["msgtype"].as_str().unwrap_or_default();
    (r.body["touser"].to_string(), r.body[kind].to_string())
}

/// Waits (up to `timeout`) until every `message/send` that WeCom had handled but not yet
/// answered when the bot was killed (at `killed`) has been sent again by the bot that
/// followed: the killed one never learnt its outcome. Returns how many were cut off.
pub async fn wait_resent(fake: &FakeWeCom, killed: Instant, timeout: Duration) -> usize {
    let sends = fake.requests_to("/cgi-bin/message/send");
    let cut_off: BTreeSet<(String, String)> = sends
        .iter()
        .filter(|r| r.at <= killed && r.at + r.answered_after > killed)
        .map(message_key)
        .collect();
    let resent = fake
        .wait_until(
            |f| {
                let again: BTreeSet<_> = f
                    .requests_to("/cgi-bin/message/send")
                    .iter()
                    .filter(|r| r.at > killed)
                    .map(message_key)
                    .collect();
                cut_off.is_subset(&again)
            },
            timeout,
        )
        .await;
    assert!(resent, "every send the kill cut off is sent again");
    cut_off.len()
}

/// Waits (up to `timeout`) until every user in `acked` has been delivered a message.
pub async fn all_answered(fake: &FakeWeCom, acked: &BTreeSet<String>, timeout: Duration) -> bool {
    let acked = acked.clone();
    fake.wait_until(
        move |f| {
            let answered: BTreeSet<String> = f
                .requests_to("/cgi-bin/message/send")
                .into_iter()
                .filter(|r| r.errcode == 0 && r.delivered)
                .filter_map(|r| r.body["touser"].as_str().map(str::to_owned))
                .collect();
            acked.iter().all(|u| answered.contains(u))
        },
        timeout,
    )
    .await
}
