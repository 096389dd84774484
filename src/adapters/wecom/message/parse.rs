//! Mapping of the element tree of a WeCom callback onto [`Envelope`] and [`Inbound`].
//!
//! Identifiers (`ToUserName`, `FromUserName`, `CreateTime`, `MsgType`, `Event`, `MsgId`,
//! `AgentID`, `ChangeType`, `Encrypt`, numbers) are trimmed; free text (`Content`, `EventKey`,
//! names, ...) is kept verbatim.

use super::xml::{Element, parse_document};
use super::{
    CardEvent, ContactChange, Envelope, Inbound, InboundKind, MediaKind, MediaMessage,
    MessageError, SelectedItem, UserFields,
};

/// Parses the document and checks that its root is `<xml>`.
fn root(xml: &str) -> Result<Element, MessageError> {
    let root = parse_document(xml)?;
    if root.name != "xml" {
        return Err(MessageError::Malformed(format!(
            "root element is <{}>, expected <xml>",
            root.name
        )));
    }
    Ok(root)
}

/// The trimmed text of `name`; `None` when absent or empty.
fn ident<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.text_of(name).map(str::trim).filter(|t| !t.is_empty())
}

/// Like [`ident`], but absence is an error.
fn required<'a>(el: &'a Element, name: &'static str) -> Result<&'a str, MessageError> {
    ident(el, name).ok_or(MessageError::Missing(name))
}

/// Parses an optional number; present but unparsable is an error.
fn number<T: std::str::FromStr>(el: &Element, name: &str) -> Result<Option<T>, MessageError> {
    ident(el, name)
        .map(|t| {
            t.parse()
                .map_err(|_| MessageError::Malformed(format!("{name} is not a number: {t:?}")))
        })
        .transpose()
}

/// The comma-separated items of `name`, trimmed, empty items skipped.
fn list<'a>(el: &'a Element, name: &str) -> impl Iterator<Item = &'a str> {
    el.text_of(name)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// Parses the POST body: `<xml><ToUserName/><AgentID/><Encrypt/></xml>` (any order, CDATA or not).
pub fn parse_envelope(xml: &str) -> Result<Envelope, MessageError> {
    let root = root(xml)?;
    Ok(Envelope {
        to_user: owned(ident(&root, "ToUserName")),
        agent_id: owned(ident(&root, "AgentID")),
        encrypt: required(&root, "Encrypt")?.to_owned(),
    })
}

/// Parses a decrypted message or event.
pub fn parse(xml: &str) -> Result<Inbound, MessageError> {
    let root = root(xml)?;
    let to_user = required(&root, "ToUserName")?.to_owned();
    let from_user = required(&root, "FromUserName")?.to_owned();
    let create_time =
        number::<i64>(&root, "CreateTime")?.ok_or(MessageError::Missing("CreateTime"))?;
    let msg_type = required(&root, "MsgType")?;
    let kind = if msg_type.eq_ignore_ascii_case("text") {
        InboundKind::Text {
            msg_id: required(&root, "MsgId")?.to_owned(),
            content: root.text_of("Content").unwrap_or("").to_owned(),
        }
    } else if let Some(kind) = media_kind(msg_type) {
        InboundKind::Media(MediaMessage {
            msg_id: required(&root, "MsgId")?.to_owned(),
            media_id: required(&root, "MediaId")?.to_owned(),
            kind,
            file_name: owned(root.text_of("FileName").map(str::trim)).filter(|n| !n.is_empty()),
            fetched: None,
        })
    } else if msg_type.eq_ignore_ascii_case("event") {
        parse_event(&root, msg_type)?
    } else {
        unknown(&root, msg_type)
    };
    Ok(Inbound {
        to_user,
        from_user,
        create_time,
        agent_id: owned(ident(&root, "AgentID")),
        kind,
    })
}

