//! The propaganda department's spreadsheets, as pure tables: the account register (one row per
//! registered account) and every case (one row per case). Headers come from bot-scripts
//! (`[export]` and the flows' field labels); moments are taken in the company's time zone.
//! Writing them as CSV or XLSX is [`super::files`].

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use minijinja::Value;
use serde::{Deserialize, Serialize};

use super::{AccountStatus, ApprovalStep, Case, CaseStatus};
use crate::base::calendar::local_datetime;
use crate::base::scripts::{ExportTexts, Scripts, tpl};
use crate::domain::engine::Answer;
use crate::domain::records::Texts;

/// Which sheet to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// One row per registered account.
    Register,
    /// One row per case.
    Cases,
    /// One row per account of a year's annual review campaign (`year` of the [`Export`]).
    AnnualReview,
    /// One row per account of each repost task (`domain::reposts::sheet`).
    Reposts,
    /// One row per unit: the yearly assessment ([`crate::domain::assessment`]).
    Assessment { year: i32 },
}

/// An export asked for in chat: the sheet, and the units it covers (`None`: every unit).
/// Small enough to queue: the file itself is built when it is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub what: What,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<Vec<String>>,
    /// The campaign year of [`What::AnnualReview`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// For [`What::Reposts`]: the one task to export (`None`: every task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

impl Export {
    /// Whether a case of `unit` belongs in the file.
    pub fn covers(&self, unit: &str) -> bool {
        self.units
            .as_ref()
            .is_none_or(|units| units.iter().any(|u| u == unit))
    }
}

/// One cell: text, or a moment/date that a spreadsheet can sort (CSV shows it as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Local time in the company's zone.
    Time(NaiveDateTime),
    Date(NaiveDate),
    /// A count.
    Number(i64),
}

impl Cell {
    /// The cell as text: `2026-11-28 14:05`, `2026-11-28`, or the text itself.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Number(n) => n.to_string(),
        }
    }

    fn empty() -> Cell {
        Cell::Text(String::new())
    }
}

/// A sheet: its name, the column headers and the rows (each as long as the headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn time(tz: Tz, at_ms: Option<i64>) -> Cell {
    at_ms.map_or_else(Cell::empty, |ms| Cell::Time(local_datetime(tz, ms)))
}

/// An answer as the summary shows it (`yes`/`no` labels from `[messages]`).
pub fn answer_text(scripts: &Scripts, answer: &Answer) -> String {
    let label = |k: &str| scripts.render(&tpl::msg(k), &Value::UNDEFINED);
    answer.display(&label("yes_label"), &label("no_label"))
}

/// The case's status in words (`[approvals] status_*`), with the open step when pending.
pub fn status_text(scripts: &Scripts, case: &Case) -> String {
    match scripts.flows.get(&case.flow) {
        Some(flow) => Texts::new(scripts, flow, case).status(case.status),
        None => case.status.as_str().to_owned(),
    }
}

/// The approving decisions of a step: the names (、-joined) and the date of the last one.
pub fn approvals_of(step: &ApprovalStep) -> Option<(String, i64)> {
    let yes: Vec<_> = step.decisions.iter().filter(|d| d.approve).collect();
    let last = yes.iter().map(|d| d.at_ms).max()?;
    let names: Vec<&str> = yes.iter().map(|d| d.by_name.as_str()).collect();
    Some((names.join("、"), last))
}

