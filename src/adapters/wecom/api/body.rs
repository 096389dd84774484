//! Request bodies for each [`Outbound`], as WeCom's API documents them. Pure: no I/O.

use serde_json::{Value, json};

use super::{ApiError, MessageBody, Outbound};

/// App messages and app group chats: `content` at most 2048 bytes.
const APP_CONTENT_MAX: usize = 2048;
/// Group robot text: 2048 bytes; robot markdown: 4096 bytes.
const ROBOT_TEXT_MAX: usize = 2048;
const ROBOT_MARKDOWN_MAX: usize = 4096;

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Auth {
    /// `?access_token=` of the app.
    Token,
    /// `?key=` of the named group robot's webhook key; no token.
    Robot(String),
}

/// One POST to WeCom.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub path: &'static str,
    pub auth: Auth,
    pub body: Value,
}

/// Builds the request for `message`, sent as app `agent_id`.
pub(crate) fn request(message: &Outbound, agent_id: i64) -> Result<Request, ApiError> {
    Ok(match message {
        Outbound::Send { to_user, body } => {
            let mut json = json!({"touser": to_user, "agentid": agent_id});
            put_body(&mut json, body, APP_CONTENT_MAX, APP_CONTENT_MAX);
            Request {
                path: "/cgi-bin/message/send",
                auth: Auth::Token,
                body: json,
            }
        }
        Outbound::UpdateCard {
            userids,
            response_code,
            replace_name,
            card,
            ..
        } => {
            let mut json =
                json!({"userids": userids, "agentid": agent_id, "response_code": response_code});
            match (card, replace_name) {
                // A whole replacement card says more than a label, so it wins when both are set.
                (Some(card), _) => json["template_card"] = card.clone(),
                (None, Some(name)) => json["button"] = json!({"replace_name": name}),
                (None, None) => {
                    return Err(ApiError::Invalid(
                        "update_template_card needs replace_name or a card".to_owned(),
                    ));
                }
            }
            Request {
                path: "/cgi-bin/message/update_template_card",
                auth: Auth::Token,
                body: json,
            }
        }
        Outbound::File { .. } | Outbound::Evidence { .. } => {
            return Err(ApiError::Invalid(
                "a file is built and uploaded before it is sent (the outbox sender does it)"
                    .to_owned(),
            ));
        }
        Outbound::AppChat { chat_id, body } => {
            if matches!(body, MessageBody::TemplateCard { .. }) {
                return Err(ApiError::Invalid(
                    "appchat/send does not take template cards; send them one-to-one".to_owned(),
                ));
            }
            let mut json = json!({"chatid": chat_id});
            put_body(&mut json, body, APP_CONTENT_MAX, APP_CONTENT_MAX);
            Request {
                path: "/cgi-bin/appchat/send",
                auth: Auth::Token,
                body: json,
            }
        }
        Outbound::CreateChat {
            chat_id,
            name,
            owner,
            members,
        } => Request {
            path: "/cgi-bin/appchat/create",
            auth: Auth::Token,
            body: json!({"chatid": chat_id, "name": name, "owner": owner, "userlist": members}),
        },
        Outbound::UpdateChat {
            chat_id,
            add,
            remove,
        } => Request {
            path: "/cgi-bin/appchat/update",
            auth: Auth::Token,
            body: json!({"chatid": chat_id, "add_user_list": add, "del_user_list": remove}),
        },
        Outbound::Robot {
            robot,
            body,
            mentioned,
        } => Request {
            path: "/cgi-bin/webhook/send",
            auth: Auth::Robot(robot.clone()),
            body: robot_body(body, mentioned),
        },
    })
}

/// WeCom's longest duplicate check interval (four hours).
pub const MAX_DUPLICATE_CHECK: std::time::Duration = std::time::Duration::from_secs(4 * 3600);

