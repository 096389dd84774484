//! The one WeCom API client of the bot: access token shared through the store (one refresher at
//! a time, refreshed once when WeCom rejects it), `message/send`, `message/update_template_card`,
//! `appchat/send`, `appchat/create` and `appchat/update`, group robot `webhook/send`,
//! `media/upload` and `media/get` (files, evidence), `auth/getuserinfo` (the desk's sign-in),
//! the contacts calls behind the directory's [`Contacts`](crate::base::directory::Contacts)
//! trait, and WeCom's errcodes turned into decisions (refresh, back off, give up).
//!
//! Secrets stay out of logs and errors: paths are logged without their query strings (which
//! carry the secret, the token or the webhook key), and `reqwest` errors are stripped of URLs.

mod body;
mod contacts;
mod errcode;
mod media;
mod oauth;
mod outbound;
mod token;

pub use body::MAX_DUPLICATE_CHECK;
pub use media::Media;
pub use oauth::INVALID_CODE;
pub use outbound::{MessageBody, Outbound};

use crate::base::log_safe::log_safe;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::adapters::store::{Store, StoreError};
use crate::base::clock::Clock;
use body::Auth;
use errcode::ApiResponse;

/// Why a call failed, and what the caller should do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The request never reached WeCom (no connection) or was refused before it was read
    /// (4xx): retry later.
    #[error("transport: {0}")]
    Transport(String),
    /// The request was sent but no answer was read (a timeout, a reset connection, a 5xx, an
    /// answer that is not WeCom's): WeCom may have acted on it. Retry later, with what WeCom
    /// offers against a second delivery (the outbox sender's duplicate check, cards' task ids).
    #[error("outcome unknown: {0}")]
    Unknown(String),
    /// 45009 / 45033 / 130101 / -1: retry after a back-off.
    #[error("rate limited by WeCom (errcode {errcode})")]
    RateLimited { errcode: i64 },
    /// 40001 / 40013 / 40091 / 60020, or a setting the call needs is missing (a group robot's
    /// webhook key): configuration; retrying helps only once an admin fixes it.
    #[error("configuration error{}: {hint}", errcode.map(|c| format!(" (errcode {c})")).unwrap_or_default())]
    Config { errcode: Option<i64>, hint: String },
    /// Any other errcode: the message is refused as it is.
    #[error("WeCom refused the call: errcode {errcode}: {errmsg}")]
    Refused { errcode: i64, errmsg: String },
    /// The message cannot be sent as it is (e.g. a template card to an app group chat; nothing
    /// was sent), or an accepted call's answer lacks what the bot reads from it.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The shared store (token cache, lock) failed: retry later.
    #[error("store: {0}")]
    Store(String),
}

impl ApiError {
    /// Whether a later retry of the same call may succeed. Configuration errors count: an
    /// admin can add the trusted IP (60020) or fix the secret and restart, and the queued
    /// messages should then go out rather than sit in the dead letters. The client never loops
    /// on them itself (it remembers a failed `gettoken` for a minute).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Transport(_)
                | ApiError::Unknown(_)
                | ApiError::RateLimited { .. }
                | ApiError::Store(_)
                | ApiError::Config { .. }
        )
    }

    /// Whether WeCom may have acted on the call although it failed.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ApiError::Unknown(_))
    }

    /// WeCom's errcode, when the error came from one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            ApiError::RateLimited { errcode } | ApiError::Refused { errcode, .. } => Some(*errcode),
            ApiError::Config { errcode, .. } => *errcode,
            _ => None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e.to_string())
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

/// What WeCom said about a delivered message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// For `message/recall` (app messages only).
    pub msgid: Option<String>,
    /// For `update_template_card` on a sent interactive card (single use, 72 h).
    pub response_code: Option<String>,
    /// Recipients WeCom skipped (lower-cased userids; parties and tags prefixed `party:`/`tag:`).
    pub invalid: Vec<String>,
}

