//! How a case becomes a store write: filing it (body, first history line, indexes) and
//! replacing its body at the version it was read at.

use crate::adapters::store::CaseWrite;
use crate::domain::records::{ALL_CASES, Case, HistoryKind, applicant_index, history, unit_index};

/// The store writes of a case.
pub trait CaseWrites {
    /// The write that replaces this case's body, provided it is still at `version` (the
    /// version it was read at: two approvers racing on one case give one decision).
    fn update(&self, version: u64) -> CaseWrite;
    /// The write that files this case: body, the first history entry, its indexes.
    fn filing(&self) -> CaseWrite;
}

impl CaseWrites for Case {
    fn update(&self, version: u64) -> CaseWrite {
        CaseWrite {
            number: self.number.clone(),
            body: Some(self.to_json()),
            expected_version: Some(version),
            ..CaseWrite::default()
        }
    }

    fn filing(&self) -> CaseWrite {
        CaseWrite {
            number: self.number.clone(),
            expected_version: None,
            body: Some(self.to_json()),
            history: vec![history(
                self.submitted_at_ms,
                &self.applicant,
                HistoryKind::Submitted,
            )],
            add_to: vec![
                ALL_CASES.to_owned(),
                applicant_index(&self.applicant),
                unit_index(&self.unit),
            ],
            remove_from: Vec::new(),
        }
    }
}
