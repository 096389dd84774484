//! The limits at the callback port, on the real application on a real socket, on both stores:
//! 5,000 slow half-sent requests are held while `/healthz` and a signed callback answer 200, and
//! are closed after the header timeout; a flood beyond the connection cap is closed at once,
//! not left hanging, and still lets a callback in; beyond the in-flight cap the answer is an
//! immediate 503, a body that never ends gets 408 after the request timeout; a keep-alive
//! connection serves at most `FLOWBOT_KEEPALIVE_MAX` requests. Waits on facts only.

#[macro_use]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::bot::{Backend, TestBot, spawn_bot};
use support::wait::until;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_stores!(
    slow_connections_lock_nobody_out_and_are_closed_after_the_header_timeout,
    a_flood_beyond_the_connection_cap_is_closed_at_once,
    beyond_the_in_flight_cap_the_answer_is_a_fast_503,
    a_keep_alive_connection_serves_at_most_keepalive_max_requests,
);

/// A fresh message id per callback (the bot dedupes on it).
fn msg_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(7_100_000_000_000_000_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn addr(bot: &TestBot) -> String {
    bot.base_url.trim_start_matches("http://").to_owned()
}

/// A client that opens a new connection for each request (none kept idle for the door to
/// close under a test's feet).
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn healthz(bot: &TestBot) -> u16 {
    let url = format!("{}/healthz", bot.base_url);
    fresh_client()
        .get(url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A signed, encrypted text callback from a member, as WeCom sends it.
async fn callback(bot: &TestBot) -> u16 {
    let cb = bot.text("zhangsan", msg_id(), "帮助");
    let url = format!("{}/wecom/callback?{}", bot.base_url, cb.query);
    let answer = fresh_client().post(url).body(cb.body).send().await.unwrap();
    answer.status().as_u16()
}

/// Opens `n` connections that each send half a request's headers and then nothing.
async fn half_sent(bot: &TestBot, n: usize) -> Vec<TcpStream> {
    let addr = addr(bot);
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(&addr).await.expect("connects");
        s.write_all(b"POST /wecom/callback HTTP/1.1\r\nHost: bot\r\nContent-Le")
            .await
            .expect("writes");
        held.push(s);
    }
    held
}

/// Whether the bot closed this connection (end of stream or reset); an open one has nothing
/// to read.
fn closed(s: &TcpStream) -> bool {
    let mut buf = [0u8; 256];
    match s.try_read(&mut buf) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

fn count_closed(held: &[TcpStream]) -> usize {
    held.iter().filter(|s| closed(s)).count()
}

async fn slow_connections_lock_nobody_out_and_are_closed_after_the_header_timeout(
    backend: Backend,
) {
    // Each store's run holds 10,000 descriptors (both ends): one run at a time.
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = HEAVY.lock().await;
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("raise the open-file limit");
    assert!(
        limit >= 11_000,
        "this test holds 5,000 connections from both ends: raise the hard open-file limit \
         (ulimit -Hn, now {limit}) to at least 11000"
    );
    let Some(bot) = spawn_bot(backend, |s| {
        s.limits.header_timeout = Duration::from_secs(15);
    })
    .await
    else {
        return;
    };
    let held = half_sent(&bot, 5_000).await;
    until("the bot holds the 5,000 slow connections", || async {
        bot.door.open_connections() >= 5_000
    })
    .await;
    assert_eq!(healthz(&bot).await, 200);
    assert_eq!(callback(&bot).await, 200);
    assert!(
        bot.door.open_connections() >= 5_000 && count_closed(&held) == 0,
        "answered while all of them were held"
    );
    until(
        "every half-sent request is closed by the header timeout",
        || async { count_closed(&held) == held.len() },
    )
    .await;
    until("the door has let them go", || async {
        bot.door.open_connections() < 10
    })
    .await;
    assert_eq!(healthz(&bot).await, 200);
    bot.stop().await;
}

async fn a_flood_beyond_the_connection_cap_is_closed_at_once(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.limits.max_connections = 200;
        // Only the cap can close them here.
        s.limits.header_timeout = Duration::from_secs(3600);
    })
    .await
    else {
        return;
    };
    let held = half_sent(&bot, 1_000).await;
    until(
        "all but the cap's worth of the flood are closed",
        || async { count_closed(&held) >= 800 },
    )
    .await;
    assert!(bot.door.open_connections() <= 200);
    // A newcomer takes the place of the oldest idle connection.
    assert_eq!(healthz(&bot).await, 200);
    assert_eq!(callback(&bot).await, 200);
    assert!(bot.door.open_connections() <= 200);
    bot.stop().await;
}

async fn beyond_the_in_flight_cap_the_answer_is_a_fast_503(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| {
        s.limits.max_in_flight = 2;
        s.limits.request_timeout = Duration::from_secs(3);
    })
    .await
    else {
        return;
    };
    // Two callbacks whose bodies never end: both in flight until the request timeout.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let cb = bot.text("zhangsan", msg_id(), "帮助");
        let mut s = TcpStream::connect(addr(&bot)).await.unwrap();
        let head = format!(
            "POST /wecom/callback?{} HTTP/1.1\r\nHost: bot\r\nContent-Length: {}\r\n\r\n",
            cb.query,
            cb.body.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(&cb.body.as_bytes()[..10]).await.unwrap();
        slow.push(s);
    }
    until("a third callback is refused with 503", || async {
        callback(&bot).await == 503
    })
    .await;
    assert_eq!(healthz(&bot).await, 200, "liveness is not counted");
    for mut s in slow {
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    until("callbacks are taken again", || async {
        callback(&bot).await == 200
    })
    .await;
    bot.stop().await;
}

async fn a_keep_alive_connection_serves_at_most_keepalive_max_requests(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.limits.keepalive_max = 3).await else {
        return;
    };
    let mut s = TcpStream::connect(addr(&bot)).await.unwrap();
    let one = "GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n";
    s.write_all(one.repeat(5).as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // The connection ends after the third answer (no fourth is read).
    s.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 3, "{answer}");
    assert_eq!(answer.matches("connection: close").count(), 1, "{answer}");
    bot.stop().await;
}
