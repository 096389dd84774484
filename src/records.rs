//! Cases as stored: a filed form with its number, unit, applicant and answers, plus an
//! append-only history. Pure data and the store writes that record them; the store keeps them
//! forever (business records never expire).

use serde::{Deserialize, Serialize};

use crate::engine::Answers;
use crate::store::CaseWrite;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Filed, waiting for the approval chain.
    Submitted,
}

impl CaseStatus {
    fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Submitted => "submitted",
        }
    }
}

/// A filed form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub number: String,
    pub flow: String,
    /// The bot-scripts version the form was filled with (editing scripts never breaks a case).
    pub scripts_version: String,
    pub applicant: String,
    pub unit: String,
    pub answers: Answers,
    /// The summary the applicant confirmed.
    pub summary: String,
    pub status: CaseStatus,
    pub submitted_at_ms: i64,
}

/// One line of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at_ms: i64,
    pub by: String,
    pub what: String,
}

/// The index a case is listed under: its applicant, its unit, its status.
pub fn applicant_index(userid: &str) -> String {
    format!("applicant:{userid}")
}

pub fn unit_index(unit: &str) -> String {
    format!("unit:{unit}")
}

pub fn status_index(status: CaseStatus) -> String {
    format!("status:{}", status.as_str())
}

impl Case {
    /// The store write that files this case: body, the first history entry, its indexes.
    pub fn filing(&self) -> CaseWrite {
        let entry = HistoryEntry {
            at_ms: self.submitted_at_ms,
            by: self.applicant.clone(),
            what: "submitted".into(),
        };
        CaseWrite {
            number: self.number.clone(),
            body: Some(serde_json::to_string(self).expect("a case serializes")),
            history: vec![serde_json::to_string(&entry).expect("an entry serializes")],
            add_to: vec![
                applicant_index(&self.applicant),
                unit_index(&self.unit),
                status_index(self.status),
            ],
            remove_from: Vec::new(),
        }
    }
}
