//! The reporter's side: screenshots and links held before the keyword, the two questions (the
//! account, what happened), filing at the second answer, and what follows (more screenshots,
//! links, the severity).

use minijinja::context;

use super::{escalation, load, say, settings, write};
use crate::base::normalize;
use crate::dispatch::{DispatchError, Draft, Handled, Services, numbers};
use crate::domain::evidence::EvidenceRef;
use crate::domain::incidents::{self, Incident, ReportForm, Status, Step};
use crate::domain::reply::Reply;

/// `舆情`: asks for the account, keeping what was held.
pub(super) fn start(s: &Services, d: &mut Draft) {
    let held = d.conversation.incident.take().unwrap_or_default();
    let form = ReportForm {
        step: Step::Account,
        evidence: held.evidence,
        links: held.links,
        account: None,
    };
    let text = say(
        s,
        "ask_account",
        &context! { screenshots => form.evidence.len(), links => form.links.len() },
    );
    d.conversation.incident = Some(form);
    d.reply(text);
}

/// A link sent outside any form is held for the next report; other texts are not ours.
pub(super) fn hold_link(s: &Services, d: &mut Draft, text: &str) -> Handled {
    let links = incidents::links_in(text);
    if links.is_empty() || links.join(" ").len() + 2 < normalize::normalize(text).len() {
        return Ok(false);
    }
    let form = d
        .conversation
        .incident
        .get_or_insert_with(ReportForm::default);
    form.links.extend(links);
    let text = say(s, "held", &context! { what => "link" });
    d.reply(text);
    Ok(true)
}

/// A screenshot: added to the incident being supplemented, or held for the report.
pub(super) async fn add_evidence(
    s: &Services,
    d: &mut Draft,
    evidence: &EvidenceRef,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let form = d
        .conversation
        .incident
        .get_or_insert_with(ReportForm::default);
    if let Step::Supplement(number) = form.step.clone() {
        return supplement(
            s,
            d,
            &number,
            Some(evidence.clone()),
            Vec::new(),
            None,
            now_ms,
        )
        .await;
    }
    form.evidence.push(evidence.clone());
    if form.step == Step::Held {
        let text = say(s, "held", &context! { what => "image" });
        d.reply(text);
    }
    Ok(())
}

/// An answer to the form; `false` when the text is not one (the form is left).
pub(super) async fn on_answer(s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
    let Some(form) = d.conversation.incident.clone() else {
        return Ok(false);
    };
    let answer = normalize::normalize(text);
    match form.step {
        Step::Held => Ok(false),
        Step::Account => {
            if answer.is_empty() {
                return Ok(false);
            }
            let mut form = form;
            form.account = Some(answer);
            form.step = Step::What;
            d.conversation.incident = Some(form);
            let text = say(s, "ask_what", &context! {});
            d.reply(text);
            Ok(true)
        }
        Step::What => {
            if answer.is_empty() {
                return Ok(false);
            }
            file(s, d, form, &answer, now_ms).await?;
            Ok(true)
        }
        Step::Supplement(number) => {
            let severities = settings(s)
                .map(|c| c.severities.clone())
                .unwrap_or_default();
            let links = incidents::links_in(&answer);
            if let Some(severity) = severities.iter().find(|v| **v == answer) {
                supplement(
                    s,
                    d,
                    &number,
                    None,
                    Vec::new(),
                    Some(severity.clone()),
                    now_ms,
                )
                .await?;
                Ok(true)
            } else if !links.is_empty() {
                supplement(s, d, &number, None, links, None, now_ms).await?;
                Ok(true)
            } else {
                // Anything else ends the supplement; the text goes to the other processes.
                d.conversation.incident = None;
                Ok(false)
            }
        }
    }
}

/// Files the report: numbers it, sends the cards, the evidence and the group message, and
/// schedules the ladder.
async fn file(
    s: &Services,
    d: &mut Draft,
    form: ReportForm,
    what: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(cfg) = settings(s) else {
        return Ok(());
    };
    let now = s.clock.at(now_ms);
    let number = numbers::next(s.store.as_ref(), &cfg.prefix, now).await?;
    let unit = s.directory.units_of(&d.user).await?.into_iter().next();
    let mut links = form.links.clone();
    links.extend(incidents::links_in(what));
    let mut incident = Incident {
        number: number.clone(),
        reporter: d.user.clone(),
        reporter_name: s.name_of(&d.user).await?,
        unit: unit.as_ref().map(|u| u.id.clone()),
        unit_name: unit.map(|u| u.name).unwrap_or_default(),
        account: form.account.clone().unwrap_or_default(),
        what: what.to_owned(),
        links,
        evidence: form.evidence.clone(),
        severity: None,
        status: Status::Open,
        reported_ms: now_ms,
        acknowledged_ms: None,
        acknowledged_by: None,
        closed_ms: None,
        cards: Vec::new(),
        escalations: Vec::new(),
    };
    let mut first = escalation::recipients(s, &incident, &["unit_leader".to_owned()]).await?;
    first.extend(s.directory.role_members(&cfg.department_role).await?);
    first.retain(|u| *u != incident.reporter);
    first.sort();
    first.dedup();
    escalation::send_cards(s, d, &mut incident, &first, 0, now_ms);
    for member in &first {
        for evidence in &incident.evidence {
            d.send(Reply::Evidence {
                to: member.clone(),
                evidence: evidence.clone(),
            });
        }
    }
    escalation::group_message(s, d, &incident, 0).await?;
    for (i, rung) in cfg.rungs.iter().enumerate() {
        let due = now_ms + i64::from(rung.minutes) * 60_000;
        let job = crate::dispatch::event::TimerJob::IncidentRung {
            incident: number.clone(),
            rung: i,
        };
        d.schedule(escalation::timer_id(&number, i), due, &job);
    }
    let line = say(
        s,
        "history_filed",
        &context! { name => &incident.reporter_name },
    );
    write(d, &incident, 0, &d.user.clone(), line, now_ms);
    let text = say(
        s,
        "filed",
        &context! { number => &number, severities => cfg.severities.join("、") },
    );
    d.reply(text);
    d.conversation.incident = Some(ReportForm {
        step: Step::Supplement(number),
        ..ReportForm::default()
    });
    Ok(())
}

/// Adds a screenshot, links or the severity to a filed incident and forwards them to everyone
/// who has its card.
async fn supplement(
    s: &Services,
    d: &mut Draft,
    number: &str,
    evidence: Option<EvidenceRef>,
    links: Vec<String>,
    severity: Option<String>,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((mut incident, version)) = load(s, number).await? else {
        d.conversation.incident = None;
        return Ok(());
    };
    let carded = incident.carded();
    if let Some(evidence) = &evidence {
        incident.evidence.push(evidence.clone());
        for member in &carded {
            d.send(Reply::Evidence {
                to: member.clone(),
                evidence: evidence.clone(),
            });
        }
    }
    incident.links.extend(links.iter().cloned());
    if severity.is_some() {
        incident.severity = severity.clone();
    }
    let ctx = context! {
        number => number,
        image => evidence.is_some(),
        links => links.join(" "),
        severity => &severity,
        unit => &incident.unit_name,
        account => &incident.account,
    };
    for member in &carded {
        if evidence.is_none() {
            d.say(
                member,
                say(
                    s,
                    "supplement_saved",
                    &context! { to_department => true, ..ctx.clone() },
                ),
            );
        }
    }
    let line = say(
        s,
        "supplement_saved",
        &context! { to_department => false, ..ctx.clone() },
    );
    write(d, &incident, version, &d.user.clone(), line.clone(), now_ms);
    d.reply(line);
    Ok(())
}
