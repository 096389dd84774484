//! `bot.toml` `[assessment]` (policy 4.1, the yearly assessment of units): its words in
//! `[assessment.messages]` and the rules that decide "可评先进" in `[[assessment.rule]]`, each
//! with the reason shown when a unit breaks it. Optional: without it the report is not offered.
//! The headers of the annual review, incident and repost columns are needed only when those
//! processes are configured; a rule over a process that is not configured is a warning.

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
    /// The threshold of `min_repost_coverage` (whole percent).
    #[serde(default)]
    pub percent: Option<Spanned<i64>>,
}

/// Every message `[assessment.messages]` must define. `sheet` and `started` are given `year`;
/// the others are column headers and words.
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

/// The annual review columns' headers: needed with `[campaigns.annual_review]`.
pub const ANNUAL_MESSAGES: &[&str] = &[
    "annual_filed",
    "annual_passed",
    "annual_rectifying",
    "annual_failed",
    "annual_not_filed",
];

/// The incident columns' headers: needed with `[incidents]`.
pub const INCIDENT_MESSAGES: &[&str] = &["incidents", "incident_ack", "incident_close"];

/// The repost columns' headers: needed with `[reposts]`.
pub const REPOST_MESSAGES: &[&str] = &["reposts_due", "reposts_done", "repost_coverage"];

/// Which of the optional processes bot.toml configures (their columns and rules apply).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    pub annual_review: bool,
    pub incidents: bool,
    pub reposts: bool,
}

/// A rule a unit must keep to be rated advanced; broken when its count for the year is not 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `no_late_change_report`: no change report filed after its deadline.
    NoLateChangeReport,
    /// `no_closure_ordered`: the department ordered none of the unit's accounts closed.
    NoClosureOrdered,
    /// `no_failed_annual_review`: no account of the unit failed the year's annual review
    /// (不合格) or went without a report when the campaign closed (未报).
    NoFailedAnnualReview,
    /// `min_repost_coverage` with `percent`: the unit's accounts reposted at least that share
    /// of the repost tasks of the year that reached them.
    MinRepostCoverage { percent: u32 },
}

/// The rule names bot.toml may use.
const NAMES: [&str; 4] = [
    "no_late_change_report",
    "no_closure_ordered",
    "no_failed_annual_review",
    "min_repost_coverage",
];

impl Rule {
    /// Its name in bot.toml.
    pub fn name(self) -> &'static str {
        match self {
            Rule::NoLateChangeReport => NAMES[0],
            Rule::NoClosureOrdered => NAMES[1],
            Rule::NoFailedAnnualReview => NAMES[2],
            Rule::MinRepostCoverage { .. } => NAMES[3],
        }
    }

    /// The table the rule reads, when it is one of the optional processes'.
    fn needs(self) -> Option<&'static str> {
        match self {
            Rule::NoLateChangeReport | Rule::NoClosureOrdered => None,
            Rule::NoFailedAnnualReview => Some("[campaigns.annual_review]"),
            Rule::MinRepostCoverage { .. } => Some("[reposts]"),
        }
    }

    fn applies(self, sections: Sections) -> bool {
        match self {
            Rule::NoLateChangeReport | Rule::NoClosureOrdered => true,
            Rule::NoFailedAnnualReview => sections.annual_review,
            Rule::MinRepostCoverage { .. } => sections.reposts,
        }
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
    /// Checks `[assessment]`: every message (the optional columns' headers when `sections`
    /// has their process), known rule names (each once) with their parameters, reasons that
    /// compile. `phrase`: whether `[messages.commands]` names the command (`assessment = "…"`).
    pub(super) fn assessment(
        &mut self,
        src: &Source,
        raw: &RawAssessment,
        phrase: bool,
        sections: Sections,
    ) -> AssessmentDef {
        if !phrase {
            let msg = "[assessment] needs the phrase `assessment` in [messages.commands]";
            self.d.error(src.at(raw.messages.span(), msg));
        }
        let mut required = MESSAGES.to_vec();
        let mut optional = Vec::new();
        for (on, keys) in [
            (sections.annual_review, ANNUAL_MESSAGES),
            (sections.incidents, INCIDENT_MESSAGES),
            (sections.reposts, REPOST_MESSAGES),
        ] {
            if on { &mut required } else { &mut optional }.extend_from_slice(keys);
        }
        self.message_table_with(
            src,
            &raw.messages,
            ("assessment.messages", &required),
            &optional,
            message_template,
        );
        let mut rules: Vec<Rule> = Vec::new();
        for (i, r) in raw.rule.iter().enumerate() {
            let r = r.get_ref();
            if let Some(rule) = self.rule(src, r) {
                if rules.iter().any(|x| x.name() == rule.name()) {
                    let msg = format!("rule `{}` is listed twice", rule.name());
                    self.d.error(src.at(r.rule.span(), msg));
                } else if !rule.applies(sections) {
                    let msg = format!(
                        "rule `{}` never applies without {}",
                        rule.name(),
                        rule.needs().unwrap_or_default()
                    );
                    self.d.warn(src.at(r.rule.span(), msg));
                }
                rules.push(rule);
            }
            self.template(src, reason_template(i), &r.reason);
        }
        AssessmentDef { rules }
    }

    /// One `[[assessment.rule]]`: its name and the parameter it takes (`percent`, 0–100, for
    /// `min_repost_coverage` and no other).
    fn rule(&mut self, src: &Source, r: &RawRule) -> Option<Rule> {
        let name = r.rule.get_ref().trim();
        let rule = match name {
            "no_late_change_report" => Rule::NoLateChangeReport,
            "no_closure_ordered" => Rule::NoClosureOrdered,
            "no_failed_annual_review" => Rule::NoFailedAnnualReview,
            "min_repost_coverage" => {
                let Some(percent) = &r.percent else {
                    let msg = "rule `min_repost_coverage` needs its threshold, e.g. `percent = 80`";
                    self.d.error(src.at(r.rule.span(), msg));
                    return None;
                };
                match u32::try_from(*percent.get_ref()) {
                    Ok(p) if p <= 100 => Rule::MinRepostCoverage { percent: p },
                    _ => {
                        let msg = "`percent` is a whole percent from 0 to 100";
                        self.d.error(src.at(percent.span(), msg));
                        return None;
                    }
                }
            }
            _ => {
                let msg = format!("unknown rule `{name}` (known: {})", NAMES.join(", "));
                self.d.error(src.at(r.rule.span(), msg));
                return None;
            }
        };
        if let (Some(percent), false) = (&r.percent, rule.name() == NAMES[3]) {
            let msg = format!("rule `{name}` takes no `percent`");
            self.d.error(src.at(percent.span(), msg));
        }
        Some(rule)
    }
}
