//! `/wecom/callback`: GET answers WeCom's URL verification with the decrypted echostr; POST
//! verifies, decrypts, parses, then dedupes and enqueues in one atomic store operation and
//! answers 200 with an empty body. Every refusal has a short body, a log line and stores nothing.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::query::CallbackQuery;
use super::{AppState, CallbackSettings};
use crate::adapters::store::{Enqueue, NewEvent};
use crate::adapters::wecom::crypto::CryptoError;
use crate::adapters::wecom::message::{self, InboundKind};
use crate::adapters::wecom::userid;
use crate::base::log_safe::log_safe;
use crate::dispatch::event::Event;
use crate::runtime::metrics;

/// Why a callback was refused. The body says it in a few words; the log says more.
#[derive(Debug)]
enum Refusal {
    NotConfigured,
    MissingParameter(&'static str),
    Stale,
    TooLarge,
    Malformed(String),
    BadSignature,
    WrongCorp,
    /// A decrypted `FromUserName` that is not one member (or `sys` for a contact change).
    BadSender(String),
    Undecryptable(CryptoError),
    StoreUnavailable(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            Refusal::NotConfigured => (
                StatusCode::SERVICE_UNAVAILABLE,
                "wecom credentials not configured",
            ),
            Refusal::MissingParameter(_) => (StatusCode::BAD_REQUEST, "missing parameter"),
            Refusal::Stale => (
                StatusCode::FORBIDDEN,
                "timestamp outside the allowed window",
            ),
            Refusal::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
            Refusal::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed body"),
            Refusal::BadSignature => (StatusCode::FORBIDDEN, "bad signature"),
            Refusal::WrongCorp => (StatusCode::FORBIDDEN, "wrong corp id"),
            Refusal::BadSender(_) => (StatusCode::BAD_REQUEST, "invalid sender"),
            Refusal::Undecryptable(_) => (StatusCode::BAD_REQUEST, "cannot decrypt"),
            Refusal::StoreUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "try again later"),
        };
        match &self {
            Refusal::StoreUnavailable(e) => {
                tracing::error!(error = %log_safe(e), "callback not queued: store unavailable")
            }
            Refusal::NotConfigured => {
                tracing::warn!("callback refused: no WeCom credentials configured")
            }
            other => {
                tracing::warn!(reason = %log_safe(&other.detail()), status = status.as_u16(), "callback refused")
            }
        }
        (status, body).into_response()
    }
}

impl Refusal {
    /// The `reason` label of the refused-callbacks metric.
    fn reason(&self) -> &'static str {
        match self {
            Refusal::NotConfigured => "not_configured",
            Refusal::MissingParameter(_) => "missing_parameter",
            Refusal::Stale => "stale",
            Refusal::TooLarge => "too_large",
            Refusal::Malformed(_) => "malformed",
            Refusal::BadSignature => "bad_signature",
            Refusal::WrongCorp => "wrong_corp",
            Refusal::BadSender(_) => "bad_sender",
            Refusal::Undecryptable(_) => "undecryptable",
            Refusal::StoreUnavailable(_) => "store_unavailable",
        }
    }

    /// What the log says (through `log_safe`: it may quote the sender's input): more than the
    /// body, never a secret or the message text.
    fn detail(&self) -> String {
        match self {
            Refusal::MissingParameter(name) => format!("missing query parameter {name}"),
            Refusal::Malformed(why) => format!("malformed: {why}"),
            Refusal::Undecryptable(e) => format!("undecryptable: {e}"),
            Refusal::Stale => "timestamp outside the replay window".into(),
            Refusal::TooLarge => "body over 64 KiB".into(),
            Refusal::BadSignature => "signature mismatch (-40001)".into(),
            Refusal::WrongCorp => "receiveid is not our corp id (-40005)".into(),
            Refusal::BadSender(from) => {
                format!("FromUserName {from} is not one member")
            }
            Refusal::NotConfigured => "no credentials".into(),
            Refusal::StoreUnavailable(e) => format!("store unavailable: {e}"),
        }
    }
}

fn settings(state: &AppState) -> Result<&CallbackSettings, Refusal> {
    state.callback.as_deref().ok_or(Refusal::NotConfigured)
}

fn required(value: &Option<String>, name: &'static str) -> Result<String, Refusal> {
    value.clone().ok_or(Refusal::MissingParameter(name))
}

fn crypto_refusal(e: CryptoError) -> Refusal {
    match e {
        CryptoError::InvalidSignature => Refusal::BadSignature,
        CryptoError::ReceiveIdMismatch => Refusal::WrongCorp,
        other => Refusal::Undecryptable(other),
    }
}

