//! The WeCom callback end to end: a real bot on port 0, the fake WeCom API, both store backends.

#[macro_use]
mod support;

use std::time::Duration;

use flowbot::adapters::wecom::crypto::{AesKey, CallbackCrypto};
use support::bot::{Backend, spawn_bot};

const WAIT: Duration = Duration::from_secs(15);

on_both_stores!(
    url_verification_answers_the_decrypted_echostr,
    a_text_is_answered_with_the_help_text_through_message_send,
    the_same_callback_delivered_four_times_is_answered_once,
    forged_foreign_oversized_stale_and_malformed_callbacks_are_refused_and_answer_nothing,
    an_expired_token_is_refreshed_once_and_the_reply_still_goes_out,
    fifty_replies_to_one_member_are_paced_and_none_is_lost,
    health_and_readiness_answer,
    a_sender_that_is_not_one_member_is_refused_and_nothing_is_sent,
);

fn help_text() -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bot-scripts");
    flowbot::base::scripts::Scripts::load(dir.as_ref())
        .unwrap()
        .help_text
}

fn content_of(message: &serde_json::Value) -> &str {
    message["text"]["content"].as_str().unwrap_or_default()
}

async fn url_verification_answers_the_decrypted_echostr(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let echo = "1616140317555161061";
    let echostr = bot.crypto.encrypt(echo.as_bytes());
    let ts = (bot.clock.now_ms() / 1000).to_string();
    let (ts, nonce) = (ts.as_str(), "263014780");
    let signature = bot.crypto.sign(ts, nonce, &echostr);
    let encoded = echostr
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let (status, body) = bot
        .get(&format!("/wecom/callback?msg_signature={signature}&timestamp={ts}&nonce={nonce}&echostr={encoded}"))
        .await;
    assert_eq!(
        (status, body.as_str()),
        (200, echo),
        "the body is exactly the echostr, raw"
    );

    let (status, _) = bot
        .get(&format!(
            "/wecom/callback?msg_signature={}&timestamp={ts}&nonce={nonce}&echostr={encoded}",
            "0".repeat(40)
        ))
        .await;
    assert_eq!(status, 403, "a forged signature is refused");
    let (status, _) = bot.get("/wecom/callback?timestamp=1&nonce=2").await;
    assert_eq!(status, 400, "missing parameters are refused");

    // The same replay window as POST: a ten-year-old or a 16-minute-old verification is refused.
    for old in [
        bot.clock.now_ms() / 1000 - 10 * 365 * 86_400,
        bot.clock.now_ms() / 1000 - 16 * 60,
    ] {
        let old = old.to_string();
        let signature = bot.crypto.sign(&old, nonce, &echostr);
        let (status, body) = bot
            .get(&format!("/wecom/callback?msg_signature={signature}&timestamp={old}&nonce={nonce}&echostr={encoded}"))
            .await;
        assert_eq!(
            (status, body.as_str()),
            (403, "timestamp outside the allowed window")
        );
    }
    bot.stop().await;
}

/// The published URL-verification vector of WeCom's own documentation, through the real router.
#[tokio::test]
async fn the_documented_url_verification_vector_is_answered() {
    let Some(bot) = spawn_bot(Backend::Embedded, |s| {
        let w = s.wecom.as_mut().unwrap();
        w.corp_id = "wx5823bf96d3bd56c7".into();
        w.token = "QDG6eK".into();
        w.aes_key =
            AesKey::from_encoding_aes_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").unwrap();
    })
    .await
    else {
        return;
    };
    // The vector is from 2014: the bot's clock is set to its time (the replay window applies).
    let wall_ms = bot.clock.now_ms() - bot.clock.offset_ms();
    bot.clock.set_offset_ms(1_409_659_589_000 - wall_ms);
    let (status, body) = bot
        .get("/wecom/callback?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D")
        .await;
    assert_eq!((status, body.as_str()), (200, "1616140317555161061"));
    bot.stop().await;
}

async fn a_text_is_answered_with_the_help_text_through_message_send(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let (status, body) = bot
        .post(&bot.text("zhangsan", 7_300_000_000_000_000_001, "你好"))
        .await;
    assert_eq!(
        (status, body.as_str()),
        (200, ""),
        "WeCom gets 200 with an empty body"
    );

    let sent = bot.wait_for_messages("zhangsan", 1, WAIT).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["touser"], "zhangsan");
    assert_eq!(sent[0]["msgtype"], "text");
    assert_eq!(sent[0]["agentid"], support::bot::AGENT_ID);
    assert_eq!(content_of(&sent[0]), help_text());
    bot.stop().await;
}

async fn the_same_callback_delivered_four_times_is_answered_once(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let retried = bot.text("lisi", 42, "你好");
    for _ in 0..4 {
        assert_eq!(
            bot.post(&retried).await.0,
            200,
            "every delivery is acknowledged"
        );
    }
    // A later message of the same conversation is handled after the first one (FIFO), so once
    // its reply is out, every reply the duplicates could have caused would be out too.
    bot.post(&bot.text("lisi", 43, "再来一条")).await;
    bot.wait_for_messages("lisi", 2, WAIT).await;
    bot.settle(WAIT).await;
    assert_eq!(
        bot.fake.sent_to("lisi").len(),
        2,
        "one reply per distinct message"
    );
    bot.stop().await;
}

