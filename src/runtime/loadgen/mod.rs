//! The load generator behind `flowbot bench`: signed, encrypted text callbacks with unique
//! MsgIds, all prepared before the run's clock starts ([`prepare`]), sent at a chosen concurrency
//! (and optionally a fixed arrival rate), reporting throughput and latency percentiles of the
//! POST. It can also serve a stand-in WeCom API (`--api-sink`) that accepts every call, so the
//! bot under test delivers its replies somewhere. With `--watch-store` it also samples the bot's
//! store until every accepted callback is handled ([`drain`]): events handled per second end to
//! end and the queue depth over time. The stand-in times each callback to its reply
//! ([`replies`]).

pub mod drain;
pub mod replies;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use hdrhistogram::Histogram;

use crate::adapters::wecom::crypto::CallbackCrypto;
use crate::base::clock::Clock;
use crate::runtime::config::Settings;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// The bot's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Callbacks to send in all.
    #[arg(long, default_value_t = 20_000)]
    pub requests: u64,
    /// Target arrival rate in callbacks per second (open loop); unset sends as fast as possible.
    #[arg(long)]
    pub rate: Option<u64>,
    /// Distinct senders the callbacks are spread over.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Also serve a stand-in WeCom API on this address (point the bot's WECOM_API_BASE at it).
    #[arg(long)]
    pub api_sink: Option<String>,
    /// Also watch the bot's store (the same FLOWBOT_DATA / REDIS_URL as the bot) until every
    /// accepted callback is handled, for at most this many seconds.
    #[arg(long)]
    pub watch_store: Option<u64>,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub args: BenchArgs,
    pub crypto: CallbackCrypto,
    /// Stamps the callbacks (the wall clock, like WeCom's).
    pub clock: Clock,
}

impl LoadConfig {
    pub fn from_args(args: BenchArgs, settings: &Settings) -> anyhow::Result<Self> {
        let Some(wecom) = &settings.wecom else {
            bail!(
                "flowbot bench signs like WeCom: set the same WECOM_* variables as the bot under test"
            );
        };
        let crypto = CallbackCrypto::new(&wecom.token, wecom.aes_key.clone(), &wecom.corp_id);
        Ok(Self {
            args,
            crypto,
            clock: Clock::default(),
        })
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// End to end, with `--watch-store`.
    pub drain: Option<drain::Drain>,
    /// Callback to reply, with `--api-sink` (once a reply arrived).
    pub reply_latency: Option<replies::ReplyLatency>,
}

impl LoadReport {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sent {} ok {} failed {} in {:.2}s: {:.0} callbacks/s; latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.sent,
            self.ok,
            self.failed,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )?;
        if let Some(drain) = &self.drain {
            write!(f, "\n{drain}")?;
        }
        if let Some(r) = &self.reply_latency {
            write!(
                f,
                "\ncallback to reply (from the callback's scheduled start to the reply reaching the stand-in WeCom), {} replies: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                r.replies,
                ms(r.p50),
                ms(r.p99),
                ms(r.max)
            )?;
        }
        Ok(())
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Builds the body and query of a text-message callback, exactly as WeCom would send it.
pub fn signed_callback(
    crypto: &CallbackCrypto,
    from_user: &str,
    msg_id: u64,
    content: &str,
    now_s: i64,
) -> (String, String) {
    let plain = format!(
        "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[{from_user}]]></FromUserName>\
<CreateTime>{now_s}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>\
<MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>",
        corp = crypto.receive_id()
    );
    signed_xml(crypto, &plain, now_s, &(msg_id % 1_000_000_007).to_string())
}

/// Encrypts and signs any decrypted callback XML: returns the query string and the envelope.
pub fn signed_xml(
    crypto: &CallbackCrypto,
    plain_xml: &str,
    now_s: i64,
    nonce: &str,
) -> (String, String) {
    let encrypt = crypto.encrypt(plain_xml.as_bytes());
    let timestamp = now_s.to_string();
    let signature = crypto.sign(&timestamp, nonce, &encrypt);
    let body = format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>",
        crypto.receive_id()
    );
    let query = format!("msg_signature={signature}&timestamp={timestamp}&nonce={nonce}");
    (query, body)
}

