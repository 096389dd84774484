//! A fake of WeCom's API side (gettoken, message/send, update_template_card, appchat/send,
//! webhook/send, media/upload of files and images (kept, so a test can read a sent file back),
//! media/get of what a test says a member sent (`put_media`), appchat/create and appchat/update
//! (the chats' members are kept, see [`FakeWeCom::chat`]), auth/getuserinfo of the web sign-in
//! (a code from [`FakeWeCom::sign_in_code`] names its member once; then 40029), and the
//! contacts calls user/get,
//! department/get, department/list,
//! user/simplelist over a small company) on 127.0.0.1:0 that records every request and answers
//! like WeCom: tokens are checked (unknown → 40014, missing → 41001, expired → 42001), a wrong
//! secret gets 40001, and failures (or any answer) can be injected per path.
//!
//! Like WeCom, an interactive card's `task_id` is accepted once (a second send: 42014), and an
//! app message sent with `enable_duplicate_check` is answered errcode 0 but not delivered when
//! the same message (type, content, recipients) was delivered within its
//! `duplicate_check_interval` (default 1800 s). Calls can be made slow (`slow_next`): handled,
//! then answered late, so that a client with a shorter timeout never learns they succeeded.
//! Any call can be answered with a bare HTTP error status instead (`fail_http_next`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::routing::{get, post};
use serde_json::{Value, json};

/// One request the fake received, and the errcode it answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path without its query, e.g. `/cgi-bin/message/send`.
    pub path: String,
    pub query: HashMap<String, String>,
    /// The JSON body (`Null` for GET or a body that is not JSON).
    pub body: Value,
    pub at: Instant,
    pub errcode: i64,
    /// Whether a message was delivered (false for an error, or a duplicate WeCom dropped).
    pub delivered: bool,
    /// How long after `at` its answer was due (`slow_next`; zero: at once).
    pub answered_after: Duration,
}

/// The fake WeCom API server; clones share it. It stops when the test's runtime ends.
#[derive(Clone)]
pub struct FakeWeCom {
    base_url: String,
    state: Arc<Mutex<Inner>>,
}

struct Inner {
    corp_id: String,
    secret: String,
    /// The token gettoken hands out; `None` until the first gettoken or after `expire_token`.
    current: Option<String>,
    expired: Vec<String>,
    issued: u64,
    sequence: u64,
    /// Path suffix → (injected answer, times left).
    injected: Vec<(String, Value, u32)>,
    requests: Vec<Recorded>,
    /// Uploaded files: media id → (file name, bytes).
    media: HashMap<String, (String, Vec<u8>)>,
    /// What members sent, served by media/get: media id → (file name, content type, bytes).
    sent_media: HashMap<String, (String, String, Vec<u8>)>,
    /// App group chats created: chat id → the chat as WeCom keeps it.
    chats: HashMap<String, Chat>,
    /// Task ids of the interactive cards sent.
    task_ids: std::collections::HashSet<String>,
    /// Path suffix, recipient (any when `None`) → (delay before answering, times left).
    slow: Vec<(String, Option<String>, Duration, u32)>,
    /// Path suffix → (HTTP status answered without handling the call, times left).
    http_failures: Vec<(String, u16, u32)>,
    /// `message/send` calls being answered now, the most at once, and how often a call came
    /// for a recipient with a call still being answered.
    in_flight: Vec<String>,
    max_in_flight: usize,
    overlaps: usize,
    /// Web sign-in codes not yet used: code → userid.
    sign_in_codes: HashMap<String, String>,
}

/// An app group chat the fake keeps (`appchat/create`, `appchat/update`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub name: String,
    pub owner: String,
    /// Members in the order they joined.
    pub members: Vec<String>,
}

type Shared = Arc<Mutex<Inner>>;

