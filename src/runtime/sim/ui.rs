//! The console: the page at `/console` (HTML, CSS and JavaScript compiled into the binary) and
//! the JSON endpoints it polls and posts to under `/sim/ui/...`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::state::{From, Msg};
use super::user::Action;

const HTML: &str = include_str!("console.html");
const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/console") }))
        .route("/console", get(|| async { page("text/html", HTML) }))
        .route(
            "/console/console.css",
            get(|| async { page("text/css", CSS) }),
        )
        .route(
            "/console/console.js",
            get(|| async { page("text/javascript", JS) }),
        )
        .route("/sim/ui/setup", get(setup))
        .route("/sim/ui/poll", get(poll))
        .route("/sim/ui/send", post(send))
        .route("/sim/ui/image", post(image))
        .route("/sim/ui/menu", post(menu))
        .route("/sim/ui/tap", post(tap))
        .route("/sim/ui/leave", post(leave))
        .route("/sim/ui/clock", post(clock_jump))
}

fn page(content_type: &str, body: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                format!("{content_type}; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

fn bad_request(why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"ok": false, "error": why})),
    )
        .into_response()
}

/// A member as the console lists them.
#[derive(Serialize)]
struct Member {
    userid: String,
    name: String,
    units: String,
    /// `propaganda`, `leader` or `staff`.
    group: &'static str,
}

/// Who can be chosen (grouped), and the app menu.
async fn setup(State(sim): State<Arc<Shared>>) -> Json<Value> {
    let dir = &sim.directory;
    let people: Vec<Member> = dir
        .people
        .iter()
        .map(|p| {
            let group = if sim
                .propaganda
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&p.userid))
            {
                "propaganda"
            } else if dir.units.iter().any(|u| u.leaders.contains(&p.userid)) {
                "leader"
            } else {
                "staff"
            };
            let units: Vec<String> = dir
                .units_of(&p.userid)
                .into_iter()
                .map(|u| u.name)
                .collect();
            Member {
                userid: p.userid.clone(),
                name: p.name.clone(),
                units: units.join("、"),
                group,
            }
        })
        .collect();
    let propaganda_unit = sim
        .propaganda
        .first()
        .and_then(|u| dir.units_of(u).into_iter().next())
        .map_or_else(|| "宣传部门".to_owned(), |u| u.name);
    Json(json!({
        "people": people,
        "groups": [
            {"id": "staff", "label": "员工"},
            {"id": "leader", "label": "单位负责人"},
            {"id": "propaganda", "label": propaganda_unit},
        ],
        "menu": sim.menu,
    }))
}

#[derive(Deserialize)]
struct Who {
    user: Option<String>,
}

/// Everything the page shows: the clock, the chosen member's chat, the group chats and how many
/// lines each member's chat holds (for the unread badges).
async fn poll(State(sim): State<Arc<Shared>>, Query(who): Query<Who>) -> Json<Value> {
    let world = sim.world();
    let inbox: &[Msg] = who.user.as_deref().map_or(&[], |u| world.inbox(u));
    let counts: BTreeMap<&str, usize> = world
        .inboxes
        .iter()
        .map(|(user, msgs)| {
            (
                user.as_str(),
                msgs.iter().filter(|m| m.from == From::Bot).count(),
            )
        })
        .collect();
    let chats: Vec<_> = world.chats.values().collect();
    Json(json!({
        "now_ms": sim.clock.now_ms(),
        "offset_ms": sim.clock.offset_ms(),
        "inbox": inbox,
        "chats": chats,
        "counts": counts,
    }))
}

#[derive(Deserialize)]
struct SendText {
    user: String,
    text: String,
}

#[derive(Deserialize)]
struct MenuClick {
    user: String,
    key: String,
}

#[derive(Deserialize)]
struct Tap {
    user: String,
    /// The id of the card's line in the member's chat.
    msg: u64,
    key: String,
}

impl Shared {
    fn known(&self, user: &str) -> bool {
        self.directory.person(user).is_some()
    }

    fn note(&self, user: &str, from: From, msgtype: &str, content: String) {
        let mut world = self.world();
        let line = world.line(from, msgtype, content, self.clock.now_ms());
        world.push_inbox(user, line);
    }

    /// Posts the callback; a refusal shows up in the chat as a note and in the answer.
    async fn deliver(&self, user: &str, action: Action<'_>) -> Response {
        match self.callback(user, action).await {
            Ok(()) => Json(json!({"ok": true})).into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "simulated callback failed");
                self.note(user, From::Note, "note", format!("发送失败：{e}"));
                (
                    StatusCode::BAD_GATEWAY,
                    Json(json!({"ok": false, "error": e})),
                )
                    .into_response()
            }
        }
    }
}

