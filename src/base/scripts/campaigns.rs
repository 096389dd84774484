//! `bot.toml` `[campaigns.annual_review]` (policy 3.1.2: every account files an annual report
//! each year and the propaganda department reviews it): the report flow, the deadline, the
//! self-check items of the form, the ladder that chases missing reports and the words of the
//! campaign, checked into [`CampaignDef`]. Optional: without it `年审` is not offered.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use super::{FieldKind, FlowDef, tpl};
use crate::base::diagnostics::Source;

/// The duty kind chasing the annual reports (`[duties.annual_review]`).
pub const ANNUAL_REVIEW: &str = "annual_review";
/// The duty kind chasing a report sent back to be fixed (需整改), optional
/// (`[duties.annual_rectify]`: without it nothing chases the resubmission).
pub const ANNUAL_RECTIFY: &str = "annual_rectify";

/// `[campaigns]`: recurring campaigns, each optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCampaigns {
    #[serde(default)]
    pub annual_review: Option<Spanned<RawAnnualReview>>,
}

/// `[campaigns.annual_review]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnnualReview {
    /// The flow of the report (a file under `flows/`).
    pub flow: Spanned<String>,
    /// The deadline: working days from the opening, or a fixed date (`YYYY-MM-DD`).
    #[serde(default)]
    pub deadline_working_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub deadline: Option<Spanned<String>>,
    /// The campaign opens by itself on this date (`YYYY-MM-DD`), covering `year` (by default
    /// the year before the date's).
    #[serde(default)]
    pub opens_on: Option<Spanned<String>>,
    #[serde(default)]
    pub year: Option<Spanned<i32>>,
    /// The group (in `[groups]`) told when the campaign opens by schedule; without it, every
    /// member of the propaganda role is told directly.
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    /// Working days the administrator has to resubmit a report the department sent back.
    pub rectify_working_days: Spanned<u32>,
    /// Yes/no fields of the report flow that are the self-check of the policy's rules.
    #[serde(default)]
    pub self_check: Option<Spanned<Vec<String>>>,
    /// What the bot says about the campaign.
    pub messages: Spanned<BTreeMap<String, Spanned<String>>>,
}

/// The deadline of a campaign's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Working days from the day it opens.
    WorkingDays(u32),
    /// A fixed date.
    On(NaiveDate),
}

/// The checked `[campaigns.annual_review]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDef {
    pub flow: String,
    pub deadline: Deadline,
    /// Opening by schedule: the date and the year it covers.
    pub opens_on: Option<(NaiveDate, i32)>,
    /// The group told of an opening by schedule (else the propaganda role, directly).
    pub group: Option<String>,
    pub rectify_working_days: u32,
    pub self_check: Vec<String>,
}

/// Every message `[campaigns.annual_review.messages]` must define (and nothing else).
pub const ANNUAL_REVIEW_MESSAGES: &[&str] = &[
    "refused",
    "usage",
    "confirm_open",
    "opened",
    "open_cancelled",
    "nothing_to_open",
    "already_open",
    "not_open",
    "task_card_title",
    "task_card_description",
    "task_button",
    "fill_busy",
    "no_campaign",
    "not_covered",
    "already_filed",
    "rectify",
    "failed",
    "self_check_failed",
    "export_started",
    "task_card_rows",
    "not_failable",
    "progress",
    "closed",
    "outcome_missing",
    "outcome_submitted",
    "outcome_approved",
    "outcome_passed",
    "outcome_rectifying",
    "outcome_failed",
    "outcome_not_filed",
    "sheet",
    "col_year",
    "col_unit",
    "col_register_number",
    "col_account",
    "col_admin",
    "col_report",
    "col_outcome",
    "col_note",
    "opened_by_schedule",
    "reuse_offer",
    "reuse_done",
    "reuse_declined",
];

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

impl Compiler {
    /// Checks `[campaigns]` against the flows and the duties; registers its templates.
    pub(super) fn campaigns(
        &mut self,
        src: &Source,
        raw: Option<&RawCampaigns>,
        flows: &BTreeMap<String, FlowDef>,
        duties: &BTreeMap<String, Spanned<super::model::RawDuty>>,
        groups: &BTreeMap<String, super::GroupDef>,
    ) -> Option<CampaignDef> {
        let spanned = raw?.annual_review.as_ref()?;
        let r = spanned.get_ref();
        self.message_table(
            src,
            &r.messages,
            ("campaigns.annual_review.messages", ANNUAL_REVIEW_MESSAGES),
            tpl::campaign,
        );
        if !duties.contains_key(ANNUAL_REVIEW) {
            let msg = "[campaigns.annual_review] needs its ladder [duties.annual_review]";
            self.d.error(src.at(spanned.span(), msg));
        }
        let flow = flows.get(r.flow.get_ref());
        if flow.is_none() {
            let msg = format!("flow `{}` has no file flows/{0}.toml", r.flow.get_ref());
            self.d.error(src.at(r.flow.span(), msg));
        }
        if let Some(flow) = flow
            && !matches!(flow.field("account"), Some((_, f)) if f.kind == FieldKind::Account)
        {
            let msg = format!("flow `{}` needs a field `account` of type account", flow.id);
            self.d.error(src.at(r.flow.span(), msg));
        }
        let self_check = r.self_check.as_ref();
        for item in self_check
            .map(|s| s.get_ref().as_slice())
            .unwrap_or_default()
        {
            let yes_no = flow.and_then(|f| f.field(item)).map(|(_, f)| &f.kind);
            if flow.is_some() && yes_no != Some(&FieldKind::YesNo) {
                let msg = format!("self-check item `{item}` is not a yes/no field of the flow");
                let span = self_check.map(|s| s.span()).unwrap_or_default();
                self.d.error(src.at(span, msg));
            }
        }
        let deadline = match (&r.deadline_working_days, &r.deadline) {
            (Some(n), None) => Some(Deadline::WorkingDays(*n.get_ref())),
            (None, Some(d)) => {
                let parsed = date(d.get_ref()).map(Deadline::On);
                if parsed.is_none() {
                    self.d
                        .error(src.at(d.span(), "expected a date as YYYY-MM-DD"));
                }
                parsed
            }
            _ => {
                let msg =
                    "[campaigns.annual_review] needs either `deadline_working_days` or `deadline`";
                self.d.error(src.at(spanned.span(), msg));
                None
            }
        };
        let opens_on = r.opens_on.as_ref().and_then(|d| {
            let on = date(d.get_ref());
            if on.is_none() {
                self.d
                    .error(src.at(d.span(), "expected a date as YYYY-MM-DD"));
            }
            let year = r.year.as_ref().map(|y| *y.get_ref());
            on.map(|on| (on, year.unwrap_or(on.year() - 1)))
        });
        if let (Some(year), None) = (&r.year, &r.opens_on) {
            let msg = "`year` is the year an opening by schedule covers: it needs `opens_on`";
            self.d.error(src.at(year.span(), msg));
        }
        if let Some(group) = &r.group
            && !groups.contains_key(group.get_ref())
        {
            let msg = format!("group `{}` is not in [groups]", group.get_ref());
            self.d.error(src.at(group.span(), msg));
        }
        Some(CampaignDef {
            flow: r.flow.get_ref().clone(),
            deadline: deadline?,
            opens_on,
            group: r.group.as_ref().map(|g| g.get_ref().clone()),
            rectify_working_days: *r.rectify_working_days.get_ref(),
            self_check: self_check.map(|s| s.get_ref().clone()).unwrap_or_default(),
        })
    }
}
