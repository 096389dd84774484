//! `WeComClient` against the fake WeCom and a real (embedded) store: the shared token, each
//! message kind on the wire, and WeCom's errcodes turned into decisions.

mod support;

use std::time::Duration;

use flowbot::adapters::store::CachedToken;
use flowbot::adapters::wecom::api::{ApiCredentials, ApiError, MessageBody, Outbound, WeComClient};
use serde_json::json;

use support::client::{AGENT, CORP, ROBOTS, SECRET, setup};

fn text(to: &str, content: &str) -> Outbound {
    Outbound::Send {
        to_user: to.into(),
        body: MessageBody::Text {
            content: content.into(),
        },
    }
}

/// Twenty first sends from two clients (two replicas) sharing one store fetch one token.
#[tokio::test]
async fn token_is_fetched_once_and_shared_across_clients() {
    let s = setup().await;
    let (a, b) = (s.client(), s.client());
    let sends = (0..20).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { client.deliver(&text(&format!("u{i}"), "hi")).await })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("task").expect("delivered");
    }
    assert_eq!(s.fake.gettoken_calls(), 1);
    assert_eq!(s.fake.accepted_bodies("/message/send").len(), 20);

    // Later sends use the cache.
    a.deliver(&text("u0", "again")).await.unwrap();
    assert_eq!(s.fake.gettoken_calls(), 1);
    let cached = s
        .store
        .get_token(&format!("{CORP}:{AGENT}"), now())
        .await
        .unwrap();
    let cached = cached.expect("token cached under <corp>:<agent>");
    let left_s = (cached.expires_at_ms - now()) / 1000;
    assert!(
        (6800..=6900).contains(&left_s),
        "expiry is expires_in - 300 s: {left_s}"
    );
}

/// Text, markdown and an interactive card go to `message/send` with the documented JSON; the
/// card's response_code comes back in the receipt.
#[tokio::test]
async fn app_messages_have_the_documented_bodies() {
    let s = setup().await;
    let client = s.client();
    client
        .deliver(&text("zhangsan", "line 1\nline 2"))
        .await
        .unwrap();
    let markdown = Outbound::Send {
        to_user: "zhangsan".into(),
        body: MessageBody::Markdown {
            content: "**Approval needed**".into(),
        },
    };
    client.deliver(&markdown).await.unwrap();
    let card = json!({
        "card_type": "button_interaction",
        "task_id": "reg_20240101_0001",
        "main_title": {"title": "Registration"},
        "button_list": [{"text": "同意", "style": 1, "key": "approve:1"}],
    });
    let send_card = Outbound::Send {
        to_user: "manager01".into(),
        body: MessageBody::TemplateCard { card: card.clone() },
    };
    let receipt = client.deliver_with_receipt(&send_card).await.unwrap();
    assert!(receipt.msgid.is_some());
    assert!(
        receipt.response_code.is_some(),
        "interactive cards get a response_code"
    );

    assert_eq!(
        s.fake.sent_to("zhangsan"),
        [
            json!({"touser":"zhangsan","msgtype":"text","agentid":AGENT,
                   "text":{"content":"line 1\nline 2"}}),
            json!({"touser":"zhangsan","msgtype":"markdown","agentid":AGENT,
                   "markdown":{"content":"**Approval needed**"}}),
        ]
    );
    assert_eq!(
        s.fake.sent_to("manager01"),
        [
            json!({"touser":"manager01","msgtype":"template_card","agentid":AGENT,
                "template_card":card})
        ]
    );
    let sends = s.fake.requests_to("/cgi-bin/message/send");
    assert!(
        sends
            .iter()
            .all(|r| r.query["access_token"] == "fake-token-1")
    );
}

