//! The annual review campaign (年审, policy 3.1.2) as pure rules: the campaign record, the task
//! each account in use gets (a duty of kind `annual_review`, numbered `NS-<year>-<登记编号>`,
//! so opening twice writes nothing twice), what a task's outcome is given its report's state,
//! the per-unit progress and the chat commands.

pub mod commands;
pub mod results;

use serde::{Deserialize, Serialize};

use crate::domain::records::CaseStatus;

/// The prefix of campaign and task numbers: 年审.
pub const PREFIX: &str = "NS";

/// The campaign of a year, stored like a case under [`campaign_number`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub year: i32,
    /// `YYYY-MM-DD`, company time zone.
    pub deadline: String,
    pub opened_at_ms: i64,
    /// Who opened it (a userid; empty when it opened by schedule).
    pub opened_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at_ms: Option<i64>,
}

/// `NS-2026`.
pub fn campaign_number(year: i32) -> String {
    format!("{PREFIX}-{year}")
}

/// `NS-2026-DJ-2026-0001`: the task of one account in one year's campaign.
pub fn task_number(year: i32, register_number: &str) -> String {
    format!("{PREFIX}-{year}-{register_number}")
}

/// Every task of a year's campaign, in opening order.
pub fn tasks_index(year: i32) -> String {
    format!("annual:{year}")
}

/// The campaigns not yet closed.
pub const OPEN_CAMPAIGNS: &str = "annual-open";

/// The tasks of a year still waiting for their report (the chase stops when one leaves).
pub fn waiting_index(year: i32) -> String {
    format!("annual-waiting:{year}")
}

/// The task a filed report answers (found again when it is reviewed).
pub fn report_index(report: &str) -> String {
    format!("annual-report:{report}")
}

/// What the department decided that the report's own state does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 不合格: the account was ordered closed.
    Failed,
    /// The campaign closed with nothing filed: 未报.
    NotFiled,
}

/// The campaign's part of a duty of kind `annual_review`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskResult {
    pub year: i32,
    /// The report filed for it (its case number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// What to fix (需整改) or why it failed (不合格).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The date a report sent back must be resubmitted by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_by: Option<String>,
    /// The closure order a failed account got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<String>,
    /// The duty chasing the resubmission of a report sent back (需整改), while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify: Option<String>,
}

/// Where an account stands in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing filed yet.
    Missing,
    /// Filed, waiting for the unit leader.
    Submitted,
    /// The unit leader approved; waiting for the department.
    Approved,
    /// 合格.
    Passed,
    /// 需整改: sent back to be fixed and resubmitted.
    Rectifying,
    /// 不合格.
    Failed,
    /// 未报: the campaign closed without a report.
    NotFiled,
}

impl Outcome {
    /// Every outcome, in the order of the progress and the export.
    pub const ALL: [Outcome; 7] = [
        Outcome::Missing,
        Outcome::Submitted,
        Outcome::Approved,
        Outcome::Passed,
        Outcome::Rectifying,
        Outcome::Failed,
        Outcome::NotFiled,
    ];

    /// Its key in `[campaigns.annual_review.messages]` (`outcome_<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Missing => "missing",
            Outcome::Submitted => "submitted",
            Outcome::Approved => "approved",
            Outcome::Passed => "passed",
            Outcome::Rectifying => "rectifying",
            Outcome::Failed => "failed",
            Outcome::NotFiled => "not_filed",
        }
    }

    /// Whether a report was filed (whatever became of it).
    pub fn filed(self) -> bool {
        !matches!(self, Outcome::Missing | Outcome::NotFiled)
    }
}

/// The state of a filed report that decides the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportState {
    pub status: CaseStatus,
    /// The open step (0: the unit leader).
    pub current_step: usize,
}

/// The outcome of a task whose report (if any) is in `report`.
pub fn outcome(result: &TaskResult, report: Option<ReportState>) -> Outcome {
    match (result.verdict, report) {
        (Some(Verdict::Failed), _) => Outcome::Failed,
        (Some(Verdict::NotFiled), _) => Outcome::NotFiled,
        (None, None) => Outcome::Missing,
        (None, Some(r)) => match r.status {
            CaseStatus::Approved => Outcome::Passed,
            CaseStatus::Rejected => Outcome::Rectifying,
            CaseStatus::Withdrawn => Outcome::Missing,
            // Report flows are not refusable; a refusal would be final, as a failure is.
            CaseStatus::Refused => Outcome::Failed,
            CaseStatus::Pending if r.current_step == 0 => Outcome::Submitted,
            CaseStatus::Pending => Outcome::Approved,
        },
    }
}