/// Asks WeCom to drop an app message whose content and recipients it delivered within
/// `interval` (whole seconds, at least one, at most [`MAX_DUPLICATE_CHECK`]).
pub(crate) fn with_duplicate_check(json: &mut Value, interval: std::time::Duration) {
    let secs = interval.as_secs().clamp(1, MAX_DUPLICATE_CHECK.as_secs());
    json["enable_duplicate_check"] = json!(1);
    json["duplicate_check_interval"] = json!(secs);
}

fn put_body(json: &mut Value, body: &MessageBody, text_max: usize, markdown_max: usize) {
    match body {
        MessageBody::Text { content } => {
            json["msgtype"] = "text".into();
            json["text"] = json!({"content": fit(content, text_max)});
        }
        MessageBody::Markdown { content } => {
            json["msgtype"] = "markdown".into();
            json["markdown"] = json!({"content": fit(content, markdown_max)});
        }
        MessageBody::TemplateCard { card } => {
            json["msgtype"] = "template_card".into();
            json["template_card"] = card.clone();
        }
        MessageBody::File { media_id } => {
            json["msgtype"] = "file".into();
            json["file"] = json!({ "media_id": media_id });
        }
        MessageBody::Image { media_id } => {
            json["msgtype"] = "image".into();
            json["image"] = json!({ "media_id": media_id });
        }
    }
}

fn robot_body(body: &MessageBody, mentioned: &[String]) -> Value {
    match body {
        MessageBody::Text { content } => json!({
            "msgtype": "text",
            "text": {"content": fit(content, ROBOT_TEXT_MAX), "mentioned_list": mentioned},
        }),
        MessageBody::Markdown { content } => {
            // Markdown has no mentioned_list: mentions are `<@userid>` inside the content.
            let mut content = content.clone();
            for user in mentioned {
                let tag = format!("<@{user}>");
                if !content.contains(&tag) {
                    content.push_str(if content.ends_with('\n') { "" } else { " " });
                    content.push_str(&tag);
                }
            }
            json!({"msgtype": "markdown", "markdown": {"content": fit(&content, ROBOT_MARKDOWN_MAX)}})
        }
        MessageBody::TemplateCard { card } => {
            json!({"msgtype": "template_card", "template_card": card})
        }
        MessageBody::File { media_id } => {
            json!({"msgtype": "file", "file": {"media_id": media_id}})
        }
        // A robot's images are sent as base64; the bot never routes an app image to a robot.
        MessageBody::Image { media_id } => {
            json!({"msgtype": "file", "file": {"media_id": media_id}})
        }
    }
}

/// A `multipart/form-data` body with one file in the field `media`, as `media/upload` takes
/// it: the content type (with its boundary) and the bytes.
pub(crate) fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("flowbot-{:032x}", rand::random::<u128>());
    // Quotes and line breaks cannot be part of a header's quoted file name.
    let name: String = name
        .chars()
        .filter(|c| !matches!(c, '"' | '\r' | '\n'))
        .collect();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{name}\"; \
         filelength={}\r\nContent-Type: application/octet-stream\r\n\r\n",
        bytes.len()
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Cuts `content` to at most `max` bytes on a character boundary. WeCom truncates long text
/// itself but refuses long robot markdown (40058), so the client cuts first.
fn fit(content: &str, max: usize) -> &str {
    if content.len() <= max {
        return content;
    }
    let mut end = max;
    while !content.is_char_boundary(end) {
        end -= 1;
    }
    tracing::warn!(
        bytes = content.len(),
        max,
        "message content too long, truncated"
    );
    &content[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_on_a_char_boundary() {
        let s = "审批".repeat(1000); // 6000 bytes
        let cut = fit(&s, 2048);
        assert!(cut.len() <= 2048 && cut.len() > 2040);
        assert!(s.starts_with(cut));
    }

    #[test]
    fn robot_markdown_gets_mentions_in_content() {
        let body = MessageBody::Markdown {
            content: "hi".into(),
        };
        let json = robot_body(&body, &["lisi".into()]);
        assert_eq!(json["markdown"]["content"], "hi <@lisi>");
    }
}
