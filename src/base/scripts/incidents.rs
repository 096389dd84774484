//! `bot.toml` `[incidents]` (optional): the incident report (舆情上报, policy 3.3.2–3.3.4). Its
//! keywords and menu key, the case prefix, the department's role (on duty around the clock),
//! its group, the severities, the escalation ladder in minutes (`[[incidents.rungs]]`, never
//! deferred by quiet hours or holidays) and its messages (`[incidents.messages]`). Without the
//! table, `舆情` gets the help text.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::compile::{BUILTIN_ROLES, Compiler};
use super::model::RawBot;
use super::tpl;
use crate::base::diagnostics::Source;
use crate::base::normalize::key;

/// Every message `[incidents.messages]` must define (and nothing else).
pub const INCIDENT_MESSAGES: &[&str] = &[
    "held",
    "ask_account",
    "ask_what",
    "filed",
    "card_title",
    "card_note",
    "row_unit",
    "row_account",
    "row_reporter",
    "row_what",
    "button_ack",
    "button_handling",
    "button_disposed",
    "label",
    "group",
    "nudge",
    "history_filed",
    "history_escalated",
    "history_status",
    "acknowledged",
    "already",
    "supplement_saved",
    "list",
    "list_item",
    "list_empty",
    "refused",
    "usage",
    "unknown",
    "instruction",
    "instruction_sent",
    "report",
    "report_sent",
    "closed",
    "closed_done",
    "status",
    "not_case",
];

/// `[incidents]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncidents {
    pub keywords: Vec<Spanned<String>>,
    #[serde(default)]
    pub menu_key: Option<String>,
    pub prefix: Spanned<String>,
    /// The role whose members get every incident at once and must acknowledge it.
    pub department_role: Spanned<String>,
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    pub severities: Vec<String>,
    #[serde(default)]
    pub rungs: Vec<Spanned<RawRung>>,
    pub messages: Spanned<BTreeMap<String, Spanned<String>>>,
}

/// One escalation step: minutes after the report, to whom, and whether the group hears it too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRung {
    pub minutes: u32,
    pub to: Vec<Spanned<String>>,
    #[serde(default)]
    pub group: bool,
}

/// The compiled `[incidents]`.
#[derive(Debug, Clone)]
pub struct IncidentSettings {
    /// Normalised keywords.
    pub keywords: Vec<String>,
    pub menu_key: Option<String>,
    pub prefix: String,
    pub department_role: String,
    pub group: Option<String>,
    pub severities: Vec<String>,
    pub rungs: Vec<IncidentRung>,
}

/// A compiled escalation step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRung {
    pub minutes: u32,
    /// Roles (`unit_leader` included).
    pub to: Vec<String>,
    pub group: bool,
}

impl Compiler {
    /// `[incidents]`: known roles and group, rungs in increasing minutes, every message.
    pub(super) fn incidents(
        &mut self,
        src: &Source,
        bot: &RawBot,
        raw: &RawIncidents,
    ) -> IncidentSettings {
        let known_role = |r: &str| BUILTIN_ROLES.contains(&r) || bot.roles.contains_key(r);
        let role = raw.department_role.get_ref();
        if !known_role(role) {
            let msg = format!("[incidents] department_role `{role}` is not a role of [roles]");
            self.d.error(src.at(raw.department_role.span(), msg));
        }
        if let Some(group) = &raw.group
            && !bot.groups.contains_key(group.get_ref())
        {
            let msg = format!("[incidents] group `{}` is not in [groups]", group.get_ref());
            self.d.error(src.at(group.span(), msg));
        }
        let prefix = raw.prefix.get_ref();
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_uppercase()) {
            let msg = "[incidents] prefix must be capital letters, e.g. \"YQ\"";
            self.d.error(src.at(raw.prefix.span(), msg));
        }
        if raw.keywords.is_empty() {
            self.d
                .error(src.at(raw.prefix.span(), "[incidents] needs at least one keyword"));
        }
        let mut rungs = Vec::new();
        let mut last = 0;
        for rung in &raw.rungs {
            let r = rung.get_ref();
            if r.minutes <= last {
                let msg = "[[incidents.rungs]] minutes must be more than 0 and increase";
                self.d.error(src.at(rung.span(), msg));
            }
            last = r.minutes;
            for to in &r.to {
                if !known_role(to.get_ref()) {
                    let msg = format!("rung sends to `{}`, which is not a role", to.get_ref());
                    self.d.error(src.at(to.span(), msg));
                }
            }
            rungs.push(IncidentRung {
                minutes: r.minutes,
                to: r.to.iter().map(|t| t.get_ref().clone()).collect(),
                group: r.group,
            });
        }
        self.message_table(
            src,
            &raw.messages,
            ("incidents.messages", INCIDENT_MESSAGES),
            tpl::incident,
        );
        IncidentSettings {
            keywords: raw.keywords.iter().map(|k| key(k.get_ref())).collect(),
            menu_key: raw.menu_key.clone(),
            prefix: prefix.clone(),
            department_role: role.clone(),
            group: raw.group.as_ref().map(|g| g.get_ref().clone()),
            severities: raw.severities.clone(),
            rungs,
        }
    }
}