/// GET: the URL verification. The reply is the decrypted echostr, raw.
pub(super) async fn verify_url(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    match verified_echo(&state, raw.as_deref()) {
        Ok(echo) => {
            tracing::info!("callback URL verified");
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

fn verified_echo(state: &AppState, raw: Option<&str>) -> Result<Vec<u8>, Refusal> {
    let settings = settings(state)?;
    let q = CallbackQuery::parse(raw);
    let signature = required(&q.msg_signature, "msg_signature")?;
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    let echostr = required(&q.echostr, "echostr")?;
    check_fresh(&timestamp, settings, state.clock.now_ms())?;
    settings
        .crypto
        .verify(&signature, &timestamp, &nonce, &echostr)
        .map_err(crypto_refusal)?;
    settings.crypto.decrypt(&echostr).map_err(crypto_refusal)
}

/// What became of a callback answered 200 (the `outcome` label of the callbacks metric).
enum Accepted {
    Queued,
    Duplicate,
    /// A message type the bot does not handle.
    Ignored,
}

/// POST: a message or event. 200 with an empty body once it is safely queued (or known).
pub(super) async fn receive(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let (outcome, reason, response) = match accept(&state, raw.as_deref(), body).await {
        Ok(accepted) => {
            let outcome = match accepted {
                Accepted::Queued => "accepted",
                Accepted::Duplicate => "duplicate",
                Accepted::Ignored => "ignored",
            };
            (outcome, None, StatusCode::OK.into_response())
        }
        Err(refusal) => ("refused", Some(refusal.reason()), refusal.into_response()),
    };
    metrics::callback(outcome, reason, started.elapsed());
    response
}

async fn accept(
    state: &AppState,
    raw: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Accepted, Refusal> {
    let settings = settings(state)?;
    let q = CallbackQuery::parse(raw);
    let signature = required(&q.msg_signature, "msg_signature")?;
    let timestamp = required(&q.timestamp, "timestamp")?;
    let nonce = required(&q.nonce, "nonce")?;
    check_fresh(&timestamp, settings, state.clock.now_ms())?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::TooLarge,
        _ => Refusal::Malformed(rejection.body_text()),
    })?;
    let text =
        std::str::from_utf8(&body).map_err(|_| Refusal::Malformed("body is not UTF-8".into()))?;
    let envelope = message::parse_envelope(text).map_err(|e| Refusal::Malformed(e.to_string()))?;
    settings
        .crypto
        .verify(&signature, &timestamp, &nonce, &envelope.encrypt)
        .map_err(crypto_refusal)?;
    let plain = settings
        .crypto
        .decrypt(&envelope.encrypt)
        .map_err(crypto_refusal)?;
    let plain = std::str::from_utf8(&plain)
        .map_err(|_| Refusal::Malformed("message is not UTF-8".into()))?;
    let inbound = message::parse(plain).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let contact_change = matches!(inbound.kind, InboundKind::ChangeContact(_));
    if !userid::is_sender(&inbound.from_user, contact_change) {
        return Err(Refusal::BadSender(inbound.from_user));
    }

    if let InboundKind::Unknown {
        msg_type, event, ..
    } = &inbound.kind
    {
        tracing::info!(msg_type = %log_safe(msg_type), event = %log_safe(event.as_deref().unwrap_or("")), "ignoring a message type the bot does not handle");
        return Ok(Accepted::Ignored);
    }
    let dedupe_key = inbound.dedupe_key();
    let event = NewEvent {
        conversation: inbound.conversation().to_owned(),
        payload: Event::WeCom(Box::new(inbound)).to_payload(),
    };
    let outcome = state
        .store
        .dedupe_and_enqueue(
            &dedupe_key,
            settings.dedupe_ttl,
            &event,
            state.clock.now_ms(),
        )
        .await
        .map_err(|e| Refusal::StoreUnavailable(e.to_string()))?;
    Ok(match outcome {
        Enqueue::Accepted { event_id } => {
            tracing::debug!(event_id, "callback queued");
            state.new_events.notify_one();
            Accepted::Queued
        }
        Enqueue::Duplicate { event_id } => {
            tracing::info!(event_id, "duplicate callback ignored");
            Accepted::Duplicate
        }
    })
}

/// The replay guard of GET and POST alike: WeCom's timestamp must be within the window around
/// our clock.
fn check_fresh(timestamp: &str, settings: &CallbackSettings, now_ms: i64) -> Result<(), Refusal> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| Refusal::Stale)?;
    let skew_ms = (now_ms - ts.saturating_mul(1000)).abs();
    if skew_ms as u128 > settings.replay_window.as_millis() {
        return Err(Refusal::Stale);
    }
    Ok(())
}
