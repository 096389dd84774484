//! The app's access_token, cached in the store and refreshed by one caller at a time across all
//! replicas.
//!
//! On a cache miss a caller takes the store lock `token:<app>`; the winner calls `gettoken` and
//! stores the token, the others poll the cache until it appears. A failed `gettoken` is shared
//! with the callers waiting in this process, and a configuration error (bad secret, IP not
//! trusted) is remembered for [`CONFIG_ERROR_HOLD`], so a misconfigured app never loops on
//! `gettoken` (repeated bad secrets can get the IP blocked for an hour).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::adapters::store::CachedToken;
use crate::base::locks::lock;

use super::{ApiError, WeComClient};

/// How long a configuration error from `gettoken` is answered from memory.
pub(crate) const CONFIG_ERROR_HOLD: Duration = Duration::from_secs(60);
/// The token is refreshed this long before WeCom says it expires.
const EXPIRY_MARGIN_S: i64 = 300;
/// How often a caller waiting for another's refresh looks at the cache.
const POLL: Duration = Duration::from_millis(50);

/// In-process memory of the last failed `gettoken`, shared by clones of one client.
#[derive(Default)]
pub(crate) struct TokenState {
    last_failure: Mutex<Option<(Instant, ApiError)>>,
}

impl TokenState {
    /// A failure that happened after `since` (the caller waited for that very refresh), or a
    /// configuration error that is still being held.
    fn failure_since(&self, since: Instant) -> Option<ApiError> {
        let guard = lock(&self.last_failure);
        let (at, error) = guard.as_ref()?;
        let held = matches!(error, ApiError::Config { .. }) && at.elapsed() < CONFIG_ERROR_HOLD;
        (*at >= since || held).then(|| error.clone())
    }

    fn record(&self, error: &ApiError) {
        *lock(&self.last_failure) = Some((Instant::now(), error.clone()));
    }
}

impl WeComClient {
    /// The cache key of this app's token: `<corp_id>:<agent_id>`.
    pub(crate) fn app_key(&self) -> String {
        format!("{}:{}", self.credentials.corp_id, self.credentials.agent_id)
    }

    /// A valid access token, from the cache or from one `gettoken` across replicas.
    pub(crate) async fn access_token(&self) -> Result<String, ApiError> {
        let app = self.app_key();
        let lock_name = format!("token:{app}");
        let lock_ttl = self.timeout + Duration::from_secs(1);
        let started = Instant::now();
        // A holder that dies is replaced when its lock expires; past this, give up for now.
        let deadline = started + lock_ttl * 3;
        loop {
            if let Some(error) = self.tokens.failure_since(started) {
                return Err(error);
            }
            if let Some(cached) = self.store.get_token(&app, self.clock.now_ms()).await? {
                return Ok(cached.token);
            }
            if let Some(lock) = self
                .store
                .try_lock(&lock_name, lock_ttl, self.clock.now_ms())
                .await?
            {
                // Someone may have stored a token between our miss and our lock.
                let result = match self.store.get_token(&app, self.clock.now_ms()).await {
                    Ok(Some(cached)) => Ok(cached.token),
                    _ => {
                        let fetched = self.fetch_and_store(&app).await;
                        // `runtime::metrics::TOKEN_REFRESHES` (an adapter names it as is).
                        let outcome = if fetched.is_ok() { "ok" } else { "error" };
                        metrics::counter!("flowbot_token_refreshes_total", "result" => outcome)
                            .increment(1);
                        fetched
                    }
                };
                if let Err(e) = self.store.unlock(&lock).await {
                    tracing::warn!(error = %e, "could not release the token lock; it will expire");
                }
                if let Err(error) = &result {
                    self.tokens.record(error);
                }
                return result;
            }
            if Instant::now() >= deadline {
                return Err(ApiError::Transport(
                    "timed out waiting for another access_token refresh".to_owned(),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Drops `failed` from the cache (only if it is still the cached token).
    pub(crate) async fn invalidate(&self, failed: &str) -> Result<(), ApiError> {
        self.store.invalidate_token(&self.app_key(), failed).await?;
        Ok(())
    }

    async fn fetch_and_store(&self, app: &str) -> Result<String, ApiError> {
        let query = [
            ("corpid", self.credentials.corp_id.as_str()),
            ("corpsecret", self.credentials.secret.as_str()),
        ];
        const GETTOKEN: &str = "/cgi-bin/gettoken";
        let answer = super::succeeded(
            GETTOKEN,
            self.call(GETTOKEN, &query, super::Payload::None).await?,
        )?;
        let Some(token) = answer.access_token.filter(|t| !t.is_empty()) else {
            return Err(ApiError::Transport(
                "gettoken answered without access_token".to_owned(),
            ));
        };
        let expires_in = answer.expires_in.unwrap_or(7200);
        let valid_s = if expires_in > 2 * EXPIRY_MARGIN_S {
            expires_in - EXPIRY_MARGIN_S
        } else {
            expires_in / 2
        };
        let cached = CachedToken {
            token: token.clone(),
            expires_at_ms: self.clock.now_ms() + valid_s * 1000,
        };
        self.store.put_token(app, &cached).await?;
        tracing::info!(valid_s, "fetched a new access_token");
        Ok(token)
    }
}