/// The approval step labels of the registering flows, then any others found in the cases.
fn step_labels(scripts: &Scripts, cases: &[Case]) -> Vec<String> {
    let mut labels: Vec<String> = Vec::new();
    let defined = scripts.flows.values().filter(|f| f.registers_account);
    let defined = defined.flat_map(|f| f.approval.iter().map(|s| s.label.clone()));
    let found = cases
        .iter()
        .flat_map(|c| c.chain.iter().map(|s| s.label.clone()));
    for label in defined.chain(found) {
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

fn header(scripts: &Scripts, key: &str, step: &str) -> String {
    scripts.render(&tpl::export(key), &minijinja::context! { step })
}

/// The label of an answer column: the field's label in the first flow that has the field.
fn field_label(scripts: &Scripts, id: &str) -> String {
    scripts
        .flows
        .values()
        .find_map(|f| f.field(id).map(|(_, def)| def.label.clone()))
        .unwrap_or_else(|| id.to_owned())
}

fn answer_cell(scripts: &Scripts, case: &Case, id: &str) -> Cell {
    match case.answers.get(id) {
        Some(Answer::Date(d)) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_or_else(|_| Cell::Text(d.clone()), Cell::Date),
        Some(a) => Cell::Text(answer_text(scripts, a)),
        None => Cell::empty(),
    }
}

/// The account register: one row per registered account, `cases` in registration order, with
/// the account's status (`changing`: the register numbers with a change report pending).
pub fn register(scripts: &Scripts, x: &ExportTexts, cases: &[Case], changing: &[String]) -> Table {
    let tz = scripts.time_zone;
    let steps = step_labels(scripts, cases);
    let mut headers = vec![
        x.register_number.clone(),
        x.case_number.clone(),
        x.unit.clone(),
        x.status.clone(),
    ];
    headers.extend(x.register_fields.iter().map(|id| field_label(scripts, id)));
    headers.extend([x.applicant.clone(), x.submitted_at.clone()]);
    for step in &steps {
        headers.push(header(scripts, "approver", step));
        headers.push(header(scripts, "approved_on", step));
    }
    headers.push(x.registered_at.clone());
    let rows = cases
        .iter()
        .map(|case| {
            let mut row = vec![
                Cell::Text(case.register_number.clone().unwrap_or_default()),
                Cell::Text(case.number.clone()),
                Cell::Text(case.unit_name.clone()),
                Cell::Text(AccountStatus::of(case, changing).text(scripts)),
            ];
            row.extend(
                x.register_fields
                    .iter()
                    .map(|id| answer_cell(scripts, case, id)),
            );
            row.push(Cell::Text(case.applicant_name.clone()));
            row.push(time(tz, Some(case.submitted_at_ms)));
            for label in &steps {
                let approved = case.chain.iter().find(|s| &s.label == label);
                match approved.and_then(approvals_of) {
                    Some((names, at)) => {
                        row.push(Cell::Text(names));
                        row.push(Cell::Date(local_datetime(tz, at).date()));
                    }
                    None => row.extend([Cell::empty(), Cell::empty()]),
                }
            }
            let registered = case
                .decided_at_ms
                .filter(|_| case.register_number.is_some());
            row.push(time(tz, registered));
            row
        })
        .collect();
    Table {
        sheet: x.register_sheet.clone(),
        headers,
        rows,
    }
}

/// The latest decision on a case: the final one, or the latest step decision of its chain.
fn last_decision_ms(case: &Case) -> Option<i64> {
    let steps = case
        .chain
        .iter()
        .flat_map(|s| s.decisions.iter().map(|d| d.at_ms));
    steps.chain(case.decided_at_ms).max()
}

/// Every case: one row per case, `cases` in filing order. Answer columns are the flows' fields
/// in definition order (a label shared by several flows is one column), then any answers of
/// fields no longer in the scripts.
pub fn cases(scripts: &Scripts, x: &ExportTexts, cases: &[Case]) -> Table {
    let tz = scripts.time_zone;
    let mut columns: Vec<String> = Vec::new();
    let label_of = |case: &Case, id: &str| match scripts.flows.get(&case.flow) {
        Some(flow) => flow
            .field(id)
            .map_or_else(|| id.to_owned(), |(_, f)| f.label.clone()),
        None => field_label(scripts, id),
    };
    let defined = scripts.flows.values().flat_map(|f| f.fields.iter());
    let found = cases
        .iter()
        .flat_map(|c| c.answers.iter().map(move |(id, _)| label_of(c, id)));
    for label in defined.map(|f| f.label.clone()).chain(found) {
        if !columns.contains(&label) {
            columns.push(label);
        }
    }
    let mut headers = vec![
        x.case_number.clone(),
        x.flow.clone(),
        x.unit.clone(),
        x.applicant.clone(),
        x.status.clone(),
        x.current_step.clone(),
        x.submitted_at.clone(),
        x.decided_at.clone(),
    ];
    let fixed = headers.len();
    headers.extend(columns.iter().cloned());
    let rows = cases
        .iter()
        .map(|case| {
            let flow = scripts.flows.get(&case.flow);
            let step = case.chain.get(case.current_step);
            let step = step
                .filter(|_| case.status == CaseStatus::Pending)
                .map(|s| s.label.clone());
            let mut row = vec![
                Cell::Text(case.number.clone()),
                Cell::Text(flow.map_or_else(|| case.flow.clone(), |f| f.title.clone())),
                Cell::Text(case.unit_name.clone()),
                Cell::Text(case.applicant_name.clone()),
                Cell::Text(status_text(scripts, case)),
                Cell::Text(step.unwrap_or_default()),
                time(tz, Some(case.submitted_at_ms)),
                time(tz, last_decision_ms(case)),
            ];
            row.resize(headers.len(), Cell::empty());
            for (id, _) in case.answers.iter() {
                let label = label_of(case, id);
                if let Some(i) = columns.iter().position(|c| *c == label) {
                    row[fixed + i] = answer_cell(scripts, case, id);
                }
            }
            row
        })
        .collect();
    Table {
        sheet: x.cases_sheet.clone(),
        headers,
        rows,
    }
}
