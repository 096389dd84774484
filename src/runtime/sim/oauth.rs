//! WeCom's web sign-in as the simulator plays it, so that the desk can be tried with
//! `cargo run` alone: `/sim/oauth/connect/oauth2/authorize` (the `WECOM_OAUTH_BASE` of a
//! simulated bot) lists the demo company's people; picking one sends the browser back to the
//! desk's `redirect_uri` with the `state` and a fresh code, which `auth/getuserinfo` (under the
//! fake API) turns into that person's userid once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::api::{check_token, error};

type Params = Query<HashMap<String, String>>;

/// The path of the sign-in pages; the simulated bot's `WECOM_OAUTH_BASE` ends with it.
pub const OAUTH_PREFIX: &str = "/sim/oauth";

/// The sign-in pages (outside the API prefix).
pub(super) fn pages() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/oauth/connect/oauth2/authorize", get(authorize))
        .route("/sim/oauth/pick", get(pick))
}

/// `auth/getuserinfo`, under the API prefix.
pub(super) fn api() -> Router<Arc<Shared>> {
    Router::new().route("/cgi-bin/auth/getuserinfo", get(getuserinfo))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page WeCom would show: here, pick who signs in.
async fn authorize(State(sim): State<Arc<Shared>>, Query(q): Params) -> Response {
    let (Some(redirect), Some(state)) = (q.get("redirect_uri"), q.get("state")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and state are required",
        )
            .into_response();
    };
    if q.get("appid") != Some(&sim.corp_id) {
        return (StatusCode::BAD_REQUEST, "unknown appid").into_response();
    }
    let mut items = String::new();
    for person in &sim.directory.people {
        let link = form_urlencoded::Serializer::new(String::new())
            .append_pair("userid", &person.userid)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", state)
            .finish();
        items.push_str(&format!(
            "<li><a href=\"/sim/oauth/pick?{}\">{}（{}）</a></li>",
            escape(&link),
            escape(&person.name),
            escape(&person.userid)
        ));
    }
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>企业微信登录（模拟）</title><body style=\"font-family:sans-serif;padding:1em\">\
         <h1 style=\"font-size:1.2em\">企业微信登录（模拟器）</h1><p>请选择以谁的身份登录：</p>\
         <ul style=\"line-height:2\">{items}</ul></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A person picked: back to the desk with a fresh code. Only a desk sign-in path is returned to.
async fn pick(State(sim): State<Arc<Shared>>, Query(q): Params) -> Response {
    let (Some(userid), Some(redirect), Some(state)) =
        (q.get("userid"), q.get("redirect_uri"), q.get("state"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            "userid, redirect_uri and state are required",
        )
            .into_response();
    };
    // Back only to a desk on this machine (the host rules of the simulator's own pages).
    let to_desk = redirect.split_once("://").is_some_and(|(_, rest)| {
        rest.split_once('/')
            .is_some_and(|(host, p)| p == "desk/oauth" && super::host::allows(host, sim.bound))
    });
    if !to_desk || sim.directory.person(userid).is_none() {
        return (StatusCode::BAD_REQUEST, "not a desk sign-in").into_response();
    }
    let code = {
        let mut world = sim.world();
        let code = world.opaque("sim-code-");
        world.sign_in_codes.insert(code.clone(), userid.clone());
        code
    };
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("code", &code)
        .append_pair("state", state)
        .finish();
    Redirect::to(&format!("{redirect}?{query}")).into_response()
}

/// `auth/getuserinfo`: a code is good once (40029 after).
async fn getuserinfo(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    let mut world = sim.world();
    if let Err(e) = check_token(&world, &q) {
        return e;
    }
    let code = q.get("code").map_or("", String::as_str);
    match world.sign_in_codes.remove(code) {
        Some(userid) => Json(json!({"errcode": 0, "errmsg": "ok", "userid": userid})),
        None => error(40029, "invalid code"),
    }
}
