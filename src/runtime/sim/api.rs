//! WeCom's message API as the simulator plays it: `gettoken`, `message/send` (text, markdown,
//! cards and files), `message/update_template_card`, `appchat/send`, the group robot's
//! `webhook/send`, `media/upload` of files and images, `media/get` of what members sent and
//! `appchat/create`/`appchat/update` (the work circle: the chat appears under its name, members
//! shown as lines of the chat). Answers and errcodes are WeCom's; accepted
//! messages land in the inboxes and group chats of [`super::state::World`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::state::{From, Msg, World, mentions_in};

type Params = Query<HashMap<String, String>>;

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/cgi-bin/gettoken", get(gettoken))
        .route("/cgi-bin/message/send", post(message_send))
        .route(
            "/cgi-bin/message/update_template_card",
            post(update_template_card),
        )
        .route("/cgi-bin/appchat/send", post(appchat_send))
        .route("/cgi-bin/appchat/create", post(appchat_members))
        .route("/cgi-bin/appchat/update", post(appchat_members))
        .route("/cgi-bin/webhook/send", post(webhook_send))
        .route("/cgi-bin/media/upload", post(media_upload))
        .route("/cgi-bin/media/get", get(media_get))
}

/// WeCom's error answer.
pub(super) fn error(errcode: i64, errmsg: &str) -> Json<Value> {
    Json(json!({
        "errcode": errcode,
        "errmsg": format!("{errmsg}, hint: [simulator], more info at \
                           https://open.work.weixin.qq.com/devtool/query?e={errcode}"),
    }))
}

fn ok() -> Value {
    json!({"errcode": 0, "errmsg": "ok"})
}

async fn gettoken(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    if q.get("corpid") != Some(&sim.corp_id) {
        return error(40013, "invalid corpid");
    }
    if q.get("corpsecret") != Some(&sim.secret) {
        return error(40001, "invalid secret");
    }
    let mut world = sim.world();
    let token = world.opaque("sim-token-");
    world.tokens.insert(token.clone());
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
}

/// The token check of every app API call (41001 missing, 40014 unknown).
pub(super) fn check_token(world: &World, q: &HashMap<String, String>) -> Result<(), Json<Value>> {
    match q.get("access_token").map(String::as_str) {
        None | Some("") => Err(error(41001, "access_token missing")),
        Some(t) if !world.tokens.contains(t) => Err(error(40014, "invalid access_token")),
        Some(_) => Ok(()),
    }
}

/// An app-message call: a valid token and the app's own agentid.
fn check_app_call(
    sim: &Shared,
    world: &World,
    q: &HashMap<String, String>,
    body: &Value,
) -> Result<(), Json<Value>> {
    check_token(world, q)?;
    if body["agentid"].as_i64() != Some(sim.agent_id) {
        return Err(error(40056, "invalid agentid"));
    }
    Ok(())
}

/// The message content of a body with `msgtype` text or markdown, as a chat line.
fn content_line(world: &mut World, body: &Value, now_ms: i64) -> Result<Msg, Json<Value>> {
    let msgtype = body["msgtype"].as_str().unwrap_or("");
    let content = body[msgtype]["content"].as_str();
    match (msgtype, content) {
        ("text" | "markdown", Some(content)) => {
            let mut msg = world.line(From::Bot, msgtype, content.to_owned(), now_ms);
            msg.mentions = mentions_in(content);
            Ok(msg)
        }
        ("text" | "markdown", None) => Err(error(41016, "content missing")),
        _ => Err(error(40008, "invalid message type")),
    }
}