async fn send(State(sim): State<Arc<Shared>>, Json(req): Json<SendText>) -> Response {
    let text = req.text.trim();
    if !sim.known(&req.user) || text.is_empty() {
        return bad_request("unknown user or empty text");
    }
    sim.note(&req.user, From::Me, "text", text.to_owned());
    sim.deliver(&req.user, Action::Text { content: text }).await
}

/// An image the console user picked (base64), sent to the bot as WeCom's image message.
#[derive(Deserialize)]
struct SendImage {
    user: String,
    name: String,
    base64: String,
}

/// The largest image the console sends (WeCom's own limit for an image message).
const MAX_IMAGE: usize = 10 * 1024 * 1024;

async fn image(State(sim): State<Arc<Shared>>, Json(req): Json<SendImage>) -> Response {
    use base64::Engine;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(req.base64.trim()) else {
        return bad_request("the image is not base64");
    };
    if !sim.known(&req.user) || bytes.is_empty() || bytes.len() > MAX_IMAGE {
        return bad_request("unknown user, or an empty or too large image");
    }
    let name: String = req
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let media_id = {
        let mut world = sim.world();
        let id = world.opaque("sim-upload-");
        world.sent_media.insert(id.clone(), (name.clone(), bytes));
        id
    };
    sim.note(&req.user, From::Me, "image", name);
    sim.deliver(
        &req.user,
        Action::Image {
            media_id: &media_id,
        },
    )
    .await
}

async fn menu(State(sim): State<Arc<Shared>>, Json(req): Json<MenuClick>) -> Response {
    let Some(item) = sim.menu.iter().find(|m| m.key == req.key) else {
        return bad_request("unknown menu key");
    };
    if !sim.known(&req.user) {
        return bad_request("unknown user");
    }
    sim.note(
        &req.user,
        From::Note,
        "note",
        format!("点击了菜单「{}」", item.label),
    );
    sim.deliver(&req.user, Action::MenuClick { key: &req.key })
        .await
}

#[derive(Deserialize)]
struct Leave {
    user: String,
}

/// The member leaves the company: WeCom's contacts-change callback, from `sys`.
async fn leave(State(sim): State<Arc<Shared>>, Json(req): Json<Leave>) -> Response {
    if !sim.known(&req.user) {
        return bad_request("unknown user");
    }
    sim.note(
        &req.user,
        From::Note,
        "note",
        "（模拟）已从通讯录删除：离职".to_owned(),
    );
    sim.deliver("sys", Action::MemberLeft { userid: &req.user })
        .await
}

async fn tap(State(sim): State<Arc<Shared>>, Json(req): Json<Tap>) -> Response {
    let found = {
        let mut world = sim.world();
        let card = world
            .inbox(&req.user)
            .iter()
            .find(|m| m.id == req.msg && m.replaced.is_none())
            .and_then(|m| m.card.clone());
        card.and_then(|card| {
            let task_id = card["task_id"].as_str()?.to_owned();
            let card_type = card["card_type"].as_str()?.to_owned();
            let button = card["button_list"]
                .as_array()?
                .iter()
                .find(|b| b["key"].as_str() == Some(req.key.as_str()))?;
            let label = button["text"].as_str().unwrap_or("").to_owned();
            let code = world.response_code(&task_id);
            Some((task_id, card_type, label, code))
        })
    };
    let Some((task_id, card_type, label, response_code)) = found else {
        return bad_request("no such card or button, or the card is finished");
    };
    sim.note(&req.user, From::Note, "note", format!("点击了「{label}」"));
    let action = Action::CardButton {
        key: &req.key,
        task_id: &task_id,
        card_type: &card_type,
        response_code: &response_code,
    };
    sim.deliver(&req.user, action).await
}

#[derive(Deserialize)]
struct ClockJump {
    #[serde(default)]
    advance_ms: i64,
    #[serde(default)]
    reset: bool,
}

/// Moves the bot's clock ahead (or back to the real time with `reset`).
async fn clock_jump(State(sim): State<Arc<Shared>>, Json(req): Json<ClockJump>) -> Json<Value> {
    let offset = if req.reset {
        0
    } else {
        sim.clock.offset_ms().saturating_add(req.advance_ms.max(0))
    };
    sim.clock.set_offset_ms(offset);
    tracing::info!(offset_ms = offset, "simulated clock moved");
    Json(json!({"ok": true, "now_ms": sim.clock.now_ms(), "offset_ms": offset}))
}