async fn forged_foreign_oversized_stale_and_malformed_callbacks_are_refused_and_answer_nothing(
    backend: Backend,
) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let user = "wangwu";

    let good = bot.text(user, 1, "你好");
    let tampered = {
        let sig_at = good.query.find("msg_signature=").unwrap() + "msg_signature=".len();
        let mut q = good.query.clone().into_bytes();
        q[sig_at] = if q[sig_at] == b'a' { b'b' } else { b'a' };
        String::from_utf8(q).unwrap()
    };
    assert_eq!(
        bot.post_raw(&tampered, good.body.clone()).await,
        (403, "bad signature".into())
    );

    // Our key and token, but encrypted for another corp: the receiveid check refuses it.
    let (token, key) = {
        let w = bot.settings.wecom.as_ref().unwrap();
        (w.token.clone(), w.aes_key.clone())
    };
    let foreign = CallbackCrypto::new(&token, key, "ww_other_corp");
    let (query, body) = flowbot::runtime::loadgen::signed_callback(
        &foreign,
        user,
        2,
        "你好",
        bot.clock.now_ms() / 1000,
    );
    assert_eq!(
        bot.post_raw(&query, body).await,
        (403, "wrong corp id".into())
    );

    let oversized = format!(
        "<xml><Encrypt><![CDATA[{}]]></Encrypt></xml>",
        "A".repeat(70 * 1024)
    );
    assert_eq!(bot.post_raw(&good.query, oversized).await.0, 413);

    let stale = bot.text_at(user, 3, "你好", bot.clock.now_ms() / 1000 - 16 * 60);
    assert_eq!(
        bot.post(&stale).await.0,
        403,
        "a 16-minute-old timestamp is refused"
    );
    let future = bot.text_at(user, 4, "你好", bot.clock.now_ms() / 1000 + 16 * 60);
    assert_eq!(bot.post(&future).await.0, 403);

    assert_eq!(
        bot.post_raw(&good.query, "<xml><Encrypt>".into()).await.0,
        400,
        "malformed XML"
    );
    assert_eq!(
        bot.post_raw("timestamp=1&nonce=2", good.body.clone())
            .await
            .0,
        400,
        "missing signature"
    );

    // Nothing refused was stored: the next real message is the first and only one answered.
    assert_eq!(bot.store.queue_stats().await.unwrap().events, 0);
    bot.post(&bot.text(user, 5, "你好")).await;
    bot.wait_for_messages(user, 1, WAIT).await;
    bot.settle(WAIT).await;
    assert_eq!(bot.fake.sent_to(user).len(), 1);
    bot.stop().await;
}

async fn an_expired_token_is_refreshed_once_and_the_reply_still_goes_out(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    bot.post(&bot.text("zhaoliu", 1, "你好")).await;
    bot.wait_for_messages("zhaoliu", 1, WAIT).await;
    assert_eq!(bot.fake.gettoken_calls(), 1);

    bot.fake.expire_token();
    bot.post(&bot.text("zhaoliu", 2, "你好")).await;
    let sent = bot.wait_for_messages("zhaoliu", 2, WAIT).await;
    assert_eq!(sent.len(), 2, "the reply went out after the refresh");
    assert_eq!(bot.fake.gettoken_calls(), 2, "exactly one refresh");
    bot.stop().await;
}

async fn fifty_replies_to_one_member_are_paced_and_none_is_lost(backend: Backend) {
    let window = Duration::from_secs(2);
    let Some(bot) = spawn_bot(backend, |s| {
        s.pacing.member_limit = 30;
        s.pacing.window = window;
    })
    .await
    else {
        return;
    };
    for i in 0..50 {
        assert_eq!(bot.post(&bot.text("sunqi", 1000 + i, "你好")).await.0, 200);
    }
    let sent = bot
        .wait_for_messages("sunqi", 50, Duration::from_secs(30))
        .await;
    assert_eq!(sent.len(), 50, "every reply delivered");
    let times: Vec<_> = bot
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/message/send"))
        .map(|r| r.at)
        .collect();
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .filter(|t| t.duration_since(*start) < window)
            .count();
        assert!(in_window <= 30, "{in_window} messages within one window");
    }
    bot.stop().await;
}

async fn health_and_readiness_answer(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    assert_eq!(bot.get("/healthz").await.0, 200);
    assert_eq!(bot.get("/readyz").await, (200, "ready".into()));
    bot.stop().await;
}

/// Item 5 of issue 15: a decrypted `FromUserName` that could reach several people (`a|b`,
/// `@all`), is longer than WeCom allows or holds a control character is refused with 400 at the
/// callback; nothing is queued and nothing is sent. A member still gets the answer.
async fn a_sender_that_is_not_one_member_is_refused_and_nothing_is_sent(backend: Backend) {
    let Some(bot) = spawn_bot(backend, |_| {}).await else {
        return;
    };
    let long = "u".repeat(65);
    for (i, sender) in ["u01|u02", "@all", long.as_str(), "u0\u{7f}1", "u0\u{1}1"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            bot.post(&bot.text(sender, 900 + i as u64, "你好")).await,
            (400, "invalid sender".into()),
            "{sender:?}"
        );
    }
    assert_eq!(bot.store.queue_stats().await.unwrap().events, 0);
    bot.post(&bot.text("zhaoliu", 1, "你好")).await;
    bot.wait_for_messages("zhaoliu", 1, WAIT).await;
    bot.settle(WAIT).await;
    let sent = bot.fake.requests_to("message/send");
    assert_eq!(sent.len(), 1, "only the member was answered");
    assert_eq!(sent[0].body["touser"], "zhaoliu");
    bot.stop().await;
}
