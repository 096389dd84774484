//! Who sees what on the desk (policy 2.1), checked on the server for every page and download:
//! the propaganda department every unit, a unit's leader their units (the scope of the chat's
//! `台账`, [`crate::process::supervision::scope_in`]), an account's administrator their
//! accounts, an applicant their cases. Anyone else sees nothing.

use crate::domain::engine::Answer;
use crate::domain::records::Case;
use crate::domain::records::register_view::Scope;

/// The person signed in, and what they supervise.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub userid: String,
    pub name: String,
    /// Every unit, some units, or none (`None`: only their own accounts and cases).
    pub scope: Option<Scope>,
}

impl Viewer {
    /// Whether the viewer may see `case` (a filing, or a register entry).
    pub fn sees(&self, case: &Case) -> bool {
        self.scope.as_ref().is_some_and(|s| s.covers(&case.unit))
            || case.applicant == self.userid
            || matches!(case.answers.get("admin"), Some(Answer::Member { userid, .. }) if *userid == self.userid)
    }

    /// Whether the viewer supervises `unit` (the department, its leaders).
    pub fn supervises(&self, unit: &str) -> bool {
        self.scope.as_ref().is_some_and(|s| s.covers(unit))
    }

    /// Whether the viewer supervises anything (the whole register or a unit's).
    pub fn supervisor(&self) -> bool {
        self.scope.is_some()
    }
}
