//! Domain replies to WeCom's wire messages: the one place that knows the `template_card`
//! layout, WeCom's length limits for card fields, and how a group is reached (an app group
//! chat or a group robot), and how a message links to the desk (a card's last row, a text's or
//! a group message's last line). Every recipient passes [`userid::is_member`] here: a value that is
//! not exactly one member (`@all`, `a|b`, a control character) is dropped with a log line, and a
//! message left without a recipient is not sent.

use serde_json::{Value, json};

use crate::adapters::wecom::api::{MessageBody, Outbound};
use crate::adapters::wecom::userid;
use crate::base::log_safe::log_safe;
use crate::domain::reply::{Card, DeskPage, Reply};

/// How a group named in bot.toml `[groups]` is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRoute {
    /// An app group chat (`appchat/send`) by its chat id.
    AppChat(String),
    /// A group robot (`webhook/send`) by its group name; the API client looks its webhook key
    /// up when it delivers the message.
    Robot(String),
}

/// WeCom shows at most six rows on a card.
const MAX_ROWS: usize = 6;

/// Links from messages to the desk's pages: its address as members reach it and the words of
/// bot.toml `[desk]` (`link_label` names a card's row, `link_text` is the link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskLinks {
    /// The desk's address, e.g. `https://bot.example.com/desk`, without a trailing slash.
    pub base: String,
    pub label: String,
    pub text: String,
}

impl DeskLinks {
    fn url(&self, page: &DeskPage) -> String {
        format!("{}{}", self.base, page.path())
    }
}

/// The link of a message about `page`, when links are on.
fn link<'a>(
    links: Option<&'a DeskLinks>,
    page: &Option<DeskPage>,
) -> Option<(&'a DeskLinks, String)> {
    let (links, page) = (links?, page.as_ref()?);
    Some((links, links.url(page)))
}

/// `to` when it names exactly one member; otherwise `None`, logged.
fn member(to: String) -> Option<String> {
    if userid::is_member(&to) {
        Some(to)
    } else {
        tracing::warn!(to = %log_safe(&to), "recipient is not one member; dropped");
        None
    }
}

/// The members of `to` that are one member each; `None` when none is left.
fn members(to: Vec<String>) -> Option<Vec<String>> {
    let kept: Vec<String> = to.into_iter().filter_map(member).collect();
    (!kept.is_empty()).then_some(kept)
}

/// The wire message of `reply`, linked to its desk page when `links` is given; `None` when a
/// group has no route (logged by the caller) or no valid recipient is left (logged here).
pub fn outbound(
    reply: Reply,
    route: impl Fn(&str) -> Option<GroupRoute>,
    links: Option<&DeskLinks>,
) -> Option<Outbound> {
    Some(match reply {
        Reply::Text {
            to,
            mut text,
            link: page,
        } => {
            if let Some((links, url)) = link(links, &page) {
                text.push_str(&format!("\n{}：{url}", links.text));
            }
            Outbound::Send {
                to_user: member(to)?,
                body: MessageBody::Text { content: text },
            }
        }
        Reply::Card { to, card } => Outbound::Send {
            to_user: members(to)?.join("|"),
            body: MessageBody::TemplateCard {
                card: template_card(&card, link(links, &card.link)),
            },
        },
        Reply::File { to, export } => Outbound::File {
            to_user: member(to)?,
            export,
        },
        Reply::Evidence { to, evidence } => Outbound::Evidence {
            to_user: member(to)?,
            evidence,
        },
        Reply::CloseCard {
            members: to,
            response_code,
            label,
            fallback,
        } => Outbound::UpdateCard {
            userids: members(to)?,
            response_code,
            replace_name: Some(label),
            card: None,
            fallback,
        },
        Reply::CreateChat {
            chat_id,
            name,
            owner,
            members: to,
        } => Outbound::CreateChat {
            chat_id,
            name,
            owner: member(owner)?,
            members: members(to)?,
        },
        Reply::UpdateChat {
            chat_id,
            add,
            remove,
        } => Outbound::UpdateChat {
            chat_id,
            add: add.into_iter().filter_map(member).collect(),
            remove: remove.into_iter().filter_map(member).collect(),
        },
        Reply::Group {
            group,
            mut markdown,
            mentions,
            link: page,
        } => {
            if let Some((links, url)) = link(links, &page) {
                markdown.push_str(&format!("\n[{}]({url})", links.text));
            }
            match route(&group)? {
                GroupRoute::AppChat(chat_id) => {
                    // An app chat's markdown mentions members as `<@userid>` in the text.
                    let mut content = markdown;
                    for who in mentions.into_iter().filter_map(member) {
                        let tag = format!("<@{who}>");
                        if !content.contains(&tag) {
                            content.push(' ');
                            content.push_str(&tag);
                        }
                    }
                    let body = MessageBody::Markdown { content };
                    Outbound::AppChat { chat_id, body }
                }
                GroupRoute::Robot(robot) => Outbound::Robot {
                    robot,
                    body: MessageBody::Markdown { content: markdown },
                    mentioned: mentions.into_iter().filter_map(member).collect(),
                },
            }
        }
    })
}