impl FakeWeCom {
    /// Starts the fake for one app of corp `corp_id` whose secret is `secret`.
    pub async fn start(corp_id: &str, secret: &str) -> FakeWeCom {
        let state = Arc::new(Mutex::new(Inner {
            corp_id: corp_id.to_owned(),
            secret: secret.to_owned(),
            current: None,
            expired: Vec::new(),
            issued: 0,
            sequence: 0,
            injected: Vec::new(),
            requests: Vec::new(),
            media: HashMap::new(),
            sent_media: HashMap::new(),
            chats: HashMap::new(),
            task_ids: Default::default(),
            slow: Vec::new(),
            http_failures: Vec::new(),
            in_flight: Vec::new(),
            max_in_flight: 0,
            overlaps: 0,
            sign_in_codes: HashMap::new(),
        }));
        let app = Router::new()
            .route("/cgi-bin/gettoken", get(gettoken))
            .route("/cgi-bin/message/send", post(api_call))
            .route("/cgi-bin/message/update_template_card", post(api_call))
            .route("/cgi-bin/appchat/send", post(api_call))
            .route("/cgi-bin/appchat/create", post(api_call))
            .route("/cgi-bin/appchat/update", post(api_call))
            .route("/cgi-bin/webhook/send", post(api_call))
            .route("/cgi-bin/media/upload", post(media_upload))
            .route("/cgi-bin/media/get", get(media_get))
            .route("/cgi-bin/auth/getuserinfo", get(getuserinfo))
            .route("/cgi-bin/user/get", get(contacts_call))
            .route("/cgi-bin/department/get", get(contacts_call))
            .route("/cgi-bin/department/list", get(contacts_call))
            .route("/cgi-bin/user/simplelist", get(contacts_call))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                http_failure,
            ))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake WeCom");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake WeCom serves");
        });
        FakeWeCom {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// `http://127.0.0.1:<port>`: the client's API base.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Requests whose path ends with `suffix`.
    pub fn requests_to(&self, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }

    /// Bodies of the `message/send` calls to `user` that delivered a message, in arrival order.
    pub fn sent_to(&self, user: &str) -> Vec<Value> {
        self.accepted("/cgi-bin/message/send")
            .filter(|r| {
                r.body["touser"]
                    .as_str()
                    .is_some_and(|to| to.split('|').any(|u| u == user || u == "@all"))
            })
            .map(|r| r.body)
            .collect()
    }

    /// The files sent to `user` (`message/send` of a `file` whose media was uploaded here),
    /// in arrival order: name and bytes.
    pub fn files_sent_to(&self, user: &str) -> Vec<(String, Vec<u8>)> {
        let sent = self.sent_to(user);
        let inner = self.lock();
        sent.iter()
            .filter(|m| m["msgtype"] == "file")
            .filter_map(|m| inner.media.get(m["file"]["media_id"].as_str()?).cloned())
            .collect()
    }

    /// The images and files sent to `user` (`message/send` of an `image` or `file` whose media
    /// was uploaded here), in arrival order: message type, name and bytes.
    pub fn media_sent_to(&self, user: &str) -> Vec<(String, String, Vec<u8>)> {
        let sent = self.sent_to(user);
        let inner = self.lock();
        sent.iter()
            .filter_map(|m| {
                let kind = m["msgtype"].as_str()?;
                let id = m[kind]["media_id"].as_str()?;
                let (name, bytes) = inner.media.get(id)?.clone();
                Some((kind.to_owned(), name, bytes))
            })
            .collect()
    }

    /// A one-time web sign-in code for `userid`, as WeCom hands it to the browser.
    pub fn sign_in_code(&self, userid: &str) -> String {
        let mut inner = self.lock();
        inner.sequence += 1;
        let code = format!("fake-code-{}-{:08x}", inner.sequence, rand::random::<u32>());
        inner.sign_in_codes.insert(code.clone(), userid.to_owned());
        code
    }

    /// Makes `media_id` a media a member sent: media/get answers `bytes` as `content_type`,
    /// named `name`.
    pub fn put_media(&self, media_id: &str, name: &str, content_type: &str, bytes: &[u8]) {
        self.lock().sent_media.insert(
            media_id.to_owned(),
            (name.to_owned(), content_type.to_owned(), bytes.to_vec()),
        );
    }

    /// Bodies of the accepted `webhook/send` calls of robot `key`, in arrival order.
    pub fn robot_messages(&self, key: &str) -> Vec<Value> {
        self.accepted("/cgi-bin/webhook/send")
            .filter(|r| r.query.get("key").map(String::as_str) == Some(key))
            .map(|r| r.body)
            .collect()
    }

    /// Bodies of the accepted calls to the path ending with `suffix`, in arrival order.
    pub fn accepted_bodies(&self, suffix: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.errcode == 0 && r.path.ends_with(suffix))
            .map(|r| r.body)
            .collect()
    }

    /// The app group chat `chat_id` as created and updated so far.
    pub fn chat(&self, chat_id: &str) -> Option<Chat> {
        self.lock().chats.get(chat_id).cloned()
    }

    pub fn gettoken_calls(&self) -> usize {
        self.requests_to("/cgi-bin/gettoken").len()
    }

    /// The current token starts answering 42001; the next gettoken issues a new one.
    pub fn expire_token(&self) {
        let mut inner = self.lock();
        if let Some(token) = inner.current.take() {
            inner.expired.push(token);
        }
    }

    /// The next `times` calls to a path ending with `path_suffix` answer `errcode`.
    pub fn fail_next(&self, path_suffix: &str, errcode: i64, times: u32) {
        self.answer_next(path_suffix, error(errcode, "injected failure").0, times);
    }

    /// Ends every injected answer and HTTP failure for paths ending with `path_suffix` (the
    /// API is back).
    pub fn heal(&self, path_suffix: &str) {
        let mut inner = self.lock();
        inner.injected.retain(|(p, _, _)| p != path_suffix);
        inner.http_failures.retain(|(p, _, _)| p != path_suffix);
    }

    /// The next `times` calls to a path ending with `path_suffix` (`""`: every path) are
    /// answered with the bare HTTP `status` (e.g. 500), not handled; recorded with errcode
    /// `-status`.
    pub fn fail_http_next(&self, path_suffix: &str, status: u16, times: u32) {
        self.lock()
            .http_failures
            .push((path_suffix.to_owned(), status, times));
    }

    /// The next `times` calls to a path ending with `path_suffix` answer `answer` as it is
    /// (recorded with its errcode, or -2 when it has none).
    pub fn answer_next(&self, path_suffix: &str, answer: Value, times: u32) {
        self.lock()
            .injected
            .push((path_suffix.to_owned(), answer, times));
    }

    /// The next `times` calls to a path ending with `path_suffix` are handled as usual, then
    /// answered only after `delay`.
    pub fn slow_next(&self, path_suffix: &str, delay: Duration, times: u32) {
        self.lock()
            .slow
            .push((path_suffix.to_owned(), None, delay, times));
    }

    /// Like [`FakeWeCom::slow_next`], for calls whose `touser` is `user` only.
    pub fn slow_next_to(&self, path_suffix: &str, user: &str, delay: Duration, times: u32) {
        self.lock()
            .slow
            .push((path_suffix.to_owned(), Some(user.to_owned()), delay, times));
    }

    /// The most `message/send` calls that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// How many `message/send` calls came for a recipient while a call for it was still being
    /// answered (a sender keeping per-recipient order never does that).
    pub fn overlapping_calls(&self) -> usize {
        self.lock().overlaps
    }

    /// Polls `pred` every 10 ms until it holds (`true`) or `timeout` passes (`false`).
    pub async fn wait_until(&self, pred: impl Fn(&FakeWeCom) -> bool, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn accepted(&self, path: &str) -> impl Iterator<Item = Recorded> {
        let path = path.to_owned();
        self.requests()
            .into_iter()
            .filter(move |r| r.errcode == 0 && r.delivered && r.path == path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.state.lock().expect("fake WeCom state")
    }
}

impl Inner {
    /// An injected answer for `path`, with its errcode.
    fn injected(&mut self, path: &str) -> Option<(i64, Json<Value>)> {
        let slot = self
            .injected
            .iter_mut()
            .find(|(suffix, _, left)| *left > 0 && path.ends_with(suffix.as_str()))?;
        slot.2 -= 1;
        let answer = slot.1.clone();
        Some((answer["errcode"].as_i64().unwrap_or(-2), Json(answer)))
    }

    /// WeCom's answer to an app call that carries `token` when the token is not valid.
    fn rejected_token(&self, token: &str) -> Option<(i64, Json<Value>)> {
        if token.is_empty() {
            Some((41001, error(41001, "access_token missing")))
        } else if self.expired.iter().any(|t| t == token) {
            Some((42001, error(42001, "access_token expired")))
        } else if self.current.as_deref() != Some(token) {
            Some((40014, error(40014, "invalid access_token")))
        } else {
            None
        }
    }

    /// `appchat/create` keeps a new chat (a chat id in use: 86215); `appchat/update` changes the
    /// members of a known chat (an unknown one: 86003). `None`: done, or not a chat call.
    fn change_chat(&mut self, path: &str, body: &Value) -> Option<(i64, Json<Value>)> {
        let list = |key: &str| -> Vec<String> {
            body[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        };
        let chat_id = body["chatid"].as_str().unwrap_or_default().to_owned();
        if path.ends_with("/appchat/create") {
            if self.chats.contains_key(&chat_id) {
                return Some((86215, error(86215, "chatid already exists")));
            }
            let chat = Chat {
                name: body["name"].as_str().unwrap_or_default().to_owned(),
                owner: body["owner"].as_str().unwrap_or_default().to_owned(),
                members: list("userlist"),
            };
            self.chats.insert(chat_id, chat);
        } else if path.ends_with("/appchat/update") {
            let Some(chat) = self.chats.get_mut(&chat_id) else {
                return Some((86003, error(86003, "chat not found")));
            };
            let remove = list("del_user_list");
            chat.members.retain(|m| !remove.contains(m));
            for member in list("add_user_list") {
                if !chat.members.contains(&member) {
                    chat.members.push(member);
                }
            }
        }
        None
    }

    fn record(&mut self, path: &str, query: HashMap<String, String>, body: Value, errcode: i64) {
        self.requests.push(Recorded {
            path: path.to_owned(),
            query,
            body,
            at: Instant::now(),
            errcode,
            delivered: errcode == 0,
            answered_after: Duration::ZERO,
        });
    }

    /// How long to hold the answer to a call of `path` (see [`FakeWeCom::slow_next`]).
    fn slow(&mut self, path: &str, touser: &str) -> Option<Duration> {
        let slot = self.slow.iter_mut().find(|(suffix, user, _, left)| {
            *left > 0
                && path.ends_with(suffix.as_str())
                && user.as_ref().is_none_or(|u| u == touser)
        })?;
        slot.3 -= 1;
        Some(slot.2)
    }

    /// A card whose task id was used before: 42014, as WeCom answers.
    fn reused_task_id(&mut self, body: &Value) -> Option<(i64, Json<Value>)> {
        let card = &body["template_card"];
        if !card["card_type"]
            .as_str()
            .is_some_and(|t| t.ends_with("_interaction"))
        {
            return None;
        }
        let task_id = card["task_id"].as_str().unwrap_or_default();
        if task_id.is_empty() || !self.task_ids.insert(task_id.to_owned()) {
            return Some((
                42014,
                error(42014, "taskid has existed or empty or exceed max len"),
            ));
        }
        None
    }

    /// Whether an app message asking for the duplicate check repeats one delivered within its
    /// interval: the same type, content and recipients (WeCom: "the same content").
    fn is_duplicate(&self, body: &Value) -> bool {
        if body["enable_duplicate_check"].as_i64() != Some(1) {
            return false;
        }
        let interval =
            Duration::from_secs(body["duplicate_check_interval"].as_u64().unwrap_or(1800));
        let message = |b: &Value| {
            let kind = b["msgtype"].as_str().unwrap_or_default().to_owned();
            (b["touser"].clone(), b[&kind].clone(), kind)
        };
        let this = message(body);
        self.requests.iter().any(|r| {
            r.delivered
                && r.path.ends_with("/message/send")
                && r.at.elapsed() <= interval
                && message(&r.body) == this
        })
    }
}

fn error(errcode: i64, errmsg: &str) -> Json<Value> {
    Json(json!({
        "errcode": errcode,
        "errmsg": format!("{errmsg}, hint: [fake], more info at \
                           https://open.work.weixin.qq.com/devtool/query?e={errcode}"),
    }))
}

async fn gettoken(
    State(state): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let mut inner = state.lock().expect("fake WeCom state");
    let path = uri.path().to_owned();
    let (errcode, answer) = if let Some(injected) = inner.injected(&path) {
        injected
    } else if query.get("corpid") != Some(&inner.corp_id) {
        (40013, error(40013, "invalid corpid"))
    } else if query.get("corpsecret") != Some(&inner.secret) {
        (40001, error(40001, "invalid secret"))
    } else {
        if inner.current.is_none() {
            inner.issued += 1;
            inner.current = Some(format!("fake-token-{}", inner.issued));
        }
        let token = inner.current.clone().expect("token issued");
        (
            0,
            Json(json!({"errcode":0,"errmsg":"ok","access_token":token,"expires_in":7200})),
        )
    };
    inner.record(&path, query, Value::Null, errcode);
    answer
}

async fn api_call(
    State(state): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Json<Value> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_owned();
    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
    let (answer, delay, _in_flight) = {
        let mut inner = state.lock().expect("fake WeCom state");
        let answer = answer_call(&mut inner, &path, query, body);
        let delay = inner.slow(&path, &touser);
        if let (Some(delay), Some(last)) = (delay, inner.requests.last_mut()) {
            last.answered_after = delay;
        }
        let in_flight = path.ends_with("/message/send").then(|| {
            if inner.in_flight.contains(&touser) {
                inner.overlaps += 1;
            }
            inner.in_flight.push(touser.clone());
            inner.max_in_flight = inner.max_in_flight.max(inner.in_flight.len());
            InFlight {
                state: state.clone(),
                touser,
            }
        });
        (answer, delay, in_flight)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    answer
}

/// Answers a call with an injected HTTP status (see [`FakeWeCom::fail_http_next`]), or hands it
/// to its handler.
async fn http_failure(
    State(state): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path().to_owned();
    let status = {
        let mut inner = state.lock().expect("fake WeCom state");
        let slot = inner
            .http_failures
            .iter_mut()
            .find(|(suffix, _, left)| *left > 0 && path.ends_with(suffix.as_str()));
        let status = slot.map(|slot| {
            slot.2 -= 1;
            slot.1
        });
        if let Some(status) = status {
            inner.record(&path, HashMap::new(), Value::Null, -i64::from(status));
        }
        status
    };
    match status {
        Some(status) => {
            let status = axum::http::StatusCode::from_u16(status).expect("an HTTP status");
            (status, "injected failure").into_response()
        }
        None => next.run(request).await,
    }
}

/// A `message/send` call being answered; no longer counted once answered (or abandoned).
struct InFlight {
    state: Shared,
    touser: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut inner = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = inner.in_flight.iter().position(|u| *u == self.touser) {
            inner.in_flight.remove(at);
        }
    }
}

/// Handles one API call under the lock and records it.
fn answer_call(
    inner: &mut Inner,
    path: &str,
    query: HashMap<String, String>,
    body: Value,
) -> Json<Value> {
    let robot = path.ends_with("/webhook/send");
    let token = query.get("access_token").cloned().unwrap_or_default();
    let mut duplicate = false;
    let (errcode, answer) = if let Some(injected) = inner.injected(path) {
        injected
    } else if robot && query.get("key").is_none_or(|k| k.is_empty()) {
        (93000, error(93000, "invalid webhook url"))
    } else if let Some(rejected) = (!robot).then(|| inner.rejected_token(&token)).flatten() {
        rejected
    } else if let Some(problem) = invalid_body(path, &body) {
        (40035, error(40035, problem))
    } else if let Some(refused) = inner.change_chat(path, &body) {
        refused
    } else if let Some(reused) = path
        .ends_with("/message/send")
        .then(|| inner.reused_task_id(&body))
        .flatten()
    {
        reused
    } else {
        inner.sequence += 1;
        let mut ok = json!({"errcode": 0, "errmsg": "ok"});
        if path.ends_with("/message/send") {
            duplicate = inner.is_duplicate(&body);
            ok["invaliduser"] = json!("");
            ok["msgid"] = json!(format!("fake-msgid-{}", inner.sequence));
            let card_type = body["template_card"]["card_type"].as_str().unwrap_or("");
            if card_type.ends_with("_interaction") {
                ok["response_code"] = json!(format!("fake-response-code-{}", inner.sequence));
            }
        }
        (0, Json(ok))
    };
    inner.record(path, query, body, errcode);
    if duplicate && let Some(last) = inner.requests.last_mut() {
        last.delivered = false;
    }
    answer
}

/// `media/upload?type=file`: one multipart part named `media` with a file name; recorded with
/// the file's name and size as its body, and kept under a fresh media id.
async fn media_upload(
    State(state): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    let mut inner = state.lock().expect("fake WeCom state");
    let path = uri.path().to_owned();
    let token = query.get("access_token").cloned().unwrap_or_default();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let file = flowbot::runtime::sim::multipart_file(content_type, &body);
    let recorded = file.as_ref().map_or(
        Value::Null,
        |(name, bytes)| json!({"filename": name, "size": bytes.len()}),
    );
    let (errcode, answer) = if let Some(injected) = inner.injected(&path) {
        injected
    } else if let Some(rejected) = inner.rejected_token(&token) {
        rejected
    } else if !matches!(
        query.get("type").map(String::as_str),
        Some("file" | "image")
    ) {
        (40004, error(40004, "invalid media type"))
    } else if let Some((name, bytes)) = file {
        inner.sequence += 1;
        let media_id = format!("fake-media-{}", inner.sequence);
        inner.media.insert(media_id.clone(), (name, bytes));
        let ok = json!({"errcode": 0, "errmsg": "ok", "type": query["type"], "media_id": media_id,
                        "created_at": "1780000000"});
        (0, Json(ok))
    } else {
        (41005, error(41005, "media data missing"))
    };
    inner.record(&path, query, recorded, errcode);
    answer
}

/// `media/get`: the bytes of a media a member sent (`put_media`) with its content type and file
/// name; an unknown id gets 40007 as JSON, like WeCom. Recorded with the media id as its body.
async fn media_get(
    State(state): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut inner = state.lock().expect("fake WeCom state");
    let path = uri.path().to_owned();
    let token = query.get("access_token").cloned().unwrap_or_default();
    let id = query.get("media_id").cloned().unwrap_or_default();
    let recorded = json!({"media_id": id});
    let (errcode, answer) = if let Some(injected) = inner.injected(&path) {
        injected
    } else if let Some(rejected) = inner.rejected_token(&token) {
        rejected
    } else if let Some((name, content_type, bytes)) = inner.sent_media.get(&id).cloned() {
        inner.record(&path, query, recorded, 0);
        let headers = [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ];
        return (headers, bytes).into_response();
    } else {
        (40007, error(40007, "invalid media_id"))
    };
    inner.record(&path, query, recorded, errcode);
    answer.into_response()
}

/// What WeCom would reject as invalid arguments, in the fake's simplified view.
fn invalid_body(path: &str, body: &Value) -> Option<&'static str> {
    let msgtype = body["msgtype"].as_str().unwrap_or("");
    let has_content = !msgtype.is_empty() && body[msgtype].is_object();
    if path.ends_with("/message/send") {
        if body["touser"].as_str().is_none_or(str::is_empty) {
            return Some("touser missing");
        }
        if !body["agentid"].is_i64() {
            return Some("agentid missing");
        }
        (!has_content).then_some("msgtype or its content missing")
    } else if path.ends_with("/update_template_card") {
        if !body["agentid"].is_i64() || body["response_code"].as_str().is_none_or(str::is_empty) {
            return Some("agentid or response_code missing");
        }
        (!body["button"]["replace_name"].is_string() && !body["template_card"].is_object())
            .then_some("button.replace_name or template_card missing")
    } else if path.ends_with("/appchat/send") {
        if body["chatid"].as_str().is_none_or(str::is_empty) {
            return Some("chatid missing");
        }
        (!has_content).then_some("msgtype or its content missing")
    } else if path.ends_with("/appchat/create") {
        let members = body["userlist"].as_array().map_or(0, Vec::len);
        (body["chatid"].as_str().is_none_or(str::is_empty) || !(2..=2000).contains(&members))
            .then_some("chatid or userlist (2 to 2000 members) missing")
    } else if path.ends_with("/appchat/update") {
        body["chatid"]
            .as_str()
            .is_none_or(str::is_empty)
            .then_some("chatid missing")
    } else {
        (!has_content).then_some("msgtype or its content missing")
    }
}

/// The fake company's units: WeCom department id, name, leaders. 1 is the root.
const DEPARTMENTS: &[(u64, &str, &[&str])] = &[
    (1, "测试公司", &[]),
    (2, "团委", &["liuyang"]),
    (3, "党委宣传部", &["chenjing"]),
];

/// The fake company's members: userid, name, department ids. 赵六 belongs to no unit.
const USERS: &[(&str, &str, &[u64])] = &[
    ("liuyang", "刘洋", &[2]),
    ("zhangsan", "张三", &[2]),
    ("chenjing", "陈静", &[3]),
    ("zhaoliu", "赵六", &[]),
];

fn department(id: u64) -> Option<Value> {
    let (id, name, leaders) = DEPARTMENTS.iter().find(|d| d.0 == id)?;
    let parentid = if *id == 1 { 0 } else { 1 };
    Some(json!({"id": id, "name": name, "parentid": parentid, "department_leader": leaders}))
}

fn user(userid: &str) -> Option<Value> {
    let (userid, name, department) = USERS.iter().find(|u| u.0 == userid)?;
    Some(json!({"userid": userid, "name": name, "department": department}))
}

/// The contacts calls over [`DEPARTMENTS`] and [`USERS`], with WeCom's token checks.
async fn contacts_call(
    State(state): State<Shared>,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let mut inner = state.lock().expect("fake WeCom state");
    let path = uri.path().to_owned();
    let token = query.get("access_token").cloned().unwrap_or_default();
    let ok = |mut answer: Value| {
        answer["errcode"] = json!(0);
        answer["errmsg"] = json!("ok");
        (0, Json(answer))
    };
    let (errcode, answer) = if let Some(injected) = inner.injected(&path) {
        injected
    } else if let Some(rejected) = inner.rejected_token(&token) {
        rejected
    } else if path.ends_with("/user/get") {
        match user(query.get("userid").map_or("", String::as_str)) {
            Some(user) => ok(user),
            None => (60111, error(60111, "userid not found")),
        }
    } else if path.ends_with("/department/get") {
        match query
            .get("id")
            .and_then(|id| id.parse().ok())
            .and_then(department)
        {
            Some(d) => ok(json!({"department": d})),
            None => (60123, error(60123, "invalid party id")),
        }
    } else if path.ends_with("/department/list") {
        let all: Vec<Value> = DEPARTMENTS.iter().filter_map(|d| department(d.0)).collect();
        ok(json!({"department": all}))
    } else {
        let all: Vec<Value> = USERS.iter().filter_map(|u| user(u.0)).collect();
        ok(json!({"userlist": all}))
    };
    inner.record(&path, query, Value::Null, errcode);
    answer
}

/// `auth/getuserinfo`: a sign-in code names its member once (then 40029, like WeCom).
async fn getuserinfo(
    State(state): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    let mut inner = state.lock().expect("fake WeCom state");
    let path = "/cgi-bin/auth/getuserinfo";
    let token = query.get("access_token").cloned().unwrap_or_default();
    let code = query.get("code").cloned().unwrap_or_default();
    let (errcode, answer) = if let Some(injected) = inner.injected(path) {
        injected
    } else if let Some(rejected) = inner.rejected_token(&token) {
        rejected
    } else if let Some(userid) = inner.sign_in_codes.remove(&code) {
        (
            0,
            Json(json!({"errcode": 0, "errmsg": "ok", "userid": userid})),
        )
    } else {
        (40029, error(40029, "invalid code"))
    };
    inner.record(path, query, Value::Null, errcode);
    answer
}