/// One callback, signed and encrypted before the run starts.
struct Prepared {
    user: String,
    url: reqwest::Url,
    body: Bytes,
}

/// Signs and encrypts every callback of the run before its clock starts, on every core: WeCom
/// does this work on its own machines, so the generator should not take the bot's CPU for it
/// while measuring. Stamped now, the callbacks stay within the bot's replay window for runs
/// shorter than it (`FLOWBOT_REPLAY_WINDOW`, 15 minutes by default).
fn prepare(config: &LoadConfig, endpoint: &str) -> anyhow::Result<Vec<Prepared>> {
    let args = &config.args;
    let base_id = rand::random::<u32>() as u64 * 1_000_000_000;
    let now_s = config.clock.now_ms() / 1000;
    let endpoint = reqwest::Url::parse(endpoint).context("the bot's URL")?;
    let total = args.requests;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let chunk = total.div_ceil(threads).max(1);
    let one = |i: u64| {
        let user = format!("user{:05}", i % args.users.max(1));
        let (query, body) = signed_callback(&config.crypto, &user, base_id + i, "你好", now_s);
        let mut url = endpoint.clone();
        url.set_query(Some(&query));
        Prepared {
            user,
            url,
            body: Bytes::from(body),
        }
    };
    let parts: Vec<Vec<Prepared>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..total)
            .step_by(chunk as usize)
            .map(|from| scope.spawn(move || (from..(from + chunk).min(total)).map(one).collect()))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("signing thread"))
            .collect()
    });
    Ok(parts.into_iter().flatten().collect())
}

/// Runs the load and reports. Latency is measured from each request's scheduled start, so a
/// slow server cannot hide its queueing (no coordinated omission).
/// With `store` (`--watch-store`), also samples it until every accepted callback is handled.
pub async fn run(
    config: LoadConfig,
    store: Option<Arc<dyn crate::adapters::store::Store>>,
) -> anyhow::Result<LoadReport> {
    let replies = Arc::new(replies::Replies::default());
    if let Some(addr) = &config.args.api_sink {
        replies::serve(addr, replies.clone()).await?;
    }
    let args = &config.args;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(10))
        .build()?;
    let endpoint = format!("{}/wecom/callback", args.url.trim_end_matches('/'));
    let callbacks = Arc::new(prepare(&config, &endpoint)?);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let accepted = Arc::new(AtomicU64::new(0));
    let done_sending = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = store.map(|store| {
        let limit = Duration::from_secs(args.watch_store.unwrap_or(120));
        tokio::spawn(drain::watch(
            store,
            started,
            accepted.clone(),
            replies.clone(),
            done_sending.clone(),
            limit,
        ))
    });
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (http, callbacks, next, rate, accepted, replies) = (
            http.clone(),
            callbacks.clone(),
            next.clone(),
            args.rate,
            accepted.clone(),
            replies.clone(),
        );
        tasks.spawn(async move {
            let mut hist =
                Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let (mut ok, mut failed) = (0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(callback) = callbacks.get(i as usize) else {
                    break;
                };
                let scheduled = match rate {
                    Some(rate) => {
                        let at = started + Duration::from_secs_f64(i as f64 / rate.max(1) as f64);
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                replies.expect(&callback.user, scheduled);
                let response = http
                    .post(callback.url.clone())
                    .body(callback.body.clone())
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => {
                        ok += 1;
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => failed += 1,
                }
                let _ = hist.record(scheduled.elapsed().as_micros().max(1) as u64);
            }
            (hist, ok, failed)
        });
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut ok, mut failed) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        let (h, o, f) = joined.context("load task panicked")?;
        hist.add(h)?;
        ok += o;
        failed += f;
    }
    let elapsed = started.elapsed();
    done_sending.store(true, Ordering::Relaxed);
    let drain = match watcher {
        Some(watcher) => Some(watcher.await.context("store watcher panicked")??),
        None => None,
    };
    let micros = |q: f64| Duration::from_micros(hist.value_at_quantile(q));
    Ok(LoadReport {
        sent: ok + failed,
        ok,
        failed,
        elapsed,
        p50: micros(0.5),
        p90: micros(0.9),
        p99: micros(0.99),
        max: Duration::from_micros(hist.max()),
        drain,
        reply_latency: replies.latency(),
    })
}