/// WeCom's suggested limits (key names ≤ 5 characters, values ≤ 30, ...), in characters.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A `button_interaction` template card; its link, if any, is the last row (a URL row).
fn template_card(card: &Card, link: Option<(&DeskLinks, String)>) -> Value {
    let room = MAX_ROWS - usize::from(link.is_some());
    let mut rows: Vec<Value> = card
        .rows
        .iter()
        .take(room)
        .map(|row| match &row.member {
            Some(userid) => json!({"keyname": clip(&row.label, 5), "value": clip(&row.value, 30), "type": 3, "userid": userid}),
            None => json!({"keyname": clip(&row.label, 5), "value": clip(&row.value, 30)}),
        })
        .collect();
    if let Some((links, url)) = link {
        rows.push(json!({"keyname": clip(&links.label, 5), "value": clip(&links.text, 30), "type": 1, "url": url}));
    }
    let buttons: Vec<Value> = card
        .buttons
        .iter()
        .map(|b| json!({"text": b.text, "style": if b.primary { 1 } else { 2 }, "key": b.key}))
        .collect();
    let mut wire = json!({
        "card_type": "button_interaction",
        "source": {"desc": clip(&card.source, 20), "desc_color": 0},
        "main_title": {"title": clip(&card.title, 36), "desc": clip(&card.title_note, 44)},
        "horizontal_content_list": rows,
        "task_id": card.task_id,
        "button_list": buttons,
    });
    if let Some(note) = &card.note {
        wire["sub_title_text"] = Value::String(clip(note, 160));
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reply::{CardButton, CardRow};

    fn card(rows: usize) -> Card {
        Card {
            source: "新媒体备案助手（很长很长很长很长很长很长很长）".into(),
            title: "新媒体备案审批".into(),
            title_note: "单位负责人审批".into(),
            note: None,
            rows: (0..rows)
                .map(|i| CardRow {
                    label: format!("第{i}项内容名称"),
                    value: "值".repeat(40),
                    member: (i == 0).then(|| "zhangsan".to_owned()),
                })
                .collect(),
            task_id: "BA-2026-0001_r1_s0_x".into(),
            buttons: vec![
                CardButton {
                    text: "同意".into(),
                    key: "approve:BA-2026-0001".into(),
                    primary: true,
                },
                CardButton {
                    text: "驳回".into(),
                    key: "reject:BA-2026-0001".into(),
                    primary: false,
                },
            ],
            link: None,
        }
    }

    #[test]
    fn a_card_keeps_to_wecoms_limits() {
        let Some(Outbound::Send { to_user, body }) = outbound(
            Reply::Card {
                to: vec!["liuyang".into(), "wangfang".into()],
                card: card(8),
            },
            |_| None,
            None,
        ) else {
            panic!("a card is an app message");
        };
        assert_eq!(to_user, "liuyang|wangfang");
        let MessageBody::TemplateCard { card } = body else {
            panic!("a template card");
        };
        let rows = card["horizontal_content_list"].as_array().unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[0]["keyname"], "第0项内容");
        assert_eq!(rows[0]["value"].as_str().unwrap().chars().count(), 30);
        assert_eq!(rows[0]["type"], 3);
        assert_eq!(rows[0]["userid"], "zhangsan");
        assert!(rows[1].get("userid").is_none());
        assert_eq!(card["source"]["desc"].as_str().unwrap().chars().count(), 20);
        assert_eq!(card["button_list"][0]["style"], 1);
        assert_eq!(card["button_list"][1]["style"], 2);
        assert!(card.get("sub_title_text").is_none());
    }

    #[test]
    fn a_file_is_queued_as_what_to_export_not_as_bytes() {
        use crate::domain::records::export::{Export, What};
        let file = Reply::File {
            to: "lina".into(),
            export: Export {
                what: What::Register,
                units: Some(vec!["tw".into()]),
                year: None,
                task: None,
            },
        };
        let message = outbound(file, |_| None, None).expect("a file goes to a member");
        assert_eq!(message.channel(), "member:lina");
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            serde_json::json!({"kind": "file", "to_user": "lina",
                               "export": {"what": "register", "units": ["tw"]}})
        );
    }

    #[test]
    fn a_group_goes_to_its_chat_or_robot_or_nowhere() {
        let digest = |group: &str| Reply::Group {
            group: group.into(),
            markdown: "**待报备**".into(),
            mentions: vec!["liuyang".into()],
            link: None,
        };
        let route = |group: &str| match group {
            "chat" => Some(GroupRoute::AppChat("wrk123".into())),
            "robot" => Some(GroupRoute::Robot("robot".into())),
            _ => None,
        };
        assert!(matches!(
            outbound(digest("chat"), route, None),
            Some(Outbound::AppChat { chat_id, .. }) if chat_id == "wrk123"
        ));
        assert!(matches!(
            outbound(digest("robot"), route, None),
            Some(Outbound::Robot { mentioned, .. }) if mentioned == ["liuyang"]
        ));
        assert!(outbound(digest("none"), route, None).is_none());
    }

    #[test]
    fn only_single_members_are_recipients() {
        for bad in ["u01|u02", "@all", "u01\n", &"a".repeat(65)] {
            assert!(
                outbound(Reply::text(bad, "hi".into()), |_| None, None).is_none(),
                "{bad:?}"
            );
        }
        let Some(Outbound::Send { to_user, .. }) = outbound(
            Reply::Card {
                to: vec!["@all".into(), "liuyang".into(), "a|b".into()],
                card: card(1),
            },
            |_| None,
            None,
        ) else {
            panic!("the valid member keeps the card");
        };
        assert_eq!(to_user, "liuyang");
        let robot = Reply::Group {
            group: "robot".into(),
            markdown: "x".into(),
            mentions: vec!["@all".into(), "liuyang".into()],
            link: None,
        };
        assert!(matches!(
            outbound(robot, |_| Some(GroupRoute::Robot("robot".into())), None),
            Some(Outbound::Robot { mentioned, .. }) if mentioned == ["liuyang"]
        ));
    }

    fn links() -> DeskLinks {
        DeskLinks {
            base: "https://bot.example.com/desk".into(),
            label: "工作台".into(),
            text: "在工作台查看".into(),
        }
    }

    #[test]
    fn a_card_about_a_case_links_to_its_desk_page_as_its_last_row() {
        let mut linked = card(8);
        linked.link = Some(DeskPage::Case("BA-2026-0001".into()));
        let reply = Reply::Card {
            to: vec!["liuyang".into()],
            card: linked,
        };
        let Some(Outbound::Send {
            body: MessageBody::TemplateCard { card },
            ..
        }) = outbound(reply.clone(), |_| None, Some(&links()))
        else {
            panic!("a card");
        };
        let rows = card["horizontal_content_list"].as_array().unwrap();
        assert_eq!(rows.len(), 6, "five facts and the link");
        assert_eq!(rows[5]["type"], 1);
        assert_eq!(rows[5]["keyname"], "工作台");
        assert_eq!(
            rows[5]["url"],
            "https://bot.example.com/desk/case/BA-2026-0001"
        );
        // Without the desk, the same card has six facts and no link.
        let Some(Outbound::Send {
            body: MessageBody::TemplateCard { card },
            ..
        }) = outbound(reply, |_| None, None)
        else {
            panic!("a card");
        };
        let rows = card["horizontal_content_list"].as_array().unwrap();
        assert!(rows.iter().all(|r| r.get("url").is_none()));
    }

    #[test]
    fn a_text_about_a_page_ends_with_its_link_and_a_plain_text_has_none() {
        let about = Reply::text_about("lina", "年审进度".into(), DeskPage::Annual(2026));
        let plain = Reply::text("lina", "年审进度".into());
        let content = |reply| match outbound(reply, |_| None, Some(&links())) {
            Some(Outbound::Send {
                body: MessageBody::Text { content },
                ..
            }) => content,
            other => panic!("a text: {other:?}"),
        };
        assert_eq!(
            content(about),
            "年审进度\n在工作台查看：https://bot.example.com/desk/annual?year=2026"
        );
        assert_eq!(content(plain), "年审进度");
    }

    #[test]
    fn a_group_message_about_a_page_ends_with_its_link() {
        let reply = Reply::Group {
            group: "robot".into(),
            markdown: "**年审已开始**".into(),
            mentions: Vec::new(),
            link: Some(DeskPage::Annual(2026)),
        };
        let robot = |_: &str| Some(GroupRoute::Robot("robot".into()));
        let Some(Outbound::Robot { body, .. }) = outbound(reply, robot, Some(&links())) else {
            panic!("a robot message");
        };
        let MessageBody::Markdown { content } = body else {
            panic!("markdown");
        };
        assert_eq!(
            content,
            "**年审已开始**\n[在工作台查看](https://bot.example.com/desk/annual?year=2026)"
        );
    }
}
