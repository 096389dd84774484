//! Item 7 of issue 15, honest readiness on Redis: `/readyz` proves a write (`Store::ping_write`).
//! The test starts its own throw-away redis-server (never the shared one) and makes it refuse
//! writes the way a full Redis does: `maxmemory 1` with the default `noeviction` policy answers
//! every write with OOM while reads and PING still work. Readiness follows, and recovers.

#[macro_use]
mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::bot::{Backend, spawn_bot};

const WAIT: Duration = Duration::from_secs(15);

/// A private redis-server on a free port; killed (by its own handle) when dropped.
struct PrivateRedis {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn private_redis() -> Option<PrivateRedis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let dir = tempfile::tempdir().ok()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let redis = PrivateRedis {
        child,
        url: format!("redis://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = redis::Client::open(redis.url.as_str()).ok()?;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Ok(mut con) = client.get_multiplexed_async_connection().await
            && redis::cmd("PING")
                .query_async::<String>(&mut con)
                .await
                .is_ok()
        {
            return Some(redis);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn config_set(url: &str, key: &str, value: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg(key)
        .arg(value)
        .query_async(&mut con)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_redis_refuses_writes_and_recovers() {
    let Some(redis) = private_redis().await else {
        assert!(
            std::env::var_os("REDIS_REQUIRED").is_none(),
            "REDIS_REQUIRED is set but no private redis-server could be started"
        );
        eprintln!("SKIPPED: redis-server could not be started");
        return;
    };
    let url = redis.url.clone();
    let Some(bot) = spawn_bot(Backend::Redis, |s| s.redis_url = Some(url)).await else {
        return;
    };
    assert_eq!(bot.get("/readyz").await, (200, "ready".into()));
    config_set(&redis.url, "maxmemory", "1").await;
    assert_eq!(
        bot.get("/readyz").await,
        (503, "store cannot take a write".into()),
        "PING still answers, but a write does not"
    );
    assert_eq!(bot.get("/healthz").await.0, 200, "the process still serves");
    config_set(&redis.url, "maxmemory", "0").await;
    assert_eq!(bot.get("/readyz").await, (200, "ready".into()));
    bot.stop().await;
}
