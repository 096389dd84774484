//! Where a registered account stands: 在用, 变更中, 整改中, 注销中, 已注销. The register entry
//! (the approved registration case) keeps the lasting status in `Case::account_status`, written
//! by the processes that move it (a deregistration marks it closing, then closed); "being
//! changed" is not stored but read from the change reports pending for the account, so that a
//! rejected or withdrawn report leaves nothing behind. The words are `[supervision] status_*`.

use minijinja::Value;
use serde::{Deserialize, Serialize};

use super::Case;
use crate::base::scripts::{Scripts, tpl};

/// Where a registered account stands (sorted as the register lists them).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// On the register, nothing pending (在用).
    #[default]
    InUse,
    /// A change report for it is being approved (变更中; derived, never stored).
    Changing,
    /// Being rectified on the department's order (整改中).
    Rectifying,
    /// A closure was requested or ordered and is not yet confirmed (注销中).
    Closing,
    /// Closed (已注销); it stays in the register as closed.
    Closed,
}

impl AccountStatus {
    /// Whether it is the default (not written into a stored case).
    pub fn is_in_use(&self) -> bool {
        *self == AccountStatus::InUse
    }

    /// Its message in `[supervision]`.
    pub fn key(self) -> &'static str {
        match self {
            AccountStatus::InUse => "status_in_use",
            AccountStatus::Changing => "status_changing",
            AccountStatus::Rectifying => "status_rectifying",
            AccountStatus::Closing => "status_closing",
            AccountStatus::Closed => "status_closed",
        }
    }

    /// As people read it (empty when bot.toml has no `[supervision]`).
    pub fn text(self, scripts: &Scripts) -> String {
        scripts.render(&tpl::supervision(self.key()), &Value::UNDEFINED)
    }

    /// The status of register entry `entry`, given the register numbers of the accounts with a
    /// change report pending (`changing`): a stored status other than in use wins.
    pub fn of(entry: &Case, changing: &[String]) -> AccountStatus {
        let named = |n: &String| entry.register_number.as_ref() == Some(n);
        match entry.account_status {
            AccountStatus::InUse if changing.iter().any(named) => AccountStatus::Changing,
            stored => stored,
        }
    }
}
