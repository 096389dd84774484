//! Against a second delivery of one outbox item, where WeCom can prevent it. Pure.
//!
//! An attempt whose outcome is unknown (sent, no answer read; or claimed by a sender that died)
//! may have been delivered. When such an item is sent again:
//! - a card (`template_card`) carries the task id it was first sent with (it is part of the
//!   queued payload), which WeCom accepts once: the answer 42014 ("taskid has existed") means
//!   the first attempt was delivered, and counts as delivered;
//! - an app message (`message/send`: text, markdown) asks for WeCom's duplicate check over the
//!   time since that attempt (plus a margin, at most WeCom's four hours), so a copy delivered
//!   then is not delivered again. The check is asked for only on such a resend: on every send it
//!   would also swallow a legitimate repeat (the same prompt asked twice within the interval).
//!
//! What stays at-least-once: group robots and app group chats (no such check exists), files and
//! evidence (uploaded again, so the message differs), a resend more than four hours after the
//! unknown attempt, and a resend whose check would also match an identical message legitimately
//! sent to the same member within the interval (then that resend is dropped instead).

use std::time::Duration;

use crate::adapters::wecom::api::{ApiError, MAX_DUPLICATE_CHECK, MessageBody, Outbound};

/// WeCom's answer to a card whose task id was used before.
pub const TASK_ID_EXISTS: i64 = 42014;
/// Added to the time since the unknown attempt (clocks and queues differ a little).
const CHECK_MARGIN: Duration = Duration::from_secs(60);

/// The duplicate check interval for resending `message` at `now_ms` when an attempt with an
/// unknown outcome started at `unknown_since_ms`; `None` when no check applies or helps.
pub fn duplicate_check(
    message: &Outbound,
    unknown_since_ms: Option<i64>,
    now_ms: i64,
) -> Option<Duration> {
    let since = unknown_since_ms?;
    let Outbound::Send { body, .. } = message else {
        return None;
    };
    if !matches!(
        body,
        MessageBody::Text { .. } | MessageBody::Markdown { .. }
    ) {
        return None;
    }
    let elapsed = Duration::from_millis(u64::try_from(now_ms.saturating_sub(since)).unwrap_or(0));
    let interval = elapsed + CHECK_MARGIN;
    (interval <= MAX_DUPLICATE_CHECK).then_some(interval)
}

/// Whether `error`, answered to a resend of `message` after an unknown outcome, says that the
/// card was delivered by the earlier attempt.
pub fn card_already_delivered(
    message: &Outbound,
    unknown_since_ms: Option<i64>,
    error: &ApiError,
) -> bool {
    let Outbound::Send {
        body: MessageBody::TemplateCard { card },
        ..
    } = message
    else {
        return false;
    };
    unknown_since_ms.is_some()
        && valid_task_id(card["task_id"].as_str().unwrap_or(""))
        && matches!(error, ApiError::Refused { errcode, .. } if *errcode == TASK_ID_EXISTS)
}

/// WeCom's task id rules (`[0-9A-Za-z_\-@]`, 1 to 128 bytes): with them met, 42014 can only
/// mean "used before".
fn valid_task_id(task_id: &str) -> bool {
    !task_id.is_empty()
        && task_id.len() <= 128
        && task_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text() -> Outbound {
        Outbound::Send {
            to_user: "zhangsan".into(),
            body: MessageBody::Text {
                content: "hello".into(),
            },
        }
    }

    fn card(task_id: &str) -> Outbound {
        Outbound::Send {
            to_user: "zhangsan".into(),
            body: MessageBody::TemplateCard {
                card: json!({"card_type": "button_interaction", "task_id": task_id}),
            },
        }
    }

    #[test]
    fn the_check_is_asked_only_on_a_resend_after_an_unknown_outcome() {
        assert_eq!(duplicate_check(&text(), None, 10_000), None);
        assert_eq!(
            duplicate_check(&text(), Some(10_000), 40_000),
            Some(Duration::from_secs(90))
        );
        let five_hours = 5 * 3_600_000;
        assert_eq!(duplicate_check(&text(), Some(0), five_hours), None);
        assert_eq!(duplicate_check(&card("t1"), Some(0), 1_000), None);
    }

    #[test]
    fn task_id_exists_counts_as_delivered_only_on_a_resend_of_a_valid_card() {
        let exists = ApiError::Refused {
            errcode: TASK_ID_EXISTS,
            errmsg: "taskid has existed".into(),
        };
        assert!(card_already_delivered(
            &card("BA-1_r1_s0_ab"),
            Some(1),
            &exists
        ));
        assert!(!card_already_delivered(
            &card("BA-1_r1_s0_ab"),
            None,
            &exists
        ));
        assert!(!card_already_delivered(&card(""), Some(1), &exists));
        assert!(!card_already_delivered(&text(), Some(1), &exists));
        let other = ApiError::Refused {
            errcode: 81013,
            errmsg: String::new(),
        };
        assert!(!card_already_delivered(&card("t1"), Some(1), &other));
    }
}
