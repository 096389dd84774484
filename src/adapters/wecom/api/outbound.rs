//! What the bot sends: the outbox payload, independent of tokens and transport.

use serde::{Deserialize, Serialize};

use crate::domain::evidence::EvidenceRef;
use crate::domain::records::export::Export;

/// The content of a message (app message, app group chat or group robot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "snake_case")]
pub enum MessageBody {
    Text {
        content: String,
    },
    Markdown {
        content: String,
    },
    /// A `template_card` object exactly as WeCom expects it.
    TemplateCard {
        card: serde_json::Value,
    },
    /// A file uploaded with `media/upload?type=file` (its `media_id`, valid for three days).
    File {
        media_id: String,
    },
    /// An image uploaded with `media/upload?type=image`.
    Image {
        media_id: String,
    },
}

/// One delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outbound {
    /// `message/send` to one member.
    Send { to_user: String, body: MessageBody },
    /// `message/update_template_card`: `replace_name` greys the buttons out with that text;
    /// `card` replaces the whole card instead.
    UpdateCard {
        userids: Vec<String>,
        response_code: String,
        replace_name: Option<String>,
        card: Option<serde_json::Value>,
        /// Sent to `userids` as a text instead when WeCom refuses the update (a response code
        /// that is spent or older than 72 h).
        #[serde(default)]
        fallback: Option<String>,
    },
    /// A spreadsheet for one member, named by what it holds, never by its bytes: the outbox
    /// sender builds it from the store when it delivers it, uploads it (`media/upload`) and
    /// sends it as a [`MessageBody::File`].
    File { to_user: String, export: Export },
    /// An evidence file for one member, named by its key: the outbox sender reads it from the
    /// evidence store when it delivers it, uploads it as an image or a file and sends it.
    Evidence {
        to_user: String,
        evidence: EvidenceRef,
    },
    /// `appchat/send` to a group chat the app created.
    AppChat { chat_id: String, body: MessageBody },
    /// `appchat/create`: an app group chat with the id the bot chose, its name, owner and
    /// members (WeCom wants at least two).
    CreateChat {
        chat_id: String,
        name: String,
        owner: String,
        members: Vec<String>,
    },
    /// `appchat/update`: members added to and removed from an app group chat.
    UpdateChat {
        chat_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Group robot `webhook/send` of the group named `robot` in bot.toml `[groups]`; its webhook
    /// key (a secret) is looked up when the message is delivered, so it is never stored.
    /// `mentioned` are userids (or `@all`) to @-mention.
    Robot {
        robot: String,
        body: MessageBody,
        mentioned: Vec<String>,
    },
}

impl Outbound {
    /// The pacing channel (and rate-limit key): per member for app messages, per group robot,
    /// per group chat.
    pub fn channel(&self) -> String {
        match self {
            Outbound::Send { to_user, .. }
            | Outbound::File { to_user, .. }
            | Outbound::Evidence { to_user, .. } => {
                format!("member:{to_user}")
            }
            Outbound::UpdateCard { response_code, .. } => {
                format!("card:{}", short_hash(response_code))
            }
            Outbound::AppChat { chat_id, .. }
            | Outbound::CreateChat { chat_id, .. }
            | Outbound::UpdateChat { chat_id, .. } => format!("appchat:{chat_id}"),
            Outbound::Robot { robot, .. } => format!("robot:{robot}"),
        }
    }
}

fn short_hash(secret: &str) -> String {
    use sha1::{Digest, Sha1};
    hex::encode(&Sha1::digest(secret.as_bytes())[..6])
}