/// One unit's line of the progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitProgress {
    pub unit: String,
    pub accounts: usize,
    /// Filed (in any state).
    pub submitted: usize,
    /// Approved by the unit leader (in any later state but rectifying).
    pub approved: usize,
    pub passed: usize,
    pub rectifying: usize,
    pub failed: usize,
    /// Not filed (yet, or at the close).
    pub missing: usize,
}

/// The progress per unit (in the order units first appear) of `(unit name, outcome)` pairs.
pub fn progress<'a>(rows: impl IntoIterator<Item = (&'a str, Outcome)>) -> Vec<UnitProgress> {
    let mut units: Vec<UnitProgress> = Vec::new();
    for (unit, outcome) in rows {
        let i = match units.iter().position(|u| u.unit == unit) {
            Some(i) => i,
            None => {
                units.push(UnitProgress {
                    unit: unit.to_owned(),
                    accounts: 0,
                    submitted: 0,
                    approved: 0,
                    passed: 0,
                    rectifying: 0,
                    failed: 0,
                    missing: 0,
                });
                units.len() - 1
            }
        };
        let u = &mut units[i];
        u.accounts += 1;
        u.submitted += usize::from(outcome.filed());
        u.approved += usize::from(matches!(
            outcome,
            Outcome::Approved | Outcome::Passed | Outcome::Failed
        ));
        u.passed += usize::from(outcome == Outcome::Passed);
        u.rectifying += usize::from(outcome == Outcome::Rectifying);
        u.failed += usize::from(outcome == Outcome::Failed);
        u.missing += usize::from(!outcome.filed());
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: CaseStatus, current_step: usize) -> Option<ReportState> {
        Some(ReportState {
            status,
            current_step,
        })
    }

    #[test]
    fn the_outcome_follows_the_report_unless_the_department_decided() {
        let open = TaskResult::default();
        assert_eq!(outcome(&open, None), Outcome::Missing);
        assert_eq!(
            outcome(&open, report(CaseStatus::Pending, 0)),
            Outcome::Submitted
        );
        assert_eq!(
            outcome(&open, report(CaseStatus::Pending, 1)),
            Outcome::Approved
        );
        assert_eq!(
            outcome(&open, report(CaseStatus::Approved, 1)),
            Outcome::Passed
        );
        assert_eq!(
            outcome(&open, report(CaseStatus::Rejected, 1)),
            Outcome::Rectifying
        );
        assert_eq!(
            outcome(&open, report(CaseStatus::Withdrawn, 0)),
            Outcome::Missing
        );
        let failed = TaskResult {
            verdict: Some(Verdict::Failed),
            ..TaskResult::default()
        };
        assert_eq!(
            outcome(&failed, report(CaseStatus::Rejected, 1)),
            Outcome::Failed
        );
        let late = TaskResult {
            verdict: Some(Verdict::NotFiled),
            ..TaskResult::default()
        };
        assert_eq!(outcome(&late, None), Outcome::NotFiled);
    }

    #[test]
    fn progress_counts_each_unit_in_order() {
        let rows = [
            ("团委", Outcome::Passed),
            ("工会", Outcome::Missing),
            ("团委", Outcome::Approved),
            ("团委", Outcome::Rectifying),
            ("工会", Outcome::Failed),
            ("工会", Outcome::NotFiled),
        ];
        let p = progress(rows);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].unit, "团委");
        assert_eq!(
            (p[0].accounts, p[0].submitted, p[0].approved, p[0].passed),
            (3, 3, 2, 1)
        );
        assert_eq!((p[0].rectifying, p[0].failed, p[0].missing), (1, 0, 0));
        assert_eq!(
            (p[1].accounts, p[1].submitted, p[1].failed, p[1].missing),
            (3, 1, 1, 2)
        );
    }

    #[test]
    fn numbers_name_the_year_and_the_account() {
        assert_eq!(campaign_number(2026), "NS-2026");
        assert_eq!(task_number(2026, "DJ-2026-0001"), "NS-2026-DJ-2026-0001");
    }
}
