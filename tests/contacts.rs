//! The contacts directory (`FLOWBOT_DIRECTORY=wecom`) through the one WeCom API client, against
//! the fake WeCom: answers, the TTL cache, the token refreshed once on a token errcode, and
//! WeCom's errcodes turned into retryable or not. End to end on both stores: a token that
//! expires before a `user/get` still gets the user the bot's reply.

#[macro_use]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use flowbot::base::directory::{
    ContactsDirectory, Directory, DirectoryError, RoleDef, Roles, Unit,
};
use flowbot::runtime::config::DirectorySource;
use serde_json::json;

use support::bot::{Backend, spawn_bot};
use support::client::{SECRET, Setup, setup};

const WAIT: Duration = Duration::from_secs(20);
/// The first words of the registration form, as the bot-scripts say them.
const FORM_STARTS: &str = "下面开始填写《新媒体建设备案登记表》";

on_both_stores!(a_token_expiry_on_user_get_is_refreshed_and_the_user_gets_the_reply);

fn directory(s: &Setup) -> ContactsDirectory {
    // In the fake company the propaganda department is department 3.
    // `head`: only its leaders.
    let head = RoleDef {
        unit: "3".into(),
        leaders_only: true,
    };
    let roles = Roles::new(BTreeMap::from([
        ("propaganda".into(), String::from("3").into()),
        ("head".into(), head),
    ]));
    ContactsDirectory::new(Arc::new(s.client()), roles, Duration::from_secs(60))
}

/// The contacts calls the fake received, as (userid or id, errcode).
fn contacts_calls(s: &Setup, path: &str, key: &str) -> Vec<(String, i64)> {
    s.fake
        .requests_to(path)
        .into_iter()
        .map(|r| (r.query.get(key).cloned().unwrap_or_default(), r.errcode))
        .collect()
}

fn contacts_call_count(s: &Setup) -> usize {
    [
        "/user/get",
        "/department/get",
        "/department/list",
        "/user/simplelist",
    ]
    .iter()
    .map(|p| s.fake.requests_to(p).len())
    .sum()
}

/// Units, leaders, a role and the snapshot come from the contacts API; a member WeCom does not
/// know is nobody (not an error); repeated lookups are served from the cache.
#[tokio::test]
async fn the_directory_reads_the_contacts_and_caches_them() {
    let s = setup().await;
    let d = directory(&s);
    let units = d.units_of("zhangsan").await.expect("units");
    assert_eq!(
        units,
        [Unit {
            id: "2".into(),
            name: "团委".into()
        }]
    );
    assert!(d.units_of("zhaoliu").await.expect("units").is_empty());
    assert_eq!(d.leaders_of("2").await.expect("leaders"), ["liuyang"]);
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing"]
    );
    let leaders = d.leaders_of("3").await.expect("leaders");
    assert!(!leaders.is_empty());
    assert_eq!(d.role_members("head").await.expect("role"), leaders);
    assert_eq!(d.snapshot().await.expect("snapshot").people.len(), 4);
    assert!(d.person("ghost").await.expect("not an error").is_none());

    let before = contacts_call_count(&s);
    d.units_of("zhangsan").await.expect("units");
    d.leaders_of("2").await.expect("leaders");
    d.person("ghost").await.expect("not an error");
    d.snapshot().await.expect("snapshot");
    assert_eq!(contacts_call_count(&s), before, "served from the cache");
    assert_eq!(s.fake.gettoken_calls(), 1, "one token for every call");
}

/// The override of a role needs no contacts call.
#[tokio::test]
async fn a_role_override_needs_no_contacts_call() {
    let s = setup().await;
    let roles = Roles::default().with_override("propaganda", vec!["ops".into()]);
    let d = ContactsDirectory::new(Arc::new(s.client()), roles, Duration::from_secs(60));
    assert_eq!(d.role_members("propaganda").await.expect("role"), ["ops"]);
    assert_eq!(contacts_call_count(&s), 0);
}

