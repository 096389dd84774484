//! `spawn_bot`: the real application on port 0, against the fake WeCom and a chosen store
//! backend (embedded in a temp dir, or Redis under a unique prefix, cleaned up on drop).

use std::sync::Arc;
use std::time::Duration;

use flowbot::adapters::store::Store;
use flowbot::adapters::store::redis::RedisStore;
use flowbot::adapters::wecom::crypto::{AesKey, CallbackCrypto};
use flowbot::base::clock::Clock;
use flowbot::runtime::app::Application;
use flowbot::runtime::config::{DirectorySource, Settings, WeComSettings};
use flowbot::runtime::scheduler::Scheduler;

use super::fake_wecom::FakeWeCom;

pub const CORP_ID: &str = "wwf10wb0t0000test";
pub const AGENT_ID: i64 = 1000002;
pub const SECRET: &str = "test-corp-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Redis,
}

/// A running bot and everything a test needs to talk to it.
pub struct TestBot {
    pub base_url: String,
    pub crypto: CallbackCrypto,
    pub fake: FakeWeCom,
    pub store: Arc<dyn Store>,
    pub settings: Settings,
    /// The bot's own clock: tests move it ahead.
    pub clock: Clock,
    /// The bot's calendar (the handle its scripts use; reloaded when the folder changes).
    pub calendar: flowbot::base::calendar::Calendar,
    /// The door of its callback port (its open connections).
    pub door: flowbot::runtime::http::Door,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    redis_prefix: Option<String>,
    dir: Option<tempfile::TempDir>,
}

