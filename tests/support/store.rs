//! Store backends for store-level tests: an embedded store in a temp dir, or Redis at
//! `REDIS_URL` (default `redis://127.0.0.1:6379`) under a random prefix whose keys are deleted
//! afterwards, also when the test panics. Without Redis the Redis tests print a loud SKIP, unless
//! `REDIS_REQUIRED` is set, in which case they fail.

use std::io::Write;
use std::sync::Arc;

use flowbot::adapters::store::Store;
use flowbot::adapters::store::embedded::EmbeddedStore;
use flowbot::adapters::store::redis::{RedisConnection, RedisStore, delete_matching};

/// A store for one test; cleans up after itself.
pub struct Harness {
    pub store: Arc<dyn Store>,
    pub _dir: Option<tempfile::TempDir>,
    pub redis: Option<(String, String)>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // A fresh runtime: this may run while the test's runtime unwinds a panic.
        if let Some((url, prefix)) = self.redis.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(store) = RedisStore::connect(&url, &prefix).await {
                        let _ = store.delete_all_keys().await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn embedded_harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    Harness {
        store: Arc::new(EmbeddedStore::open(dir.path()).unwrap()),
        _dir: Some(dir),
        redis: None,
    }
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Runs `work` on a connection to `url` (one node, or a cluster when it lists several) in a
/// thread of its own, so it works anywhere, also in `Drop` during a panic; `None` when Redis
/// does not answer.
fn with_redis<T: Send + 'static>(
    url: &str,
    work: impl AsyncFnOnce(RedisConnection) -> Option<T> + Send + 'static,
) -> Option<T> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async move { work(RedisConnection::open(&url).await.ok()?).await })
    })
    .join()
    .ok()
    .flatten()
}

/// Whether Redis at `url` answers a PING.
pub fn redis_answers(url: &str) -> bool {
    with_redis(url, async |mut con| {
        redis::cmd("PING")
            .query_async::<String>(&mut con)
            .await
            .ok()
    })
    .is_some()
}

/// Deletes every key under `prefix` at `url` (every node of a cluster); never FLUSHALL.
pub fn delete_keys(url: &str, prefix: &str) {
    let pattern = format!("{prefix}:*");
    with_redis(url, async move |con| {
        delete_matching(&con, &pattern).await.ok()
    });
}

pub async fn redis_store(prefix: &str) -> Option<RedisStore> {
    let url = redis_url();
    let store = match RedisStore::connect(&url, prefix).await {
        Ok(s) => s,
        Err(e) => return redis_missing(&url, &e.to_string()),
    };
    match store.ping().await {
        Ok(()) => Some(store),
        Err(e) => redis_missing(&url, &e.to_string()),
    }
}

pub async fn redis_harness() -> Option<Harness> {
    let prefix = format!("flowbot-test-{:016x}", rand::random::<u64>());
    let store = redis_store(&prefix).await?;
    Some(Harness {
        store: Arc::new(store),
        _dir: None,
        redis: Some((redis_url(), prefix)),
    })
}

pub fn redis_missing<T>(url: &str, err: &str) -> Option<T> {
    if std::env::var_os("REDIS_REQUIRED").is_some() {
        panic!("REDIS_REQUIRED is set but Redis at {url} does not answer: {err}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIP: Redis at {url} does not answer ({err}); Redis store tests NOT run ***\n"
    );
    None
}