/// An expired token (42001) or one WeCom does not know (40014) on `user/get` is dropped, a new
/// one is fetched once, and the lookup succeeds.
#[tokio::test]
async fn a_rejected_token_on_user_get_is_refreshed_once() {
    let s = setup().await;
    let d = directory(&s);
    assert!(d.person("liuyang").await.expect("person").is_some());
    s.fake.expire_token();
    let zhangsan = d.person("zhangsan").await.expect("refreshed and answered");
    assert_eq!(zhangsan.map(|p| p.name).as_deref(), Some("张三"));
    s.fake.fail_next("/user/get", 40014, 1);
    assert!(d.person("chenjing").await.expect("person").is_some());
    assert_eq!(
        contacts_calls(&s, "/user/get", "userid"),
        [
            ("liuyang".into(), 0),
            ("zhangsan".into(), 42001),
            ("zhangsan".into(), 0),
            ("chenjing".into(), 40014),
            ("chenjing".into(), 0),
        ]
    );
    assert_eq!(s.fake.gettoken_calls(), 3, "one refresh per rejected token");
}

/// A rate limit (45009) is retryable, and the next lookup goes out again; a refused call is not
/// retryable. Errors carry neither the token nor the secret.
#[tokio::test]
async fn a_rate_limited_contacts_call_is_retryable_and_a_refused_one_is_not() {
    let s = setup().await;
    let d = directory(&s);
    s.fake.fail_next("/user/get", 45009, 1);
    let error = d.person("zhangsan").await.expect_err("rate limited");
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("45009"), "{error}");
    assert!(d.person("zhangsan").await.expect("retried").is_some());

    s.fake.fail_next("/department/get", 60011, 1);
    let error = d.leaders_of("2").await.expect_err("refused");
    assert!(matches!(error, DirectoryError::Failed(_)), "{error}");
    assert!(error.to_string().contains("60011"), "{error}");
    for secret in [SECRET, "fake-token"] {
        assert!(!error.to_string().contains(secret), "{error}");
    }
}

/// An answer without an errcode is not WeCom's (a proxy page, a wrong base URL): an error, to
/// be retried, and nothing is cached from it.
#[tokio::test]
async fn a_contacts_answer_without_errcode_is_an_error() {
    let s = setup().await;
    let d = directory(&s);
    s.fake
        .answer_next("/department/list", json!({"department": []}), 1);
    let error = d.snapshot().await.expect_err("no errcode");
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("errcode"), "{error}");
    assert_eq!(d.snapshot().await.expect("snapshot").units.len(), 3);
}

/// With the WeCom directory, the cached token expires and WeCom answers `user/get` with 42001:
/// the client refreshes once and the user still gets the bot's reply.
async fn a_token_expiry_on_user_get_is_refreshed_and_the_user_gets_the_reply(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |s| s.directory = DirectorySource::WeCom).await else {
        return;
    };
    bot.say("liuyang", &["备案"]).await;
    let replied = bot.wait_for_text("liuyang", FORM_STARTS, WAIT).await;
    assert!(replied, "liuyang got {:#?}", bot.texts_to("liuyang"));

    bot.fake.expire_token();
    bot.say("zhangsan", &["备案"]).await;
    let replied = bot.wait_for_text("zhangsan", FORM_STARTS, WAIT).await;
    assert!(replied, "zhangsan got {:#?}", bot.texts_to("zhangsan"));
    let user_gets: Vec<i64> = bot
        .fake
        .requests_to("/user/get")
        .into_iter()
        .filter(|r| r.query.get("userid").map(String::as_str) == Some("zhangsan"))
        .map(|r| r.errcode)
        .collect();
    assert_eq!(user_gets, [42001, 0], "refreshed once, at once");
    assert_eq!(bot.fake.gettoken_calls(), 2);
    bot.stop().await;
}
