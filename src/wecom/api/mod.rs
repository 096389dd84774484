//! The outbound WeCom API client: access token shared through the store (one refresher at a
//! time), `message/send`, `message/update_template_card`, `appchat/send`, group robot
//! `webhook/send`, and WeCom's errcodes turned into decisions (refresh, back off, give up).
//! SKELETON: bodies to be written.

mod outbound;

pub use outbound::{MessageBody, Outbound};

use std::sync::Arc;
use std::time::Duration;

use crate::store::Store;

/// Why a call failed, and what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The network failed or WeCom answered non-JSON / 5xx: retry later.
    #[error("transport: {0}")]
    Transport(String),
    /// 45009 / 45033 / 130101 / -1: retry after a back-off.
    #[error("rate limited by WeCom (errcode {errcode})")]
    RateLimited { errcode: i64 },
    /// 40001 / 40013 / 40091 / 60020: configuration; retrying will not help.
    #[error("configuration error (errcode {errcode}): {hint}")]
    Config { errcode: i64, hint: &'static str },
    /// Any other errcode: the message is refused as it is.
    #[error("WeCom refused the call: errcode {errcode}: {errmsg}")]
    Refused { errcode: i64, errmsg: String },
}

impl ApiError {
    /// Whether a later retry of the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::Transport(_) | ApiError::RateLimited { .. })
    }
}

/// The app credentials the client needs. `Debug` hides the secret.
#[derive(Clone)]
pub struct ApiCredentials {
    pub corp_id: String,
    pub agent_id: i64,
    pub secret: String,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("corp_id", &self.corp_id)
            .field("agent_id", &self.agent_id)
            .finish_non_exhaustive()
    }
}

/// HTTP client of the WeCom API at `base` (scheme, host and port; `/cgi-bin/...` is appended).
#[derive(Clone)]
pub struct WeComClient {
    http: reqwest::Client,
    base: String,
    credentials: ApiCredentials,
    store: Arc<dyn Store>,
}

impl WeComClient {
    pub fn new(
        base: &str,
        credentials: ApiCredentials,
        store: Arc<dyn Store>,
        timeout: Duration,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .expect("reqwest client builds");
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            store,
        }
    }

    /// Delivers one outbound message (token handling and one refresh-and-retry included).
    pub async fn deliver(&self, message: &Outbound) -> Result<(), ApiError> {
        let _ = (
            &self.http,
            &self.base,
            &self.credentials,
            &self.store,
            message,
        );
        unimplemented!()
    }
}
