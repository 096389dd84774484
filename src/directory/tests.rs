//! Directory sources: the static file with a role override, and the WeCom contacts API
//! against a small fake server (answers, errcodes, TTL cache).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::*;

fn roles() -> Roles {
    Roles::new(BTreeMap::from([(
        "propaganda".to_owned(),
        "xcb".to_owned(),
    )]))
}

fn demo(roles: Roles) -> StaticDirectory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts/directory.toml");
    StaticDirectory::load(&path, roles).expect("demo directory loads")
}

/// The demo company answers units, leaders and roles; a user in no unit has none.
#[tokio::test]
async fn static_directory_answers_from_the_file() {
    let d = demo(roles());
    let units = d.units_of("zhangwei").await.expect("units");
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["团委", "工会"]);
    assert!(d.units_of("zhaoliu").await.expect("units").is_empty());
    assert_eq!(d.leaders_of("tw").await.expect("leaders"), ["liuyang"]);
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing", "lina"]
    );
    assert!(d.role_members("nobody").await.expect("role").is_empty());
    assert_eq!(
        d.person("ZhangSan").await.expect("person").map(|p| p.name),
        Some("张三".into())
    );
}

/// The engine context for a user comes from the directory; an unknown user has no unit.
#[tokio::test]
async fn engine_context_is_built_from_the_directory() {
    let d = demo(roles());
    let ctx = engine_context(&d, "zhangwei").await.expect("context");
    assert_eq!(ctx.user.name, "张伟");
    assert_eq!(ctx.units.len(), 2);
    assert_eq!(ctx.propaganda, ["chenjing", "lina"]);
    assert!(ctx.case_number.is_none());
    let ghost = engine_context(&d, "ghost").await.expect("context");
    assert!(ghost.units.is_empty() && ghost.user.units.is_empty());
}

/// `FLOWBOT_PROPAGANDA_USERS` (parsed by the caller) replaces the role's members.
#[tokio::test]
async fn propaganda_override_replaces_the_role_members() {
    let users = Roles::parse_userids(" alice, bob ,,carol ");
    assert_eq!(users, ["alice", "bob", "carol"]);
    let d = demo(roles().with_override("propaganda", users));
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["alice", "bob", "carol"]
    );
    let d = demo(roles().with_override("propaganda", Vec::new()));
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing", "lina"]
    );
}

struct FixedToken;

#[async_trait]
impl TokenSource for FixedToken {
    async fn token(&self) -> Result<String, DirectoryError> {
        Ok("TOKEN".to_owned())
    }
}

type Calls = Arc<AtomicUsize>;

async fn user_get(
    State(calls): State<Calls>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    assert_eq!(q.get("access_token").map(String::as_str), Some("TOKEN"));
    Json(match q.get("userid").map(String::as_str) {
        Some("zhangsan") => {
            json!({"errcode": 0, "errmsg": "ok", "userid": "zhangsan", "name": "张三", "department": [2]})
        }
        Some("broken") => json!({"errcode": 40014, "errmsg": "invalid access_token"}),
        _ => json!({"errcode": 60111, "errmsg": "userid not found"}),
    })
}

async fn dept_get(
    State(calls): State<Calls>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    let id: u64 = q.get("id").and_then(|i| i.parse().ok()).unwrap_or(0);
    Json(
        json!({"errcode": 0, "department": {"id": id, "name": "团委", "department_leader": ["liuyang"], "parentid": 1}}),
    )
}

async fn dept_list(State(calls): State<Calls>) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    Json(json!({"errcode": 0, "department": [
        {"id": 1, "name": "公司", "parentid": 0},
        {"id": 2, "name": "团委", "parentid": 1, "department_leader": ["liuyang"]},
        {"id": 3, "name": "党委宣传部", "parentid": 1, "department_leader": ["chenjing"]}
    ]}))
}

async fn simple_list(State(calls): State<Calls>) -> Json<Value> {
    calls.fetch_add(1, Ordering::SeqCst);
    Json(json!({"errcode": 0, "userlist": [
        {"userid": "zhangsan", "name": "张三", "department": [2]},
        {"userid": "chenjing", "name": "陈静", "department": [3]}
    ]}))
}

async fn fake_wecom() -> (String, Calls) {
    let calls = Calls::default();
    let app = Router::new()
        .route("/cgi-bin/user/get", get(user_get))
        .route("/cgi-bin/department/get", get(dept_get))
        .route("/cgi-bin/department/list", get(dept_list))
        .route("/cgi-bin/user/simplelist", get(simple_list))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), calls)
}

fn wecom(base: &str, roles: Roles) -> WeComDirectory {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let roles = Roles {
        units: BTreeMap::from([("propaganda".into(), "3".into())]),
        ..roles
    };
    WeComDirectory::new(
        http,
        base,
        Arc::new(FixedToken),
        roles,
        Duration::from_secs(60),
    )
}

/// The contacts API answers units, leaders, roles and the snapshot; results are cached.
#[tokio::test]
async fn wecom_directory_reads_the_contacts_api_and_caches() {
    let (base, calls) = fake_wecom().await;
    let d = wecom(&base, Roles::default());
    let units = d.units_of("zhangsan").await.expect("units");
    assert_eq!(
        units,
        [Unit {
            id: "2".into(),
            name: "团委".into()
        }]
    );
    assert_eq!(d.leaders_of("2").await.expect("leaders"), ["liuyang"]);
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing"]
    );
    assert_eq!(d.snapshot().await.expect("snapshot").people.len(), 2);
    assert!(
        d.person("ghost")
            .await
            .expect("not found is not an error")
            .is_none()
    );
    let before = calls.load(Ordering::SeqCst);
    d.units_of("zhangsan").await.expect("units");
    d.leaders_of("2").await.expect("leaders");
    d.snapshot().await.expect("snapshot");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before,
        "served from the cache"
    );
}

/// A WeCom errcode becomes an API error; the override needs no API call.
#[tokio::test]
async fn wecom_errors_and_the_override() {
    let (base, calls) = fake_wecom().await;
    let d = wecom(
        &base,
        Roles::default().with_override("propaganda", vec!["ops".into()]),
    );
    match d.person("broken").await {
        Err(DirectoryError::Api { errcode: 40014, .. }) => {}
        other => panic!("expected an API error, got {other:?}"),
    }
    assert_eq!(d.role_members("propaganda").await.expect("role"), ["ops"]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
