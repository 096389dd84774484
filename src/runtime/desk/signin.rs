//! Signing in with WeCom (OAuth2, `snsapi_base`): `/desk` sends a browser without a session to
//! WeCom's authorize page with a random `state`, bound to the browser by a short-lived signed
//! cookie; WeCom sends it back to `/desk/oauth` with a one-time `code`, exchanged through the
//! one API client (`auth/getuserinfo`) for the userid, which the session cookie then carries
//! for eight hours. A missing, forged or stale `state`, or a code WeCom refuses, signs nobody
//! in. Codes, states and cookies are never logged.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::session::{self, SESSION, SESSION_MS, STATE, STATE_MS};
use super::{Desk, https};
use crate::base::log_safe::log_safe;

/// Where a signed-in browser lands by default.
const HOME: &str = "/desk/register";

#[derive(Deserialize)]
pub(super) struct Start {
    next: Option<String>,
}

/// `/desk`: the register when signed in, else WeCom's sign-in.
pub(super) async fn start(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Query(q): Query<Start>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let now = desk.s.clock.now_ms();
    let signed_in = session::cookie(&headers, SESSION)
        .and_then(|c| desk.signer.verify(SESSION, c, now))
        .is_some();
    match signed_in {
        true => see_other(next, &[]),
        false => redirect(&desk, &headers, next),
    }
}

/// A desk path to return to after signing in (anything else: the register).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/desk/")
                && !n.contains("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n
        }
        _ => HOME,
    }
}

/// Sends the browser to WeCom's sign-in, remembering `next` and a fresh `state` in the state
/// cookie.
pub(super) fn redirect(desk: &Desk, headers: &HeaderMap, next: &str) -> Response {
    let next = safe_next(Some(next));
    let state = hex::encode(rand::thread_rng().r#gen::<[u8; 16]>());
    let expires = desk.s.clock.now_ms() + STATE_MS;
    let cookie = desk.signer.sign(STATE, &format!("{state} {next}"), expires);
    let https = https(headers);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if https { "https" } else { "http" };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("appid", &desk.corp_id)
        .append_pair("redirect_uri", &format!("{scheme}://{host}/desk/oauth"))
        .append_pair("response_type", "code")
        .append_pair("scope", "snsapi_base")
        .append_pair("state", &state)
        .append_pair("agentid", &desk.agent_id.to_string())
        .finish();
    let location = format!(
        "{}/connect/oauth2/authorize?{query}#wechat_redirect",
        desk.oauth_base
    );
    let set = session::set_cookie(STATE, &cookie, STATE_MS / 1000, https);
    see_other(&location, &[set])
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
}

/// `/desk/oauth`: WeCom's answer. The state must be the one this browser was sent with; the
/// code is exchanged once; then the session cookie.
pub(super) async fn callback(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let https = https(&headers);
    let clear = session::set_cookie(STATE, "", 0, https);
    let now = desk.s.clock.now_ms();
    let bound = session::cookie(&headers, STATE).and_then(|c| desk.signer.verify(STATE, c, now));
    let (Some(bound), Some(state), Some(code)) = (bound, q.state, q.code) else {
        tracing::info!("desk sign-in refused: no state cookie, state or code");
        return failed(&desk, clear);
    };
    let Some((expected, next)) = bound.split_once(' ') else {
        return failed(&desk, clear);
    };
    if !bool::from(expected.as_bytes().ct_eq(state.as_bytes())) {
        tracing::info!("desk sign-in refused: the state is not this browser's");
        return failed(&desk, clear);
    }
    let userid = match desk.client.user_of_code(&code).await {
        Ok(Some(userid)) => userid,
        Ok(None) => {
            tracing::info!("desk sign-in refused: WeCom did not accept the code");
            return failed(&desk, clear);
        }
        Err(e) => {
            tracing::warn!(error = %e, "desk sign-in: auth/getuserinfo failed");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::SET_COOKIE, clear)],
                "busy, try again",
            )
                .into_response();
        }
    };
    tracing::info!(user = %log_safe(&userid), "signed in to the desk");
    let value = desk.signer.sign(SESSION, &userid, now + SESSION_MS);
    let session = session::set_cookie(SESSION, &value, SESSION_MS / 1000, https);
    see_other(safe_next(Some(next)), &[clear, session])
}

/// 403 with the `[desk] sign_in_failed` words, the state cookie cleared.
fn failed(desk: &Desk, clear: String) -> Response {
    let mut response = desk.message(StatusCode::FORBIDDEN, None, "sign_in_failed");
    if let Ok(v) = clear.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// 303 to `location`, setting `cookies`.
fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response();
    for c in cookies {
        if let Ok(v) = c.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_desk_paths_are_returned_to() {
        assert_eq!(
            safe_next(Some("/desk/account/DJ-2026-0001")),
            "/desk/account/DJ-2026-0001"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/desk/",
            "/desk//x",
            "/deskx",
            "/desk/\\x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/desk/register", "{bad}");
        }
        assert_eq!(safe_next(None), "/desk/register");
    }
}