async fn message_send(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut world = sim.world();
    if let Err(e) = check_app_call(&sim, &world, &q, &body) {
        return e;
    }
    let touser = body["touser"].as_str().unwrap_or("");
    if touser.is_empty() {
        return error(82001, "指定的成员/部门/标签全部为空");
    }
    let (valid, invalid): (Vec<String>, Vec<String>) = if touser == "@all" {
        let everyone = sim.directory.people.iter().map(|p| p.userid.clone());
        (everyone.collect(), Vec::new())
    } else {
        touser
            .split('|')
            .map(str::to_ascii_lowercase)
            .partition(|u| sim.directory.person(u).is_some())
    };
    if valid.is_empty() {
        return error(81013, "user & party & tag all invalid");
    }
    let msgtype = body["msgtype"].as_str().unwrap_or("");
    let mut answer = ok();
    let msg = if msgtype == "template_card" {
        let card = &body["template_card"];
        let card_type = card["card_type"].as_str().unwrap_or("");
        let task_id = card["task_id"].as_str().unwrap_or("");
        let interactive = card_type.ends_with("_interaction");
        if interactive {
            if !valid_task_id(task_id) || world.task_ids.contains(task_id) {
                return error(42014, "taskid has existed or empty or exceed max len");
            }
            if card["button_list"].as_array().is_none_or(Vec::is_empty) {
                return error(40035, "template_card.button_list missing");
            }
            world.task_ids.insert(task_id.to_owned());
            answer["response_code"] = json!(world.response_code(task_id));
        }
        let title = card["main_title"]["title"].as_str().unwrap_or("");
        let mut msg = world.line(From::Bot, msgtype, title.to_owned(), sim.clock.now_ms());
        msg.card = Some(card.clone());
        msg
    } else if msgtype == "file" || msgtype == "image" {
        let media_id = body[msgtype]["media_id"].as_str().unwrap_or("");
        let Some((name, _)) = world.media.get(media_id).cloned() else {
            return error(40007, "invalid media_id");
        };
        world.line(From::Bot, msgtype, name, sim.clock.now_ms())
    } else {
        match content_line(&mut world, &body, sim.clock.now_ms()) {
            Ok(msg) => msg,
            Err(e) => return e,
        }
    };
    for user in &valid {
        world.push_inbox(user, msg.clone());
    }
    answer["msgid"] = json!(world.opaque("sim-msg-"));
    answer["invaliduser"] = json!(invalid.join("|"));
    Json(answer)
}

/// `media/upload?type=file`: a file in the multipart field `media`; the world keeps its name and
/// size under a fresh media id (valid for `message/send` of a `file`).
async fn media_upload(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    let mut world = sim.world();
    if let Err(e) = check_token(&world, &q) {
        return e;
    }
    let kind = q.get("type").cloned().unwrap_or_default();
    if kind != "file" && kind != "image" {
        return error(40004, "invalid media type");
    }
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((name, bytes)) = multipart_file(content_type, &body) else {
        return error(41005, "media data missing");
    };
    let media_id = world.opaque("sim-media-");
    world.media.insert(media_id.clone(), (name, bytes.len()));
    let mut answer = ok();
    answer["type"] = json!(kind);
    answer["media_id"] = json!(media_id);
    answer["created_at"] = json!((sim.clock.now_ms() / 1000).to_string());
    Json(answer)
}

/// `media/get`: the bytes of an image a member sent from the console, with its name in
/// `Content-Disposition`; an unknown media id gets WeCom's JSON error.
async fn media_get(State(sim): State<Arc<Shared>>, Query(q): Params) -> axum::response::Response {
    use axum::response::IntoResponse;
    let world = sim.world();
    if let Err(e) = check_token(&world, &q) {
        return e.into_response();
    }
    let id = q.get("media_id").map(String::as_str).unwrap_or_default();
    let Some((name, bytes)) = world.sent_media.get(id).cloned() else {
        return error(40007, "invalid media_id").into_response();
    };
    let content_type = match name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
        Some(e) if e == "png" => "image/png",
        Some(e) if e == "jpg" || e == "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    let headers = [
        (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
        (axum::http::header::CONTENT_DISPOSITION, disposition),
    ];
    (headers, bytes).into_response()
}

/// The file name and bytes of the part named `media` of a `multipart/form-data` body, as
/// WeCom's `media/upload` reads it (also used by the tests' fake WeCom).
pub fn multipart_file(content_type: &str, body: &[u8]) -> Option<(String, Vec<u8>)> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let start = find(body, format!("--{boundary}\r\n").as_bytes(), 0)? + boundary.len() + 4;
    let head_end = find(body, b"\r\n\r\n", start)?;
    let head = String::from_utf8_lossy(&body[start..head_end]).into_owned();
    if !head.contains("name=\"media\"") {
        return None;
    }
    let name = head
        .split("filename=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_owned();
    let data = head_end + 4;
    let end = find(body, format!("\r\n--{boundary}").as_bytes(), data)?;
    Some((name, body[data..end].to_vec()))
}

/// WeCom's task id alphabet: digits, letters and `_ - @`, at most 128 bytes.
fn valid_task_id(task_id: &str) -> bool {
    !task_id.is_empty()
        && task_id.len() <= 128
        && task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-@".contains(&b))
}

