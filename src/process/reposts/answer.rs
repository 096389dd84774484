//! An administrator answers a repost task for one account: a tap on 已转发 records it at once
//! (and the next text may give the repost's link); a tap on 无法转发 asks the reason in chat, as
//! 驳回 does, and records it with the reason. The card is greyed out once answered.

use super::{DONE, UNABLE, load_or_say, save, say};
use crate::adapters::wecom::message::CardEvent;
use crate::base::normalize;
use crate::base::scripts::Words;
use crate::dispatch::{DispatchError, Draft, Handled, Services};
use crate::domain::reply::Reply;
use crate::domain::reposts::{Answer, PendingRepost, Task};

/// A tap on a task's card: `repost_done:ZF-…/DJ-…` or `repost_unable:ZF-…/DJ-…`.
pub(super) async fn tap(
    s: &Services,
    d: &mut Draft,
    tap: &CardEvent,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((action, reference)) = tap.event_key.split_once(':') else {
        return Ok(());
    };
    let Some((number, account)) = reference.split_once('/') else {
        return Ok(());
    };
    let Some((mut task, version)) = load_or_say(s, d, number).await? else {
        return Ok(());
    };
    let Some(at) = target_of(s, d, &task, account) else {
        return Ok(());
    };
    let ctx = minijinja::context! { number, account => &task.targets[at].account_name };
    let response_code = Some(tap.response_code.clone()).filter(|c| !c.is_empty());
    match action {
        DONE => {
            task.targets[at].answer = Answer::Done { link: None };
            task.targets[at].answered_at_ms = Some(now_ms);
            save(d, &task, version);
            close_card(s, d, response_code, "card_done");
            d.reply(say(s, "done_recorded", ctx));
            d.conversation.awaiting_repost = Some(PendingRepost {
                task: number.to_owned(),
                account: account.to_owned(),
                reason: false,
                response_code: None,
            });
        }
        UNABLE => {
            d.reply(say(s, "ask_reason", ctx));
            d.conversation.awaiting_repost = Some(PendingRepost {
                task: number.to_owned(),
                account: account.to_owned(),
                reason: true,
                response_code,
            });
        }
        _ => {}
    }
    Ok(())
}

/// The index of the task's target `account` when the user is its administrator and it has not
/// been answered; otherwise the user is told why not.
fn target_of(s: &Services, d: &mut Draft, task: &Task, account: &str) -> Option<usize> {
    let at = task
        .targets
        .iter()
        .position(|t| t.account == account && t.admin == d.user);
    let Some(at) = at else {
        let ctx = minijinja::context! { number => &task.number };
        d.reply(say(s, "not_target", ctx));
        return None;
    };
    if task.targets[at].answer != Answer::Pending {
        let ctx = minijinja::context! {
            number => &task.number, account => &task.targets[at].account_name,
        };
        d.reply(say(s, "already_answered", ctx));
        return None;
    }
    Some(at)
}

fn close_card(s: &Services, d: &mut Draft, response_code: Option<String>, label: &str) {
    if let Some(response_code) = response_code {
        d.send(Reply::CloseCard {
            members: vec![d.user.clone()],
            response_code,
            label: say(s, label, minijinja::Value::UNDEFINED),
            fallback: None,
        });
    }
}

/// The text after a tap: the reason of 无法转发 (or 取消), or the link of a repost (any other
/// text is not one, and goes on to the other processes).
pub(super) async fn pending_text(
    s: &Services,
    d: &mut Draft,
    pending: PendingRepost,
    text: &str,
    now_ms: i64,
) -> Handled {
    d.conversation.awaiting_repost = None;
    let text = normalize::normalize(text);
    let is_link = text.starts_with("http://") || text.starts_with("https://");
    if !pending.reason && !is_link {
        return Ok(false);
    }
    let Some((mut task, version)) = load_or_say(s, d, &pending.task).await? else {
        return Ok(true);
    };
    let Some(at) = task
        .targets
        .iter()
        .position(|t| t.account == pending.account && t.admin == d.user)
    else {
        return Ok(true);
    };
    let target = &mut task.targets[at];
    let ctx = minijinja::context! {
        number => &pending.task, account => &target.account_name, reason => &text, link => &text,
    };
    if !pending.reason {
        if let Answer::Done { link } = &mut target.answer {
            *link = Some(text.clone());
            save(d, &task, version);
            d.reply(say(s, "link_recorded", ctx));
        }
        return Ok(true);
    }
    if Words::is(&s.scripts.words.cancel, &normalize::key(&text)) {
        d.reply(say(s, "reason_cancelled", ctx));
        return Ok(true);
    }
    if target.answer != Answer::Pending {
        d.reply(say(s, "already_answered", ctx));
        return Ok(true);
    }
    target.answer = Answer::Unable {
        reason: text.clone(),
    };
    target.answered_at_ms = Some(now_ms);
    save(d, &task, version);
    close_card(s, d, pending.response_code, "card_unable");
    d.reply(say(s, "unable_recorded", ctx));
    Ok(true)
}
