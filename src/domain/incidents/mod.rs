//! Incident reports (舆情/突发事件上报, policy 3.3.2–3.3.4) as plain values: the stored incident
//! with its times (reported, acknowledged, closed: they feed the assessment), the short form a
//! reporter fills (two answers file it, the rest may follow) and the text commands. Pure.

mod command;

pub use command::{Command, parse};

use serde::{Deserialize, Serialize};

use crate::domain::evidence::EvidenceRef;

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Reported, nobody of the department has acknowledged it: it escalates.
    Open,
    Acknowledged,
    Handling,
    Disposed,
    Closed,
}

impl Status {
    /// The card button and label name of a status (`ack`, `handling`, `disposed`).
    pub fn from_action(action: &str) -> Option<Status> {
        match action {
            "inc_ack" => Some(Status::Acknowledged),
            "inc_work" => Some(Status::Handling),
            "inc_done" => Some(Status::Disposed),
            _ => None,
        }
    }

    /// Its name in templates.
    pub fn name(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Acknowledged => "acknowledged",
            Status::Handling => "handling",
            Status::Disposed => "disposed",
            Status::Closed => "closed",
        }
    }
}

/// One card sent for an incident: its task id and who got it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCard {
    pub task_id: String,
    pub to: Vec<String>,
}

/// A reported incident, stored as the body of its case number (e.g. `YQ-2026-0001`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub number: String,
    pub reporter: String,
    pub reporter_name: String,
    pub unit: Option<String>,
    pub unit_name: String,
    pub account: String,
    pub what: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
    #[serde(default)]
    pub severity: Option<String>,
    pub status: Status,
    pub reported_ms: i64,
    #[serde(default)]
    pub acknowledged_ms: Option<i64>,
    #[serde(default)]
    pub acknowledged_by: Option<String>,
    #[serde(default)]
    pub closed_ms: Option<i64>,
    /// The cards sent, to update them all when it is acknowledged.
    #[serde(default)]
    pub cards: Vec<SentCard>,
    /// The escalation steps taken: rung index and when.
    #[serde(default)]
    pub escalations: Vec<(usize, i64)>,
}

impl Incident {
    /// Everyone who got a card.
    pub fn carded(&self) -> Vec<String> {
        let mut all: Vec<String> = self.cards.iter().flat_map(|c| c.to.clone()).collect();
        all.sort();
        all.dedup();
        all
    }

    /// Minutes from the report to the department's acknowledgement (for the assessment).
    pub fn minutes_to_acknowledge(&self) -> Option<i64> {
        self.acknowledged_ms
            .map(|t| (t - self.reported_ms) / 60_000)
    }

    /// Minutes from the report to its closing (for the assessment).
    pub fn minutes_to_close(&self) -> Option<i64> {
        self.closed_ms.map(|t| (t - self.reported_ms) / 60_000)
    }

    /// Whether it still escalates (nobody of the department acknowledged it).
    pub fn escalates(&self) -> bool {
        self.status == Status::Open
    }

    /// Records a department member's tap: the first one acknowledges (and stops the
    /// escalation); later ones move the status on. `false` when nothing changes.
    pub fn tap(&mut self, status: Status, by: &str, now_ms: i64) -> bool {
        if self.status == Status::Closed || status == self.status {
            return false;
        }
        if self.acknowledged_ms.is_none() {
            self.acknowledged_ms = Some(now_ms);
            self.acknowledged_by = Some(by.to_owned());
        }
        self.status = status;
        true
    }

    /// Closes it (the department).
    pub fn close(&mut self, by: &str, now_ms: i64) -> bool {
        if self.status == Status::Closed {
            return false;
        }
        if self.acknowledged_ms.is_none() {
            self.acknowledged_ms = Some(now_ms);
            self.acknowledged_by = Some(by.to_owned());
        }
        self.status = Status::Closed;
        self.closed_ms = Some(now_ms);
        true
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an incident serializes")
    }

    pub fn from_json(json: &str) -> serde_json::Result<Incident> {
        serde_json::from_str(json)
    }
}

/// The index of every incident, and of the open ones.
pub const ALL: &str = "incidents";
pub const OPEN: &str = "incidents:open";

/// The reporter's short form, kept in their conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportForm {
    pub step: Step,
    #[serde(default)]
    pub account: Option<String>,
    /// Screenshots and links sent before or while reporting.
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
    #[serde(default)]
    pub links: Vec<String>,
}

/// What the form waits for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Nothing asked yet: screenshots or links are held for a report.
    #[default]
    Held,
    Account,
    What,
    /// Filed: further screenshots, links and a severity are added to this incident.
    Supplement(String),
}

/// The links (`http://`, `https://`) in `text`.
pub fn links_in(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| c.is_whitespace() || "，。；、“”（）<>".contains(c))
            .unwrap_or(tail.len());
        if tail.starts_with("http://") || tail.starts_with("https://") {
            links.push(tail[..end].to_owned());
            rest = &tail[end..];
        } else {
            rest = &tail["http".len()..];
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> Incident {
        Incident {
            number: "YQ-2026-0001".into(),
            reporter: "zhangsan".into(),
            reporter_name: "张三".into(),
            unit: Some("tw".into()),
            unit_name: "团委".into(),
            account: "青年之声".into(),
            what: "负面评论".into(),
            links: vec![],
            evidence: vec![],
            severity: None,
            status: Status::Open,
            reported_ms: 0,
            acknowledged_ms: None,
            acknowledged_by: None,
            closed_ms: None,
            cards: vec![],
            escalations: vec![],
        }
    }

    #[test]
    fn the_first_tap_acknowledges_and_stops_the_escalation() {
        let mut i = incident();
        assert!(i.escalates());
        assert!(i.tap(Status::Handling, "chenjing", 7 * 60_000));
        assert!(!i.escalates());
        assert_eq!(i.minutes_to_acknowledge(), Some(7));
        assert!(!i.tap(Status::Handling, "lina", 8 * 60_000));
        assert!(i.tap(Status::Disposed, "lina", 9 * 60_000));
        assert_eq!(i.acknowledged_by.as_deref(), Some("chenjing"));
        assert!(i.close("lina", 60 * 60_000));
        assert_eq!(i.minutes_to_close(), Some(60));
        assert!(!i.close("lina", 61 * 60_000));
        assert!(!i.tap(Status::Acknowledged, "lina", 62 * 60_000));
    }

    #[test]
    fn links_are_found_in_text() {
        assert_eq!(
            links_in("见 https://weibo.com/1，和http://x.cn/2"),
            vec!["https://weibo.com/1", "http://x.cn/2"]
        );
        assert!(links_in("没有链接").is_empty());
    }
}
