//! Reaching the department at once and escalating until it acknowledges: the cards (已知悉 /
//! 处理中 / 已处置), the group message with @mentions, each rung of `[[incidents.rungs]]` (a
//! fresh card to whoever has none yet, a text pointing to the card to the others, the group
//! again when the rung says so; recorded on the incident), and a tap, whose first one by the
//! department acknowledges it for everyone: every card is updated and the ladder cancelled.

use minijinja::context;

use super::{in_department, load, say, settings, write};
use crate::adapters::wecom::message::CardEvent;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::incidents::{Incident, SentCard, Status};
use crate::domain::reply::{Card, CardButton, CardRow, DeskPage, Reply};

/// The durable timer of rung `rung` of `number`.
pub(super) fn timer_id(number: &str, rung: usize) -> String {
    format!("incident:{number}:{rung}")
}

/// The members the roles name (`unit_leader`: the leaders of the incident's unit).
pub(super) async fn recipients(
    s: &Services,
    incident: &Incident,
    roles: &[String],
) -> Result<Vec<String>, DispatchError> {
    let mut members = Vec::new();
    for role in roles {
        if role == "unit_leader" {
            if let Some(unit) = &incident.unit {
                members.extend(s.directory.leaders_of(unit).await?);
            }
        } else {
            members.extend(s.directory.role_members(role).await?);
        }
    }
    members.sort();
    members.dedup();
    Ok(members)
}

/// The context every incident message is rendered with.
fn facts(incident: &Incident) -> minijinja::Value {
    context! {
        number => &incident.number,
        unit => &incident.unit_name,
        account => &incident.account,
        what => &incident.what,
        reporter => &incident.reporter_name,
        links => incident.links.join(" "),
        screenshots => incident.evidence.len(),
        severity => &incident.severity,
    }
}

/// One card to `to`, recorded on the incident (rung 0: the report itself).
pub(super) fn send_cards(
    s: &Services,
    d: &mut Draft,
    incident: &mut Incident,
    to: &[String],
    rung: usize,
    now_ms: i64,
) {
    if to.is_empty() {
        return;
    }
    let ctx = facts(incident);
    let task_id = format!("{}_e{rung}_{now_ms}", incident.number);
    let row = |label: &str, value: &str| CardRow {
        label: say(s, label, &ctx),
        value: value.to_owned(),
        member: None,
    };
    let button = |key: &str, action: &str, primary: bool| CardButton {
        text: say(s, key, &ctx),
        key: format!("{action}:{}", incident.number),
        primary,
    };
    let card = Card {
        source: say(s, "card_title", &ctx),
        title: say(s, "card_title", &ctx),
        title_note: incident.number.clone(),
        note: Some(say(s, "card_note", &ctx)),
        rows: vec![
            row("row_unit", &incident.unit_name),
            row("row_account", &incident.account),
            CardRow {
                label: say(s, "row_reporter", &ctx),
                value: incident.reporter_name.clone(),
                member: Some(incident.reporter.clone()),
            },
            row("row_what", &incident.what),
        ],
        task_id: task_id.clone(),
        buttons: vec![
            button("button_ack", "inc_ack", true),
            button("button_handling", "inc_work", false),
            button("button_disposed", "inc_done", false),
        ],
        link: Some(DeskPage::Incidents),
    };
    d.send(Reply::Card {
        to: to.to_vec(),
        card,
    });
    incident.cards.push(SentCard {
        task_id,
        to: to.to_vec(),
    });
}

/// The message in the department's group, @-mentioning its members.
pub(super) async fn group_message(
    s: &Services,
    d: &mut Draft,
    incident: &Incident,
    rung: usize,
) -> Result<(), DispatchError> {
    let Some(cfg) = settings(s) else {
        return Ok(());
    };
    let Some(group) = &cfg.group else {
        return Ok(());
    };
    let mentions = s.directory.role_members(&cfg.department_role).await?;
    let markdown = say(s, "group", &context! { rung => rung, ..facts(incident) });
    d.send(Reply::Group {
        group: group.clone(),
        markdown,
        mentions,
        link: Some(DeskPage::Incidents),
    });
    Ok(())
}

