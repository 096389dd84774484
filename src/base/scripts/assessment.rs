//! `bot.toml` `[assessment]` (policy 4.1, the yearly assessment of units): its words in
//! `[assessment.messages]` and the rules that decide "可评先进" in `[[assessment.rule]]`, each
//! with the reason shown when a unit breaks it. Optional: without it the report is not offered.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use crate::base::diagnostics::Source;

/// `[assessment]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssessment {
    pub messages: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
}

/// One `[[assessment.rule]]`: a rule name and its reason (a template given `count`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub rule: Spanned<String>,
    pub reason: Spanned<String>,
}

/// Every message `[assessment.messages]` must define (and nothing else). `sheet` and `started`
/// are given `year`; the others are column headers and words.
pub const MESSAGES: &[&str] = &[
    "sheet",
    "unit",
    "accounts_in_use",
    "registered",
    "changes_on_time",
    "changes_late",
    "closures_ordered",
    "verdict",
    "reasons",
    "yes",
    "no",
    "usage",
    "refused",
    "started",
];

/// A rule a unit must keep to be rated advanced; broken when its count for the year is not 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `no_late_change_report`: no change report filed after its deadline.
    NoLateChangeReport,
    /// `no_closure_ordered`: the department ordered none of the unit's accounts closed.
    NoClosureOrdered,
}

impl Rule {
    const ALL: [(&'static str, Rule); 2] = [
        ("no_late_change_report", Rule::NoLateChangeReport),
        ("no_closure_ordered", Rule::NoClosureOrdered),
    ];

    fn parse(name: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, r)| *r)
    }
}

/// The compiled `[assessment]`: its rules in order; the reason of rule `i` is the template
/// [`reason_template`]`(i)`, the messages `tpl::assessment(key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentDef {
    pub rules: Vec<Rule>,
}

/// The template name of the `i`-th rule's reason.
pub fn reason_template(i: usize) -> String {
    format!("k.rule.{i}")
}

/// The template name of an `[assessment.messages]` message.
pub fn message_template(key: &str) -> String {
    format!("k.{key}")
}

impl Compiler {
    /// Checks `[assessment]`: every message, known rule names (each once), reasons that compile.
    /// `phrase`: whether `[messages.commands]` names the command (`assessment = "…"`).
    pub(super) fn assessment(
        &mut self,
        src: &Source,
        raw: &RawAssessment,
        phrase: bool,
    ) -> AssessmentDef {
        if !phrase {
            let msg = "[assessment] needs the phrase `assessment` in [messages.commands]";
            self.d.error(src.at(raw.messages.span(), msg));
        }
        self.message_table(
            src,
            &raw.messages,
            ("assessment.messages", MESSAGES),
            message_template,
        );
        let mut rules = Vec::new();
        for (i, r) in raw.rule.iter().enumerate() {
            let r = r.get_ref();
            match Rule::parse(r.rule.get_ref()) {
                Some(rule) if rules.contains(&rule) => {
                    let msg = format!("rule `{}` is listed twice", r.rule.get_ref());
                    self.d.error(src.at(r.rule.span(), msg));
                }
                Some(rule) => rules.push(rule),
                None => {
                    let known: Vec<&str> = Rule::ALL.iter().map(|(n, _)| *n).collect();
                    let msg = format!(
                        "unknown rule `{}` (known: {})",
                        r.rule.get_ref(),
                        known.join(", ")
                    );
                    self.d.error(src.at(r.rule.span(), msg));
                }
            }
            self.template(src, reason_template(i), &r.reason);
        }
        AssessmentDef { rules }
    }
}
