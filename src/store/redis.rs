//! The Redis backend: one `ConnectionManager`, one Lua script per multi-key invariant.
//! SKELETON: to be written.

use super::StoreResult;

/// Store on Redis under a key prefix.
#[derive(Clone)]
pub struct RedisStore {}

impl RedisStore {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`) and keeps every key under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> StoreResult<Self> {
        let _ = (url, prefix);
        unimplemented!()
    }

    /// Deletes every key under this store's prefix (tests clean up with it; never FLUSHALL).
    pub async fn delete_all_keys(&self) -> StoreResult<u64> {
        unimplemented!()
    }
}