/// Rung `rung` of `number` came due: nothing once acknowledged, else the next step.
pub(super) async fn rung(
    s: &Services,
    d: &mut Draft,
    number: &str,
    rung: usize,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let (Some(cfg), Some((mut incident, version))) = (settings(s), load(s, number).await?) else {
        return Ok(());
    };
    let Some(step) = cfg.rungs.get(rung).cloned() else {
        return Ok(());
    };
    if !incident.escalates() || incident.escalations.iter().any(|(r, _)| *r == rung) {
        return Ok(());
    }
    let to = recipients(s, &incident, &step.to).await?;
    let carded = incident.carded();
    let (known, new): (Vec<String>, Vec<String>) = to
        .into_iter()
        .filter(|u| *u != incident.reporter)
        .partition(|u| carded.contains(u));
    let minutes = (now_ms - incident.reported_ms) / 60_000;
    for member in &known {
        let text = say(
            s,
            "nudge",
            &context! { minutes => minutes, ..facts(&incident) },
        );
        d.say(member, text);
    }
    send_cards(s, d, &mut incident, &new, rung + 1, now_ms);
    for member in &new {
        for evidence in &incident.evidence {
            d.send(Reply::Evidence {
                to: member.clone(),
                evidence: evidence.clone(),
            });
        }
    }
    if step.group {
        group_message(s, d, &incident, rung + 1).await?;
    }
    incident.escalations.push((rung, now_ms));
    let mut names = Vec::new();
    for member in known.iter().chain(&new) {
        names.push(s.name_of(member).await?);
    }
    let line = say(
        s,
        "history_escalated",
        &context! { step => rung + 1, minutes => minutes, names => names.join("、"), group => step.group },
    );
    write(d, &incident, version, "bot", line, now_ms);
    Ok(())
}

/// A tap on an incident card.
pub(super) async fn tap(
    s: &Services,
    d: &mut Draft,
    tap: &CardEvent,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let (action, number) = tap.event_key.split_once(':').unwrap_or_default();
    let (Some(status), Some((mut incident, version))) =
        (Status::from_action(action), load(s, number).await?)
    else {
        return Ok(());
    };
    let name = s.name_of(&d.user).await?;
    let label = |s: &Services, status: Status, name: &str| {
        say(
            s,
            "label",
            &context! { status => status.name(), name => name },
        )
    };
    let department = in_department(s, &d.user).await?;
    if !department || !incident.tap(status, &d.user, now_ms) {
        // A unit leader noted it, or nothing changes: their own card shows it.
        let text = match department {
            true => say(
                s,
                "already",
                &context! { status => incident.status.name(), ..facts(&incident) },
            ),
            false => label(s, status, &name),
        };
        d.send(Reply::CloseCard {
            members: vec![d.user.clone()],
            response_code: tap.response_code.clone(),
            label: label(s, status, &name),
            fallback: None,
        });
        d.reply(text);
        return Ok(());
    }
    let first = incident.acknowledged_ms == Some(now_ms)
        && incident.acknowledged_by.as_deref() == Some(d.user.as_str());
    if first {
        // The ladder stops for everyone.
        let ids = (0..settings(s).map_or(0, |c| c.rungs.len())).map(|r| timer_id(number, r));
        d.commit.cancel_timers.extend(ids);
    }
    let task_ids: Vec<String> = incident.cards.iter().map(|c| c.task_id.clone()).collect();
    let text = label(s, status, &name);
    for (task_id, response_code) in s.store.card_codes(&task_ids, now_ms).await? {
        let members = incident
            .cards
            .iter()
            .find(|c| c.task_id == task_id)
            .map(|c| c.to.clone())
            .unwrap_or_default();
        d.send(Reply::CloseCard {
            members,
            response_code,
            label: text.clone(),
            fallback: None,
        });
    }
    let to_reporter = say(
        s,
        "acknowledged",
        &context! { status => status.name(), name => &name, ..facts(&incident) },
    );
    d.say(&incident.reporter.clone(), to_reporter);
    let line = say(
        s,
        "history_status",
        &context! { status => status.name(), name => &name },
    );
    write(d, &incident, version, &d.user.clone(), line, now_ms);
    Ok(())
}