/// Both variants of `update_template_card`.
#[tokio::test]
async fn card_updates_have_the_documented_bodies() {
    let s = setup().await;
    let client = s.client();
    let grey_out = Outbound::UpdateCard {
        userids: vec!["manager01".into()],
        response_code: "RC1".into(),
        replace_name: Some("已同意".into()),
        card: None,
        fallback: None,
    };
    client.deliver(&grey_out).await.unwrap();
    let card = json!({"card_type":"button_interaction","task_id":"t1","replace_text":"已同意",
                      "main_title":{"title":"Registration"},
                      "button_list":[{"text":"同意","key":"approve:1"}]});
    let replace = Outbound::UpdateCard {
        userids: vec!["manager01".into(), "manager02".into()],
        response_code: "RC2".into(),
        replace_name: None,
        card: Some(card.clone()),
        fallback: None,
    };
    client.deliver(&replace).await.unwrap();
    assert_eq!(
        s.fake
            .accepted_bodies("/cgi-bin/message/update_template_card"),
        [
            json!({"userids":["manager01"],"agentid":AGENT,"response_code":"RC1",
                   "button":{"replace_name":"已同意"}}),
            json!({"userids":["manager01","manager02"],"agentid":AGENT,"response_code":"RC2",
                   "template_card":card}),
        ]
    );
    let neither = Outbound::UpdateCard {
        userids: vec!["manager01".into()],
        response_code: "RC3".into(),
        replace_name: None,
        card: None,
        fallback: None,
    };
    assert!(matches!(
        client.deliver(&neither).await,
        Err(ApiError::Invalid(_))
    ));
}

/// App group chats get `appchat/send`; template cards are refused locally.
#[tokio::test]
async fn appchat_messages_go_to_appchat_send() {
    let s = setup().await;
    let client = s.client();
    let chat = |body| Outbound::AppChat {
        chat_id: "chat42".into(),
        body,
    };
    client
        .deliver(&chat(MessageBody::Text {
            content: "早上好".into(),
        }))
        .await
        .unwrap();
    client
        .deliver(&chat(MessageBody::Markdown {
            content: "# 周报".into(),
        }))
        .await
        .unwrap();
    assert_eq!(
        s.fake.accepted_bodies("/cgi-bin/appchat/send"),
        [
            json!({"chatid":"chat42","msgtype":"text","text":{"content":"早上好"}}),
            json!({"chatid":"chat42","msgtype":"markdown","markdown":{"content":"# 周报"}}),
        ]
    );
    let card = chat(MessageBody::TemplateCard { card: json!({}) });
    let before = s.fake.requests().len();
    assert!(matches!(
        client.deliver(&card).await,
        Err(ApiError::Invalid(_))
    ));
    assert_eq!(s.fake.requests().len(), before, "nothing sent");
}

/// The webhook key of the test client's robot `xcb`.
fn xcb_key() -> &'static str {
    ROBOTS
        .iter()
        .find(|(name, _)| *name == "xcb")
        .expect("xcb")
        .1
}

/// Robot messages name their group; the client looks its webhook key up when it delivers and
/// sends to `webhook/send?key=…` without any token; mentions are kept. The key is never part
/// of the message (the outbox payload).
#[tokio::test]
async fn robot_messages_use_the_named_robots_webhook_key_and_no_token() {
    let s = setup().await;
    let client = s.client();
    let robot = |body| Outbound::Robot {
        robot: "xcb".into(),
        body,
        mentioned: vec!["lisi".into()],
    };
    let payload = serde_json::to_string(&robot(MessageBody::Text {
        content: "x".into(),
    }))
    .unwrap();
    assert!(
        payload.contains("xcb") && !payload.contains(xcb_key()),
        "{payload}"
    );
    client
        .deliver(&robot(MessageBody::Text {
            content: "请提交年报".into(),
        }))
        .await
        .unwrap();
    client
        .deliver(&robot(MessageBody::Markdown {
            content: "**年报**".into(),
        }))
        .await
        .unwrap();
    assert_eq!(
        s.fake.robot_messages(xcb_key()),
        [
            json!({"msgtype":"text","text":{"content":"请提交年报","mentioned_list":["lisi"]}}),
            json!({"msgtype":"markdown","markdown":{"content":"**年报** <@lisi>"}}),
        ]
    );
    assert_eq!(s.fake.gettoken_calls(), 0);
    let calls = s.fake.requests_to("/cgi-bin/webhook/send");
    assert!(calls.iter().all(|r| !r.query.contains_key("access_token")));
}

