//! WeCom's callback side: what a member does in the console becomes the XML WeCom would send
//! (text, image, menu `click`, `template_card_event`), encrypted and signed
//! with the app's token and EncodingAESKey and POSTed to the bot's `/wecom/callback`.

use super::Shared;

/// What the member did.
pub(super) enum Action<'a> {
    Text {
        content: &'a str,
    },
    MenuClick {
        key: &'a str,
    },
    CardButton {
        key: &'a str,
        task_id: &'a str,
        card_type: &'a str,
        response_code: &'a str,
    },
    /// An image message (its bytes are served by `media/get` under `media_id`).
    Image {
        media_id: &'a str,
    },
    /// The contacts changed: this member was deleted (WeCom sends it from `sys`).
    MemberLeft {
        userid: &'a str,
    },
}

/// `<![CDATA[...]]>`, splitting a `]]>` inside the text across two sections.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// The decrypted XML of one callback from `user` at `create_time` (seconds).
pub(super) fn plain_xml(
    corp_id: &str,
    agent_id: i64,
    user: &str,
    create_time: i64,
    msg_id: u64,
    action: &Action<'_>,
) -> String {
    let body = match action {
        Action::Text { content } => format!(
            "<MsgType>{}</MsgType><Content>{}</Content><MsgId>{msg_id}</MsgId>",
            cdata("text"),
            cdata(content)
        ),
        Action::MenuClick { key } => format!(
            "<MsgType>{}</MsgType><Event>{}</Event><EventKey>{}</EventKey>",
            cdata("event"),
            cdata("click"),
            cdata(key)
        ),
        Action::CardButton {
            key,
            task_id,
            card_type,
            response_code,
        } => format!(
            "<MsgType>{}</MsgType><Event>{}</Event><EventKey>{}</EventKey><TaskId>{}</TaskId>\
             <CardType>{}</CardType><ResponseCode>{}</ResponseCode>",
            cdata("event"),
            cdata("template_card_event"),
            cdata(key),
            cdata(task_id),
            cdata(card_type),
            cdata(response_code)
        ),
        Action::Image { media_id } => format!(
            "<MsgType>{}</MsgType><PicUrl>{}</PicUrl><MediaId>{}</MediaId><MsgId>{msg_id}</MsgId>",
            cdata("image"),
            cdata("https://wework.qpic.cn/sim"),
            cdata(media_id)
        ),
        Action::MemberLeft { userid } => format!(
            "<MsgType>{}</MsgType><Event>{}</Event><ChangeType>{}</ChangeType><UserID>{}</UserID>",
            cdata("event"),
            cdata("change_contact"),
            cdata("delete_user"),
            cdata(userid)
        ),
    };
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName>\
         <CreateTime>{create_time}</CreateTime>{body}<AgentID>{agent_id}</AgentID></xml>",
        cdata(corp_id),
        cdata(user)
    )
}

impl Shared {
    /// Sends what `user` did to the bot exactly as WeCom would. `Err` says why the bot refused.
    pub(super) async fn callback(&self, user: &str, action: Action<'_>) -> Result<(), String> {
        let now_ms = self.clock.now_ms();
        let now_s = now_ms / 1000;
        let msg_id = self.world().msg_id(now_ms);
        let plain = plain_xml(&self.corp_id, self.agent_id, user, now_s, msg_id, &action);
        let encrypt = self.crypto.encrypt(plain.as_bytes());
        let timestamp = now_s.to_string();
        let nonce = (rand::random::<u32>() % 1_000_000_000).to_string();
        let signature = self.crypto.sign(&timestamp, &nonce, &encrypt);
        let envelope = format!(
            "<xml><ToUserName>{}</ToUserName><Encrypt>{}</Encrypt><AgentID>{}</AgentID></xml>",
            cdata(&self.corp_id),
            cdata(&encrypt),
            cdata(&self.agent_id.to_string())
        );
        let response = self
            .http
            .post(format!("{}/wecom/callback", self.bot_url))
            .query(&[
                ("msg_signature", signature.as_str()),
                ("timestamp", timestamp.as_str()),
                ("nonce", nonce.as_str()),
            ])
            .header("content-type", "text/xml")
            .body(envelope)
            .send()
            .await
            .map_err(|e| format!("the bot did not answer: {}", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(format!("the bot refused the callback: {status} {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::wecom::message::{self, InboundKind};

    #[test]
    fn the_bot_parses_what_the_simulator_sends() {
        let text = plain_xml(
            "ww1",
            1000002,
            "zhangsan",
            1,
            7,
            &Action::Text { content: "a]]>b" },
        );
        let inbound = message::parse(&text).unwrap();
        assert!(
            matches!(inbound.kind, InboundKind::Text { ref content, .. } if content == "a]]>b")
        );
        let click = plain_xml(
            "ww1",
            1000002,
            "zhangsan",
            1,
            0,
            &Action::MenuClick { key: "k" },
        );
        let inbound = message::parse(&click).unwrap();
        assert!(matches!(inbound.kind, InboundKind::MenuClick { ref key } if key == "k"));
        let tap = Action::CardButton {
            key: "approve",
            task_id: "t1",
            card_type: "button_interaction",
            response_code: "rc",
        };
        let inbound = message::parse(&plain_xml("ww1", 1000002, "wangqiang", 1, 0, &tap)).unwrap();
        let InboundKind::TemplateCardEvent(card) = inbound.kind else {
            panic!("not a card event");
        };
        assert_eq!(
            (card.event_key.as_str(), card.task_id.as_str()),
            ("approve", "t1")
        );
        assert_eq!(card.response_code, "rc");
    }
}