/// HTTP client of the WeCom API at `base` (scheme, host and port; `/cgi-bin/...` is appended).
/// Clones share their in-process token state.
#[derive(Clone)]
pub struct WeComClient {
    http: reqwest::Client,
    base: String,
    credentials: ApiCredentials,
    store: Arc<dyn Store>,
    timeout: Duration,
    /// Token expiry is judged on the company clock.
    clock: Clock,
    tokens: Arc<token::TokenState>,
    /// Group robots' webhook keys by group name (`FLOWBOT_ROBOT_<NAME>`).
    robot_keys: Arc<HashMap<String, String>>,
}

impl WeComClient {
    pub fn new(
        base: &str,
        credentials: ApiCredentials,
        store: Arc<dyn Store>,
        timeout: Duration,
        clock: Clock,
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
            timeout,
            clock,
            tokens: Arc::default(),
            robot_keys: Arc::default(),
        }
    }

    /// The webhook keys of the group robots, by group name in bot.toml `[groups]`.
    pub fn with_robot_keys(mut self, keys: HashMap<String, String>) -> Self {
        self.robot_keys = Arc::new(keys);
        self
    }

    /// The webhook key of the group robot `name`; a missing one is a configuration error.
    fn robot_key(&self, name: &str) -> Result<&str, ApiError> {
        self.robot_keys
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ApiError::Config {
                errcode: None,
                hint: format!(
                    "no webhook key for the group robot {name}: set FLOWBOT_ROBOT_{}",
                    name.to_uppercase()
                ),
            })
    }

    /// Delivers one outbound message (token handling and one refresh-and-retry included).
    pub async fn deliver(&self, message: &Outbound) -> Result<(), ApiError> {
        self.deliver_with_receipt(message).await.map(drop)
    }

    /// Like [`Self::deliver`], and returns WeCom's msgid / response_code / skipped recipients.
    pub async fn deliver_with_receipt(&self, message: &Outbound) -> Result<Receipt, ApiError> {
        self.deliver_checked(message, None).await
    }

    /// Like [`Self::deliver_with_receipt`]; with `duplicate_check`, an app message
    /// (`message/send`) asks WeCom not to deliver it again to whom the same message was
    /// delivered within that interval (`enable_duplicate_check`, `duplicate_check_interval`,
    /// at most four hours); WeCom then answers errcode 0 without delivering.
    pub async fn deliver_checked(
        &self,
        message: &Outbound,
        duplicate_check: Option<Duration>,
    ) -> Result<Receipt, ApiError> {
        let mut request = body::request(message, self.credentials.agent_id)?;
        if let (Some(interval), "/cgi-bin/message/send") = (duplicate_check, request.path) {
            body::with_duplicate_check(&mut request.body, interval);
        }
        let answer = match &request.auth {
            Auth::Robot(name) => {
                let key = self.robot_key(name)?;
                let answer = self
                    .call(request.path, &[("key", key)], Payload::Json(&request.body))
                    .await?;
                succeeded(request.path, answer)?
            }
            Auth::Token => {
                self.call_with_token(request.path, &[], Payload::Json(&request.body))
                    .await?
            }
        };
        let receipt = Receipt {
            msgid: answer.msgid,
            response_code: answer.response_code,
            invalid: answer
                .invaliduser
                .into_iter()
                .chain(answer.unlicenseduser)
                .chain(
                    answer
                        .invalidparty
                        .into_iter()
                        .map(|p| format!("party:{p}")),
                )
                .chain(answer.invalidtag.into_iter().map(|t| format!("tag:{t}")))
                .collect(),
        };
        if !receipt.invalid.is_empty() {
            tracing::warn!(path = request.path, skipped = ?receipt.invalid, "WeCom skipped recipients");
        }
        Ok(receipt)
    }

    /// Calls `path` (GET, or POST of `body`) with the app's access token; when WeCom rejects the
    /// token, drops it, gets a new one and calls once more. Any errcode but 0 is an [`ApiError`].
    pub(crate) async fn call_with_token(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
        body: Payload<'_>,
    ) -> Result<ApiResponse, ApiError> {
        fn with<'a>(token: &'a str, query: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
            [("access_token", token)]
                .into_iter()
                .chain(query.iter().copied())
                .collect()
        }
        let token = self.access_token().await.map_err(not_sent)?;
        let mut answer = self.call(path, &with(&token, query), body).await?;
        if let Some(code) = answer.errcode.filter(|c| errcode::is_token_error(*c)) {
            tracing::info!(errcode = code, path, "token rejected, refreshing once");
            self.invalidate(&token).await?;
            let token = self.access_token().await.map_err(not_sent)?;
            answer = self.call(path, &with(&token, query), body).await?;
        }
        succeeded(path, answer)
    }

    /// One GET (no `body`) or POST of `body` to `path`.
    async fn call(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
        body: Payload<'_>,
    ) -> Result<ApiResponse, ApiError> {
        let url = format!("{}{path}", self.base);
        let sent = match body {
            Payload::Json(body) => self.http.post(url).query(query).json(body).send(),
            Payload::File { name, bytes } => {
                let (content_type, body) = body::multipart(name, bytes);
                let post = self.http.post(url).query(query);
                let post = post.header(reqwest::header::CONTENT_TYPE, content_type);
                post.body(body).send()
            }
            Payload::None => self.http.get(url).query(query).send(),
        };
        self.answer(path, sent).await
    }

    /// Reads WeCom's JSON answer. Errors never carry the URL (its query holds secrets).
    async fn answer(
        &self,
        path: &'static str,
        sent: impl Future<Output = reqwest::Result<reqwest::Response>>,
    ) -> Result<ApiResponse, ApiError> {
        // Only a failed connection proves that WeCom never saw the request.
        let transport = |e: reqwest::Error| {
            let e = e.without_url();
            tracing::warn!(path, error = %e, "WeCom call failed in transport");
            match e.is_connect() {
                true => ApiError::Transport(format!("{path}: {e}")),
                false => ApiError::Unknown(format!("{path}: {e}")),
            }
        };
        let response = sent.await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(path, %status, "WeCom answered an HTTP error");
            let error = format!("{path}: HTTP {status}");
            return Err(match status.is_server_error() {
                true => ApiError::Unknown(error),
                false => ApiError::Transport(error),
            });
        }
        let bytes = response.bytes().await.map_err(transport)?;
        let not_json = |e: serde_json::Error| {
            ApiError::Unknown(format!("{path}: answer is not WeCom's JSON: {e}"))
        };
        let json: Value = serde_json::from_slice(&bytes).map_err(not_json)?;
        let mut answer = ApiResponse::deserialize(&json).map_err(not_json)?;
        answer.json = json;
        if answer.errcode.is_none() {
            return Err(ApiError::Unknown(format!("{path}: answer without errcode")));
        }
        Ok(answer)
    }
}

/// What a call sends.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// A GET.
    None,
    /// A POST of JSON.
    Json(&'a Value),
    /// A POST of one file as `multipart/form-data` (field `media`).
    File { name: &'a str, bytes: &'a [u8] },
}

/// An error before the call itself left (getting a token): WeCom has not seen the call, so its
/// outcome is not unknown.
fn not_sent(error: ApiError) -> ApiError {
    match error {
        ApiError::Unknown(message) => ApiError::Transport(message),
        other => other,
    }
}

/// The answer when its errcode is 0, else the errcode's [`ApiError`] (logged).
fn succeeded(path: &'static str, answer: ApiResponse) -> Result<ApiResponse, ApiError> {
    match answer.errcode.unwrap_or_default() {
        0 => Ok(answer),
        errcode => {
            tracing::warn!(errcode, errmsg = %log_safe(&answer.errmsg), path, "WeCom call failed");
            Err(errcode::classify(errcode, &answer.errmsg))
        }
    }
}