fn random_alnum(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Starts the bot; `None` (with a loud message) when Redis is asked for but does not answer and
/// `REDIS_REQUIRED` is unset.
pub async fn spawn_bot(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<TestBot> {
    let fake = FakeWeCom::start(CORP_ID, SECRET).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let wecom = WeComSettings {
        corp_id: CORP_ID.into(),
        agent_id: AGENT_ID,
        secret: SECRET.into(),
        token: random_alnum(24),
        aes_key: AesKey::from_encoding_aes_key(&random_alnum(43)).expect("a valid key"),
    };
    let mut settings = Settings::defaults();
    settings.listen = "127.0.0.1:0".into();
    settings.scripts_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts").into();
    settings.data_dir = dir.path().join("data");
    settings.api_base = fake.base_url();
    settings.wecom = Some(wecom);
    settings.workers = 2;
    settings.directory = DirectorySource::Static;
    let mut redis_prefix = None;
    if backend == Backend::Redis {
        let prefix = format!("flowbot-test-{}", random_alnum(12));
        match RedisStore::connect(&redis_url(), &prefix).await {
            Ok(store) if store.ping().await.is_ok() => redis_prefix = Some(prefix.clone()),
            _ if std::env::var_os("REDIS_REQUIRED").is_some() => {
                panic!(
                    "REDIS_REQUIRED is set but Redis at {} does not answer",
                    redis_url()
                )
            }
            _ => {
                eprintln!(
                    "SKIPPED: Redis at {} does not answer; set REDIS_URL or start redis-server",
                    redis_url()
                );
                return None;
            }
        }
        settings.redis_url = Some(redis_url());
        settings.redis_prefix = prefix;
    }
    tweak(&mut settings);
    let crypto = {
        let w = settings.wecom.as_ref().expect("tests run with credentials");
        CallbackCrypto::new(&w.token, w.aes_key.clone(), &w.corp_id)
    };
    if redis_prefix.is_some() {
        // The test may have pointed the bot at an earlier bot's keys: clean those up.
        redis_prefix = Some(settings.redis_prefix.clone());
    }
    let app = Application::build(settings.clone())
        .await
        .expect("bot builds");
    let base_url = format!("http://{}", app.local_addr());
    let store = app.store();
    let clock = app.clock();
    let calendar = app.calendar();
    let door = app.door();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Some(TestBot {
        base_url,
        crypto,
        fake,
        store,
        settings,
        clock,
        calendar,
        door,
        http: reqwest::Client::new(),
        stop: Some(stop),
        task: Some(task),
        redis_prefix,
        dir: Some(dir),
    })
}

static NEXT_MSG_ID: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(8_000_000_000_000_000_000);

/// A callback as WeCom sends it: query string and body.
pub struct Callback {
    pub query: String,
    pub body: String,
}

impl TestBot {
    /// An encrypted, signed text message from `user`.
    pub fn text(&self, user: &str, msg_id: u64, content: &str) -> Callback {
        let now = self.clock.now_ms() / 1000;
        self.text_at(user, msg_id, content, now)
    }

    pub fn text_at(&self, user: &str, msg_id: u64, content: &str, timestamp: i64) -> Callback {
        let (query, body) = flowbot::runtime::loadgen::signed_callback(
            &self.crypto,
            user,
            msg_id,
            content,
            timestamp,
        );
        Callback { query, body }
    }

    /// An encrypted, signed image message from `user` (kind `image`) or file message (kind
    /// `file`, with `file_name`) whose media the fake serves under `media_id`.
    pub fn media(&self, user: &str, kind: &str, media_id: &str, file_name: &str) -> Callback {
        let now = self.clock.now_ms() / 1000;
        let msg_id = NEXT_MSG_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = match kind {
            "file" => format!("<FileName><![CDATA[{file_name}]]></FileName>"),
            _ => "<PicUrl><![CDATA[https://wework.qpic.cn/x]]></PicUrl>".to_owned(),
        };
        let plain = format!(
            "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
<CreateTime>{now}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{name}\
<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
        );
        let (query, body) =
            flowbot::runtime::loadgen::signed_xml(&self.crypto, &plain, now, "5151");
        Callback { query, body }
    }

    /// Sends an image whose bytes the fake serves (as `image/png`); waits for the callback's
    /// acknowledgement.
    pub async fn send_image(&self, user: &str, media_id: &str, bytes: &[u8]) {
        self.fake
            .put_media(media_id, &format!("{media_id}.png"), "image/png", bytes);
        let (status, _) = self.post(&self.media(user, "image", media_id, "")).await;
        assert_eq!(status, 200, "image callback acknowledged");
    }

    /// An encrypted, signed app-menu click from `user`.
    pub fn click(&self, user: &str, key: &str) -> Callback {
        let now = self.clock.now_ms() / 1000;
        let plain = format!(
            "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
<CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event>\
<EventKey><![CDATA[{key}]]></EventKey><AgentID>{AGENT_ID}</AgentID></xml>"
        );
        let (query, body) =
            flowbot::runtime::loadgen::signed_xml(&self.crypto, &plain, now, "4242");
        Callback { query, body }
    }

    /// A tap on a template card button, as WeCom sends it now.
    pub fn tap(&self, user: &str, event_key: &str, task_id: &str, response_code: &str) -> Callback {
        let now = self.clock.now_ms() / 1000;
        self.tap_at(user, (event_key, task_id, response_code), now)
    }

    /// A tap whose `CreateTime` is `create_time` (seconds): WeCom tells deliveries of one tap
    /// from two taps by it, so a second tap of the same card has a later one.
    pub fn tap_at(&self, user: &str, tap: (&str, &str, &str), create_time: i64) -> Callback {
        let (event_key, task_id, response_code) = tap;
        let now = self.clock.now_ms() / 1000;
        let plain = format!(
            "<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>\
<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>\
<EventKey><![CDATA[{event_key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>\
<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[{response_code}]]></ResponseCode>\
<AgentID>{AGENT_ID}</AgentID></xml>"
        );
        let (query, body) = flowbot::runtime::loadgen::signed_xml(&self.crypto, &plain, now, "777");
        Callback { query, body }
    }

    /// The newest approval card `user` received: its task id and button keys.
    pub fn last_card(&self, user: &str) -> Option<(String, String, String)> {
        let card = self
            .fake
            .sent_to(user)
            .into_iter()
            .rev()
            .find(|m| m["msgtype"] == "template_card")?;
        let card = &card["template_card"];
        Some((
            card["task_id"].as_str()?.to_owned(),
            card["button_list"][0]["key"].as_str()?.to_owned(),
            card["button_list"][1]["key"].as_str()?.to_owned(),
        ))
    }

    /// Waits until `pred` holds for the texts `user` received.
    pub async fn wait_for_text(&self, user: &str, needle: &str, timeout: Duration) -> bool {
        let (u, n) = (user.to_owned(), needle.to_owned());
        self.fake
            .wait_until(
                move |f| {
                    f.sent_to(&u)
                        .iter()
                        .any(|m| m["text"]["content"].as_str().unwrap_or("").contains(&n))
                },
                timeout,
            )
            .await
    }

    /// Sends the texts one after another (each acknowledged before the next), as a user types.
    pub async fn say(&self, user: &str, texts: &[&str]) {
        for text in texts {
            let id = NEXT_MSG_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (status, _) = self.post(&self.text(user, id, text)).await;
            assert_eq!(status, 200, "callback for {text:?} acknowledged");
        }
    }

    /// The text of every message `user` has received so far.
    pub fn texts_to(&self, user: &str) -> Vec<String> {
        self.fake
            .sent_to(user)
            .iter()
            .map(|m| m["text"]["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    pub async fn post(&self, callback: &Callback) -> (u16, String) {
        self.post_raw(&callback.query, callback.body.clone()).await
    }

    pub async fn post_raw(&self, query: &str, body: String) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/wecom/callback?{query}", self.base_url))
            .body(body)
            .send()
            .await
            .expect("bot answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    pub async fn get(&self, path_and_query: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.base_url))
            .send()
            .await
            .expect("bot answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    /// Waits until `user` has received `n` messages; returns them.
    pub async fn wait_for_messages(
        &self,
        user: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<serde_json::Value> {
        let u = user.to_owned();
        self.fake
            .wait_until(move |f| f.sent_to(&u).len() >= n, timeout)
            .await;
        self.fake.sent_to(user)
    }

    /// Waits until everything due on the bot's clock has happened: a scheduler tick of the
    /// test's own fires no timer (every due one has been fired), no event is queued and the
    /// outbox is empty (every message has reached the fake WeCom). Panics after `timeout`.
    pub async fn settle(&self, timeout: Duration) {
        let scheduler = Scheduler::new(
            self.store.clone(),
            Arc::new(tokio::sync::Notify::new()),
            self.clock.clone(),
        );
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let fired = scheduler.tick(self.clock.now_ms()).await.expect("timers");
            let stats = self.store.queue_stats().await.expect("queue stats");
            if fired == 0 && stats.events == 0 && stats.outbox == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot did not settle within {timeout:?}: {stats:?}, {fired} timer(s) just fired"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the bot but keeps its store (the temp dir and Redis keys) for a bot started next
    /// with the same settings; that bot's test cleans up.
    pub async fn keep_store_and_stop(mut self) -> Option<tempfile::TempDir> {
        self.redis_prefix = None;
        self.shutdown().await;
        self.dir.take()
    }

    /// Stops the bot gracefully and cleans up its Redis keys.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.clean_redis();
    }

    fn clean_redis(&mut self) {
        if let Some(prefix) = self.redis_prefix.take() {
            let _ = std::thread::spawn(move || delete_redis_keys(&prefix)).join();
        }
    }
}

/// Deletes every key under `prefix` (works during a panic).
pub fn delete_redis_keys(prefix: &str) {
    super::store::delete_keys(&redis_url(), prefix);
}

impl Drop for TestBot {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.clean_redis();
    }
}
