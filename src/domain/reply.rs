//! What the bot says, in the domain's own terms: a text to a member, an approval card with its
//! buttons, closing a tapped card, a spreadsheet as a file, a digest for a group chat. The WeCom layer
//! (`wecom::render`) turns these into WeCom's wire bodies; nothing here knows that format or
//! WeCom's size limits.

use crate::domain::evidence::EvidenceRef;
use crate::domain::records::export::Export;

/// One message the bot sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A text to one member; `link` names the desk page it is about (linked when the desk is
    /// served).
    Text {
        to: String,
        text: String,
        link: Option<DeskPage>,
    },
    /// An interactive card to these members.
    Card { to: Vec<String>, card: Card },
    /// A tapped card is spent: show `label` instead of its buttons to `members`; when the card
    /// can no longer be updated, tell them `fallback` instead.
    CloseCard {
        members: Vec<String>,
        response_code: String,
        label: String,
        fallback: Option<String>,
    },
    /// A spreadsheet sent as a file to one member (built and uploaded when delivered).
    File { to: String, export: Export },
    /// An evidence file (a screenshot, a document) forwarded to one member (read from the
    /// evidence store and uploaded when delivered).
    Evidence { to: String, evidence: EvidenceRef },
    /// An app group chat the bot keeps (the work circle) is created with these members.
    CreateChat {
        chat_id: String,
        name: String,
        owner: String,
        members: Vec<String>,
    },
    /// Members join or leave an app group chat the bot created.
    UpdateChat {
        chat_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// A formatted (markdown) message in a group chat named in bot.toml `[groups]`, with these
    /// members @-mentioned.
    Group {
        group: String,
        markdown: String,
        mentions: Vec<String>,
        /// The desk page the message is about, linked when the desk is served.
        link: Option<DeskPage>,
    },
}

/// A page of the department's desk (README "The desk") a message is about. The message carries
/// a link to it when bot.toml has `[desk]` and the desk's address is known; otherwise nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskPage {
    /// A case (an application, a report) by its number.
    Case(String),
    /// The annual review's progress of a year.
    Annual(i32),
    /// The incidents still open.
    Incidents,
    /// The repost tasks and their coverage.
    Reposts,
    /// Cases waiting for a decision and open duties.
    Todo,
}

impl DeskPage {
    /// The page's path under the desk's address (`/desk`).
    pub fn path(&self) -> String {
        match self {
            DeskPage::Case(number) => format!("/case/{number}"),
            DeskPage::Annual(year) => format!("/annual?year={year}"),
            DeskPage::Incidents => "/incidents".to_owned(),
            DeskPage::Reposts => "/reposts".to_owned(),
            DeskPage::Todo => "/todo".to_owned(),
        }
    }
}

impl Reply {
    /// A text to one member.
    pub fn text(to: &str, text: String) -> Reply {
        Reply::Text {
            to: to.to_owned(),
            text,
            link: None,
        }
    }

    /// A text to one member about a desk page (a supervisor's answer: progress, a list).
    pub fn text_about(to: &str, text: String, page: DeskPage) -> Reply {
        Reply::Text {
            to: to.to_owned(),
            text,
            link: Some(page),
        }
    }
}

/// A card with a title, rows of facts and buttons; a tap comes back with the button's key and
/// the card's task id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// A short line naming the sender (e.g. the app).
    pub source: String,
    pub title: String,
    /// The line under the title (e.g. the approval step).
    pub title_note: String,
    /// An optional paragraph under the title (e.g. what changed since the last round).
    pub note: Option<String>,
    pub rows: Vec<CardRow>,
    /// Unique and unguessable; the tap names it.
    pub task_id: String,
    pub buttons: Vec<CardButton>,
    /// The desk page the card is about, linked as its last row when the desk is served.
    pub link: Option<DeskPage>,
}

/// One fact on a card; `member` makes the value a link to that member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRow {
    pub label: String,
    pub value: String,
    pub member: Option<String>,
}

/// A button: its text, the key a tap returns, and whether it is the main action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardButton {
    pub text: String,
    pub key: String,
    pub primary: bool,
}
