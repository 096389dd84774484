//! A campaign's results, one per account (what the process reads from the store), and the
//! spreadsheet of them (`flowbot export --what annual-review`, `导出 年审`); headers and outcome
//! words are `[campaigns.annual_review.messages]`.

use minijinja::Value;
use serde::Serialize;

use super::Outcome;
use crate::base::scripts::{Scripts, tpl};
use crate::domain::records::export::{Cell, Table};

/// Where one account stands in a year's campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountResult {
    pub year: i32,
    /// The task's number (`NS-<year>-<登记编号>`).
    pub task: String,
    pub unit: String,
    pub unit_name: String,
    pub register_number: String,
    pub account_name: String,
    /// The people the report is due from (userids) and their names.
    pub due: Vec<String>,
    pub due_names: String,
    /// The report filed (case number), if any.
    pub report: Option<String>,
    pub outcome: Outcome,
    /// What to fix, or why it failed.
    pub note: Option<String>,
    pub fix_by: Option<String>,
    /// The closure order a failed account got.
    pub closure: Option<String>,
}

fn say(scripts: &Scripts, key: &str) -> String {
    scripts.render(&tpl::campaign(key), &Value::UNDEFINED)
}

/// An outcome in words (`outcome_<key>`).
pub fn outcome_text(scripts: &Scripts, outcome: Outcome) -> String {
    say(scripts, &format!("outcome_{}", outcome.key()))
}

/// The spreadsheet: one row per account, in the order given.
pub fn table(scripts: &Scripts, year: i32, results: &[AccountResult]) -> Table {
    let headers = [
        "col_year",
        "col_unit",
        "col_register_number",
        "col_account",
        "col_admin",
        "col_report",
        "col_outcome",
        "col_note",
    ]
    .iter()
    .map(|k| say(scripts, k))
    .collect();
    let text = |s: &str| Cell::Text(s.to_owned());
    let rows = results
        .iter()
        .map(|r| {
            let mut note = r.note.clone().unwrap_or_default();
            for extra in [&r.fix_by, &r.closure].into_iter().flatten() {
                if !note.is_empty() {
                    note.push('；');
                }
                note.push_str(extra);
            }
            vec![
                Cell::Text(r.year.to_string()),
                text(&r.unit_name),
                text(&r.register_number),
                text(&r.account_name),
                text(&r.due_names),
                text(r.report.as_deref().unwrap_or("")),
                Cell::Text(outcome_text(scripts, r.outcome)),
                Cell::Text(note),
            ]
        })
        .collect();
    Table {
        sheet: scripts.render(&tpl::campaign("sheet"), &minijinja::context! { year }),
        headers,
        rows,
    }
}