async fn update_template_card(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut world = sim.world();
    if let Err(e) = check_app_call(&sim, &world, &q, &body) {
        return e;
    }
    let code = body["response_code"].as_str().unwrap_or("");
    // Single use: a code is spent by its first update.
    let Some(task_id) = world.response_codes.remove(code) else {
        return error(40035, "invalid response_code (unknown or already used)");
    };
    let atall = body["atall"].as_i64() == Some(1);
    let userids: Vec<String> = body["userids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !atall && userids.is_empty() {
        return error(40035, "userids, partyids, tagids or atall missing");
    }
    let replace_name = body["button"]["replace_name"].as_str().map(str::to_owned);
    let card = body.get("template_card").filter(|c| c.is_object()).cloned();
    if replace_name.is_none() && card.is_none() {
        return error(40035, "button.replace_name or template_card missing");
    }
    let targets = (!atall).then_some(userids.as_slice());
    for msg in world.cards_mut(&task_id, targets) {
        match &card {
            Some(card) => {
                msg.replaced = card["replace_text"].as_str().map(str::to_owned);
                msg.card = Some(card.clone());
            }
            None => msg.replaced = replace_name.clone(),
        }
    }
    Json(ok())
}

/// The token check and the chat id of an `appchat/*` call.
fn chat_call<'a>(
    world: &World,
    q: &HashMap<String, String>,
    body: &'a Value,
) -> Result<&'a str, Json<Value>> {
    check_token(world, q)?;
    body["chatid"]
        .as_str()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| error(86001, "chatid invalid"))
}

async fn appchat_send(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut world = sim.world();
    let chat_id = match chat_call(&world, &q, &body) {
        Ok(chat_id) => chat_id,
        Err(e) => return e,
    };
    let msg = match content_line(&mut world, &body, sim.clock.now_ms()) {
        Ok(msg) => msg,
        Err(e) => return e,
    };
    world.push_chat(
        &format!("appchat:{chat_id}"),
        &format!("群聊 {chat_id}"),
        msg,
    );
    Json(ok())
}

/// `appchat/create` and `appchat/update`: the chat (created under its name) gets a line saying
/// who joined and who left.
async fn appchat_members(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut world = sim.world();
    let chat_id = match chat_call(&world, &q, &body) {
        Ok(chat_id) => chat_id,
        Err(e) => return e,
    };
    let list = |key: &str| -> String {
        let names: Vec<&str> = body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        names.join(", ")
    };
    let created = body.get("userlist").is_some();
    let id = format!("appchat:{chat_id}");
    if !created && !world.chats.contains_key(&id) {
        return error(86003, "chat not found");
    }
    let content = if created {
        format!("+ {}", list("userlist"))
    } else {
        format!("+ {}  − {}", list("add_user_list"), list("del_user_list"))
    };
    let name = body["name"].as_str().unwrap_or(chat_id).to_owned();
    let msg = world.line(From::Note, "text", content, sim.clock.now_ms());
    world.push_chat(&id, &name, msg);
    Json(ok())
}

async fn webhook_send(
    State(sim): State<Arc<Shared>>,
    Query(q): Params,
    Json(body): Json<Value>,
) -> Json<Value> {
    let Some(key) = q.get("key").filter(|k| !k.is_empty()) else {
        return error(93000, "invalid webhook url");
    };
    let mut world = sim.world();
    let mut msg = match content_line(&mut world, &body, sim.clock.now_ms()) {
        Ok(msg) => msg,
        Err(e) => return e,
    };
    if let Some(list) = body["text"]["mentioned_list"].as_array() {
        msg.mentions
            .extend(list.iter().filter_map(|u| u.as_str().map(str::to_owned)));
    }
    // The key is the robot's only credential: the chat is named by a short hash of it.
    let id = robot_id(key);
    world.push_chat(&format!("robot:{id}"), &format!("群机器人 {id}"), msg);
    Json(ok())
}

fn robot_id(key: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(&Sha1::digest(key.as_bytes())[..3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_follow_wecom_rules() {
        assert!(valid_task_id("BA2026-0001_leader@1"));
        assert!(!valid_task_id(""));
        assert!(!valid_task_id("有中文"));
        assert!(!valid_task_id(&"a".repeat(129)));
    }
}