/// `image` and `file` messages carry a `MediaId` the bot downloads (`media/get`).
fn media_kind(msg_type: &str) -> Option<MediaKind> {
    if msg_type.eq_ignore_ascii_case("image") {
        Some(MediaKind::Image)
    } else if msg_type.eq_ignore_ascii_case("file") {
        Some(MediaKind::File)
    } else {
        None
    }
}

fn unknown(root: &Element, msg_type: &str) -> InboundKind {
    InboundKind::Unknown {
        msg_type: msg_type.to_owned(),
        event: owned(ident(root, "Event")),
        msg_id: owned(ident(root, "MsgId")),
        event_key: owned(root.text_of("EventKey")),
    }
}

fn parse_event(root: &Element, msg_type: &str) -> Result<InboundKind, MessageError> {
    let event = ident(root, "Event").unwrap_or("").to_ascii_lowercase();
    let event_key = || root.text_of("EventKey").unwrap_or("").to_owned();
    let text = |name: &str| root.text_of(name).unwrap_or("").to_owned();
    Ok(match event.as_str() {
        "click" => InboundKind::MenuClick { key: event_key() },
        "view" => InboundKind::MenuView { url: event_key() },
        "enter_agent" => InboundKind::EnterAgent,
        "template_card_event" => InboundKind::TemplateCardEvent(CardEvent {
            event_key: event_key(),
            task_id: ident(root, "TaskId").unwrap_or("").to_owned(),
            card_type: text("CardType"),
            response_code: text("ResponseCode"),
            selected_items: selected_items(root),
        }),
        "change_contact" => InboundKind::ChangeContact(parse_contact_change(root)?),
        _ => unknown(root, msg_type),
    })
}

/// `<SelectedItems><SelectedItem><QuestionKey/><OptionIds><OptionId/>…</OptionIds>…`
fn selected_items(root: &Element) -> Vec<SelectedItem> {
    let Some(items) = root.child("SelectedItems") else {
        return Vec::new();
    };
    items
        .children_named("SelectedItem")
        .map(|item| SelectedItem {
            question_key: item.text_of("QuestionKey").unwrap_or("").to_owned(),
            option_ids: item
                .child("OptionIds")
                .map(|ids| {
                    ids.children_named("OptionId")
                        .map(|id| id.text.clone())
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn parse_contact_change(root: &Element) -> Result<ContactChange, MessageError> {
    let change = ident(root, "ChangeType").unwrap_or("");
    Ok(match change.to_ascii_lowercase().as_str() {
        "create_user" => ContactChange::CreateUser(user_fields(root)?),
        "update_user" => ContactChange::UpdateUser(user_fields(root)?),
        "delete_user" => ContactChange::DeleteUser {
            user_id: required(root, "UserID")?.to_owned(),
        },
        _ => ContactChange::Other {
            change: change.to_owned(),
        },
    })
}

fn user_fields(root: &Element) -> Result<UserFields, MessageError> {
    let departments = list(root, "Department")
        .map(|d| {
            d.parse().map_err(|_| {
                MessageError::Malformed(format!("Department is not a list of ids: {d:?}"))
            })
        })
        .collect::<Result<_, _>>()?;
    let is_leader_in_dept = list(root, "IsLeaderInDept")
        .map(|flag| match flag {
            "1" => Ok(true),
            "0" => Ok(false),
            other => Err(MessageError::Malformed(format!(
                "IsLeaderInDept is not a list of 0/1: {other:?}"
            ))),
        })
        .collect::<Result<_, _>>()?;
    let optional = |name: &str| owned(root.text_of(name).filter(|t| !t.trim().is_empty()));
    Ok(UserFields {
        user_id: required(root, "UserID")?.to_owned(),
        new_user_id: owned(ident(root, "NewUserID")),
        name: optional("Name"),
        departments,
        main_department: number(root, "MainDepartment")?,
        is_leader_in_dept,
        direct_leaders: list(root, "DirectLeader").map(str::to_owned).collect(),
        position: optional("Position"),
        mobile: optional("Mobile"),
        email: optional("Email"),
        status: number(root, "Status")?,
    })
}
