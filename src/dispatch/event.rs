//! The pipeline's events: what is queued for a conversation and handed to dispatch. One tagged
//! enum, stored with its tag (`"t"`), so the worker reads every event one way:
//!
//! - `{"t":"w", …}`: a WeCom message or event, as parsed from the callback;
//! - `{"t":"t","j":{…},"d":…}`: one of the bot's own timers fired; the same JSON is the timer's
//!   stored payload, which the store moves into the event queue unchanged when it fires.
//!
//! Timer payloads are kept short (one-letter names): a million pending timers cost about 310
//! bytes each on Redis (see `docs/ARCHITECTURE.md`).

use serde::{Deserialize, Serialize};

use crate::adapters::store::Timer;
use crate::adapters::wecom::message::{Inbound, InboundKind};

/// One event of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum Event {
    /// A message or event from WeCom's callback.
    #[serde(rename = "w")]
    WeCom(Box<Inbound>),
    /// A durable timer came due.
    #[serde(rename = "t")]
    Timer(FiredTimer),
}

/// A timer that came due: what it asks for and when it was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredTimer {
    #[serde(rename = "j")]
    pub job: TimerJob,
    #[serde(rename = "d")]
    pub due_ms: i64,
}

/// What a fired timer asks for; each kind is owned by one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum TimerJob {
    /// A direct-message rung of a duty's ladder (its `occurrence`-th firing, for repeats).
    #[serde(rename = "r")]
    Rung {
        #[serde(rename = "c")]
        duty: String,
        #[serde(rename = "r")]
        rung: usize,
        #[serde(rename = "o")]
        occurrence: u32,
    },
    /// The digest of every duty due in `group` at `slot_ms`.
    #[serde(rename = "g")]
    Digest {
        #[serde(rename = "g")]
        group: String,
        #[serde(rename = "s")]
        slot_ms: i64,
    },
    /// A rung of an incident's escalation ladder (`[[incidents.rungs]]`) came due.
    #[serde(rename = "i")]
    IncidentRung {
        #[serde(rename = "c")]
        incident: String,
        #[serde(rename = "r")]
        rung: usize,
    },
    /// An approval step past its deadline: a fresh card to whoever has not decided.
    #[serde(rename = "a")]
    ApprovalDue {
        #[serde(rename = "c")]
        case: String,
        #[serde(rename = "n")]
        round: u32,
        #[serde(rename = "p")]
        step: usize,
        #[serde(rename = "o")]
        occurrence: u32,
    },
    /// A draft sent for authorisation before publishing (`publication_review`) still has no
    /// answer: its `occurrence`-th reminder; `deadline_ms` is when the answer was due.
    #[serde(rename = "u")]
    PublicationDue {
        #[serde(rename = "c")]
        case: String,
        #[serde(rename = "n")]
        round: u32,
        #[serde(rename = "o")]
        occurrence: u32,
        #[serde(rename = "e")]
        deadline_ms: i64,
    },
    /// The work circle is brought in line with the register (one at a time, on its own
    /// conversation).
    #[serde(rename = "w")]
    CircleSync,
    /// The annual review campaign of `year` opens by schedule (`[campaigns.annual_review]
    /// opens_on`), on the conversation `campaign:NS-<year>`.
    #[serde(rename = "o")]
    CampaignOpen {
        #[serde(rename = "y")]
        year: i32,
    },
    /// A repost task's chase: `stage` 0 reminds the stragglers before the deadline, 1 sends
    /// the digests at the deadline.
    #[serde(rename = "p")]
    Repost {
        #[serde(rename = "c")]
        task: String,
        #[serde(rename = "s")]
        stage: u8,
    },
}

/// The conversation the work circle's sync runs on.
pub const CIRCLE_CONVERSATION: &str = "circle:work";
/// The id of the work circle's pending sync (one at a time, however many changes ask for it).
pub const CIRCLE_SYNC_TIMER: &str = "circle-sync";

impl Event {
    /// The event as stored in the queue.
    pub fn to_payload(&self) -> String {
        serde_json::to_string(self).expect("an event serializes")
    }

    /// An event read back from the queue.
    pub fn from_payload(payload: &str) -> serde_json::Result<Event> {
        serde_json::from_str(payload)
    }

    /// When it happened (ms): the message's `CreateTime`, or the time the timer was due.
    pub fn created_ms(&self) -> i64 {
        match self {
            Event::WeCom(inbound) => inbound.create_time.saturating_mul(1000),
            Event::Timer(fired) => fired.due_ms,
        }
    }

    /// The member who wrote or tapped, for a message that waits for an answer (a text, a file,
    /// a menu click or a card tap); `None` for system events and timers.
    pub fn asker(&self) -> Option<&str> {
        let Event::WeCom(inbound) = self else {
            return None;
        };
        match inbound.kind {
            InboundKind::Text { .. }
            | InboundKind::Media(_)
            | InboundKind::MenuClick { .. }
            | InboundKind::TemplateCardEvent(_) => Some(&inbound.from_user),
            _ => None,
        }
    }
}

/// The durable timer for `job`, due at `due_ms`: it fires as an event of the conversation of
/// what it chases (the duty, the group's digest, the case), so those are handled one at a time.
pub fn timer(id: String, due_ms: i64, job: &TimerJob) -> Timer {
    let conversation = match job {
        TimerJob::Rung { duty, .. } => format!("duty:{duty}"),
        TimerJob::Digest { group, .. } => format!("digest:{group}"),
        TimerJob::ApprovalDue { case, .. } | TimerJob::PublicationDue { case, .. } => {
            format!("case:{case}")
        }
        TimerJob::CircleSync => CIRCLE_CONVERSATION.to_owned(),
        TimerJob::Repost { task, .. } => format!("repost:{task}"),
        TimerJob::IncidentRung { incident, .. } => format!("incident:{incident}"),
        TimerJob::CampaignOpen { year } => format!("campaign:NS-{year}"),
    };
    let event = Event::Timer(FiredTimer {
        job: job.clone(),
        due_ms,
    });
    Timer {
        id,
        due_ms,
        conversation,
        payload: event.to_payload(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::wecom::message::InboundKind;

    #[test]
    fn events_round_trip_with_their_tag() {
        let chat = Event::WeCom(Box::new(Inbound {
            to_user: "corp".into(),
            from_user: "zhangsan".into(),
            create_time: 1,
            agent_id: Some("1000002".into()),
            kind: InboundKind::Text {
                msg_id: "m1".into(),
                content: "备案".into(),
            },
        }));
        let stored = chat.to_payload();
        assert!(stored.starts_with(r#"{"t":"w""#), "{stored}");
        assert_eq!(Event::from_payload(&stored).unwrap(), chat);

        let t = timer(
            "x".into(),
            7,
            &TimerJob::Digest {
                group: "propaganda".into(),
                slot_ms: 5,
            },
        );
        assert_eq!(t.conversation, "digest:propaganda");
        assert_eq!(
            t.payload,
            r#"{"t":"t","j":{"k":"g","g":"propaganda","s":5},"d":7}"#
        );
        assert!(matches!(
            Event::from_payload(&t.payload).unwrap(),
            Event::Timer(FiredTimer { due_ms: 7, .. })
        ));
    }

    #[test]
    fn an_untagged_payload_is_refused() {
        assert!(Event::from_payload(r#"{"j":{"k":"g","g":"x","s":1},"d":1}"#).is_err());
        assert!(Event::from_payload("not json").is_err());
    }
}
