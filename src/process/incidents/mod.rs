//! Incident reports (舆情/突发事件上报, policy 3.3.2–3.3.4), when bot.toml has `[incidents]`.
//! `舆情`/`上报` (or the menu key, or a screenshot or link first and then the keyword) opens a
//! short form: the account, then what happened; the second answer files it at once, whatever
//! the hour: a card with 已知悉/处理中/已处置 to the unit's leaders and the department's
//! members, the screenshots forwarded, a message in the department's group with @mentions, and
//! the escalation ladder (`[[incidents.rungs]]`, in minutes, never deferred) scheduled. More
//! screenshots, links and the severity may follow. The department's first tap acknowledges it
//! for everyone (every card updated, the ladder cancelled); `口径`/`处置要求` sends the unit an
//! instruction, `处置` reports what was done, `办结` closes it, `舆情 列表` lists the open ones.
//! Times to acknowledge and to close are kept on the incident
//! ([`crate::domain::incidents::Incident`]).

mod commands;
mod escalation;
mod report;

use async_trait::async_trait;
use minijinja::Value;

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::CardEvent;
use crate::base::scripts::{IncidentSettings, tpl};
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Handled, Process, Services};
use crate::domain::engine::CommandInput;
use crate::domain::evidence::EvidenceRef;
use crate::domain::incidents::{self, Command, Incident};

/// The incidents process.
pub struct Incidents;

/// The card actions: 已知悉, 处理中, 已处置.
const ACTIONS: &[&str] = &["inc_ack", "inc_work", "inc_done"];

fn settings(s: &Services) -> Option<&IncidentSettings> {
    s.scripts.incidents.as_ref()
}

/// An `[incidents.messages]` text.
fn say(s: &Services, key: &str, ctx: &Value) -> String {
    s.scripts.render(&tpl::incident(key), ctx)
}

/// A stored incident with the version its write must expect.
async fn load(s: &Services, number: &str) -> Result<Option<(Incident, u64)>, DispatchError> {
    let Some(record) = s.store.get_case(number).await? else {
        return Ok(None);
    };
    if record.body.is_empty() {
        return Ok(None);
    }
    let incident = Incident::from_json(&record.body)
        .map_err(|e| DispatchError::CorruptCase(number.to_owned(), e.to_string()))?;
    Ok(Some((incident, record.version)))
}

/// Writes `incident` (expecting `version`) with one history line by `by`.
fn write(d: &mut Draft, incident: &Incident, version: u64, by: &str, line: String, now_ms: i64) {
    let entry = serde_json::json!({"at_ms": now_ms, "by": by, "text": line}).to_string();
    let open = incident.status != incidents::Status::Closed;
    d.write_case(CaseWrite {
        number: incident.number.clone(),
        expected_version: Some(version),
        body: Some(incident.to_json()),
        history: vec![entry],
        add_to: if open && version == 0 {
            vec![incidents::ALL.to_owned(), incidents::OPEN.to_owned()]
        } else {
            Vec::new()
        },
        remove_from: if open {
            Vec::new()
        } else {
            vec![incidents::OPEN.to_owned()]
        },
    });
}

/// Whether `user` is a member of the department (the role that must acknowledge).
async fn in_department(s: &Services, user: &str) -> Result<bool, DispatchError> {
    let Some(cfg) = settings(s) else {
        return Ok(false);
    };
    let members = s.directory.role_members(&cfg.department_role).await?;
    Ok(members.iter().any(|m| m == user))
}

/// Whether `text` is a prefix-numbered incident (e.g. `YQ-2026-0001`).
fn is_incident_number(s: &Services, number: &str) -> bool {
    settings(s).is_some_and(|c| number.starts_with(&format!("{}-", c.prefix)))
}

/// A case command (`状态`, `撤回`, `催办`, `同意`, `驳回`, `修改`) given an incident number:
/// `状态` shows the incident to those who have it (the reporter, everyone carded, the
/// department), the others are told it does not apply to incidents. `false` when `number` is
/// not an incident number (an ordinary case: the command runs as usual).
pub(crate) async fn case_command(
    s: &Services,
    d: &mut Draft,
    number: &str,
    status: bool,
) -> Result<bool, DispatchError> {
    if !is_incident_number(s, number) {
        return Ok(false);
    }
    if !status {
        d.reply(say(
            s,
            "not_case",
            &minijinja::context! { number => number },
        ));
        return Ok(true);
    }
    let found = match load(s, number).await? {
        Some((incident, _)) => {
            let mine = incident.reporter == d.user || incident.carded().contains(&d.user);
            (mine || in_department(s, &d.user).await?).then_some(incident)
        }
        None => None,
    };
    let Some(incident) = found else {
        d.reply(say(s, "unknown", &minijinja::context! { number => number }));
        return Ok(true);
    };
    let holder = match &incident.acknowledged_by {
        Some(userid) => s.name_of(userid).await?,
        None => String::new(),
    };
    let ctx = minijinja::context! {
        number => number,
        unit => &incident.unit_name,
        account => &incident.account,
        what => &incident.what,
        status => incident.status.name(),
        holder => holder,
        escalations => incident.escalations.len(),
        minutes_to_acknowledge => incident.minutes_to_acknowledge(),
        minutes_to_close => incident.minutes_to_close(),
    };
    d.reply(say(s, "status", &ctx));
    Ok(true)
}

#[async_trait]
impl Process for Incidents {
    fn name(&self) -> &'static str {
        "incidents"
    }

    fn card_actions(&self) -> &'static [&'static str] {
        ACTIONS
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::IncidentRung { .. })
    }

    /// Every incident command typed in a form is asked about; `舆情` then opens the report at
    /// once while the form waits (an incident does not wait for a form to be finished).
    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        let cfg = settings(s)?;
        incidents::parse(text, &cfg.keywords)?;
        s.command_in_form("incidents")
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        let Some(cfg) = settings(s) else {
            return Ok(false);
        };
        // An incident report started while a form waits is answered first.
        let form_waits = d.conversation.form.form.as_ref().is_some_and(|f| f.paused);
        if (d.conversation.form.is_idle() || form_waits)
            && d.conversation.incident.is_some()
            && report::on_answer(s, d, text, now_ms).await?
        {
            return Ok(true);
        }
        if !d.conversation.form.is_idle() {
            return Ok(false);
        }
        match incidents::parse(text, &cfg.keywords) {
            Some(Command::Start) => report::start(s, d),
            Some(command) => commands::run(s, d, command, now_ms).await?,
            None => return report::hold_link(s, d, text),
        }
        Ok(true)
    }

    async fn on_menu(&self, s: &Services, d: &mut Draft, key: &str, _now_ms: i64) -> Handled {
        let Some(cfg) = settings(s) else {
            return Ok(false);
        };
        if cfg.menu_key.as_deref() != Some(key) || !d.conversation.form.is_idle() {
            return Ok(false);
        }
        report::start(s, d);
        Ok(true)
    }

    async fn on_evidence(
        &self,
        s: &Services,
        d: &mut Draft,
        evidence: &EvidenceRef,
        now_ms: i64,
    ) -> Handled {
        if settings(s).is_none() || !d.conversation.form.is_idle() {
            return Ok(false);
        }
        report::add_evidence(s, d, evidence, now_ms).await?;
        Ok(true)
    }

    async fn on_card(
        &self,
        s: &Services,
        d: &mut Draft,
        tap: &CardEvent,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        escalation::tap(s, d, tap, now_ms).await
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        _due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        if let TimerJob::IncidentRung { incident, rung } = job {
            escalation::rung(s, d, incident, *rung, now_ms).await?;
        }
        Ok(())
    }
}