/// A robot whose key is not set when the message is delivered: a configuration error, retried
/// by the outbox (an admin may set `FLOWBOT_ROBOT_<NAME>` and restart); nothing is sent.
#[tokio::test]
async fn a_robot_without_a_webhook_key_is_a_retryable_config_error() {
    let s = setup().await;
    let robot = Outbound::Robot {
        robot: "gh".into(),
        body: MessageBody::Text {
            content: "x".into(),
        },
        mentioned: vec![],
    };
    let error = s.client().deliver(&robot).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Config { errcode: None, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("FLOWBOT_ROBOT_GH"), "{error}");
    assert!(s.fake.requests().is_empty(), "nothing sent");
}

/// An expired token (42001) is refreshed exactly once, and the message still goes out once,
/// also when many sends hit the expired token together.
#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_message_goes_out_once() {
    let s = setup().await;
    let client = s.client();
    client.deliver(&text("zhangsan", "first")).await.unwrap();
    s.fake.expire_token();
    client.deliver(&text("zhangsan", "second")).await.unwrap();
    assert_eq!(s.fake.gettoken_calls(), 2);
    let bodies = s.fake.sent_to("zhangsan");
    let contents: Vec<_> = bodies
        .iter()
        .map(|b| b["text"]["content"].clone())
        .collect();
    assert_eq!(contents, [json!("first"), json!("second")]);
    let refused = s.fake.requests_to("/message/send");
    assert_eq!(refused.iter().filter(|r| r.errcode == 42001).count(), 1);

    s.fake.expire_token();
    let other = s.client(); // another replica
    let sends: Vec<_> = (0..10)
        .map(|i| {
            let client = if i % 2 == 0 {
                client.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move { client.deliver(&text("lisi", &format!("m{i}"))).await })
        })
        .collect();
    for send in sends {
        send.await.expect("task").expect("delivered");
    }
    assert_eq!(
        s.fake.gettoken_calls(),
        3,
        "one refresh for the whole burst"
    );
    assert_eq!(s.fake.sent_to("lisi").len(), 10);
}

/// A token WeCom does not know (40014) is dropped from the cache and replaced.
#[tokio::test]
async fn unknown_cached_token_is_replaced() {
    let s = setup().await;
    let stale = CachedToken {
        token: "token-from-another-life".into(),
        expires_at_ms: now() + 3_600_000,
    };
    s.store
        .put_token(&format!("{CORP}:{AGENT}"), &stale)
        .await
        .unwrap();
    s.client().deliver(&text("zhangsan", "hi")).await.unwrap();
    assert_eq!(s.fake.gettoken_calls(), 1);
    assert_eq!(s.fake.sent_to("zhangsan").len(), 1);
    let codes: Vec<_> = s
        .fake
        .requests_to("/message/send")
        .iter()
        .map(|r| r.errcode)
        .collect();
    assert_eq!(codes, [40014, 0]);
}

/// A wrong secret is a configuration error: one gettoken, no retry loop, no message call, and
/// the secret is in no error text.
#[tokio::test]
async fn wrong_secret_is_a_config_error_without_retries() {
    let s = setup().await;
    let client = s.client_with_secret("wrong-secret-value");
    for _ in 0..3 {
        let error = client.deliver(&text("zhangsan", "hi")).await.unwrap_err();
        assert!(
            matches!(
                error,
                ApiError::Config {
                    errcode: Some(40001),
                    ..
                }
            ),
            "{error:?}"
        );
        // The outbox may retry it later, with back-off: an admin can fix the secret.
        assert!(error.is_retryable());
        assert!(!error.to_string().contains("wrong-secret-value"));
    }
    assert_eq!(s.fake.gettoken_calls(), 1);
    assert_eq!(s.fake.requests().len(), 1, "nothing but the one gettoken");
}

/// 60020 (IP not trusted) is a configuration error that says what to fix.
#[tokio::test]
async fn untrusted_ip_is_a_config_error() {
    let s = setup().await;
    s.fake.fail_next("/gettoken", 60020, 1);
    let error = s
        .client()
        .deliver(&text("zhangsan", "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ApiError::Config {
                errcode: Some(60020),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("企业可信IP"));
    assert_eq!(s.fake.requests_to("/message/send").len(), 0);
}

/// 45009 is retryable; the same call succeeds after a back-off.
#[tokio::test]
async fn rate_limit_is_retryable_and_succeeds_later() {
    let s = setup().await;
    let client = s.client();
    s.fake.fail_next("/message/send", 45009, 1);
    let error = client.deliver(&text("zhangsan", "hi")).await.unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { errcode: 45009 }));
    assert!(error.is_retryable());
    client.deliver(&text("zhangsan", "hi")).await.unwrap();
    assert_eq!(s.fake.sent_to("zhangsan").len(), 1);
}

/// Other errcodes are refusals with WeCom's message; they are not retried.
#[tokio::test]
async fn other_errcodes_are_refusals() {
    let s = setup().await;
    s.fake.fail_next("/message/send", 81013, 1);
    let error = s.client().deliver(&text("nobody", "hi")).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Refused { errcode: 81013, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(s.fake.requests_to("/message/send").len(), 1);
}

/// An unreachable API is a retryable transport error that names no secret and no key.
#[tokio::test]
async fn unreachable_api_is_a_transport_error_without_secrets() {
    let s = setup().await;
    let credentials = ApiCredentials {
        corp_id: CORP.into(),
        agent_id: AGENT,
        secret: SECRET.into(),
    };
    assert!(!format!("{credentials:?}").contains(SECRET));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = WeComClient::new(
        &base,
        credentials,
        s.store.clone(),
        Duration::from_secs(2),
        s.clock.clone(),
    );
    let error = client.deliver(&text("zhangsan", "hi")).await.unwrap_err();
    assert!(matches!(error, ApiError::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    assert!(!error.to_string().contains(SECRET), "{error}");
    let robot = Outbound::Robot {
        robot: "xcb".into(),
        body: MessageBody::Text {
            content: "x".into(),
        },
        mentioned: vec![],
    };
    let client = client.with_robot_keys([("xcb".to_owned(), xcb_key().to_owned())].into());
    let error = client.deliver(&robot).await.unwrap_err();
    assert!(matches!(error, ApiError::Transport(_)), "{error:?}");
    assert!(!error.to_string().contains(xcb_key()), "{error}");
}

/// The wall clock, as the client's clock (no offset) reads it.
fn now() -> i64 {
    flowbot::base::clock::Clock::default().now_ms()
}

/// What the outbox needs to know of a failure: a call sent without an answer read (here a
/// timeout, WeCom having delivered) has an unknown outcome; a call that never left (no
/// connection) does not.
#[tokio::test]
async fn a_timeout_after_sending_is_an_unknown_outcome_a_refused_connection_is_not() {
    let s = setup().await;
    let credentials = ApiCredentials {
        corp_id: CORP.into(),
        agent_id: AGENT,
        secret: SECRET.into(),
    };
    let impatient = WeComClient::new(
        &s.fake.base_url(),
        credentials.clone(),
        s.store.clone(),
        Duration::from_millis(300),
        s.clock.clone(),
    );
    s.fake.slow_next("/message/send", Duration::from_secs(2), 1);
    let error = impatient
        .deliver(&text("zhangsan", "hi"))
        .await
        .unwrap_err();
    assert!(error.outcome_unknown() && error.is_retryable(), "{error}");
    assert_eq!(s.fake.sent_to("zhangsan").len(), 1, "WeCom did deliver it");

    let nobody = WeComClient::new(
        "http://127.0.0.1:1",
        credentials,
        s.store.clone(),
        Duration::from_millis(300),
        s.clock.clone(),
    );
    let error = nobody.deliver(&text("zhangsan", "hi")).await.unwrap_err();
    assert!(!error.outcome_unknown() && error.is_retryable(), "{error}");
}
