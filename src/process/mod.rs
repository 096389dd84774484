//! The policy's processes, one module each (see `docs/ARCHITECTURE.md`, "Adding a process"):
//!
//! - [`approvals`]: the chain every filed case goes through (cards, commands, overdue chases);
//! - [`registration`]: a new account onto the register;
//! - [`change_report`]: reporting a change within the deadline, and the duties a departure opens;
//! - [`deregistration`]: an account closed at its unit's request (注销), marked closing then
//!   closed in the register;
//! - [`publication_review`]: authorisation before publishing (送审): the answer's deadline and
//!   reminders, the leader rule; the answers are the approval chain's;
//! - [`annual_review`]: the annual review campaign (年审): one report per account a year,
//!   reviewed by the unit's leader and the department, missing ones chased;
//! - [`reposts`]: repost tasks across the account matrix (`转发任务`), chased to the deadline;
//! - [`supervision`]: the propaganda department's and unit leaders' view of the register
//!   (`台账`, `查询`, `统计`, `详情`);
//! - [`work_circle`]: the app group chat of the administrators of accounts in use, kept in line
//!   with the register;
//! - [`assessment`]: the department's yearly assessment of units (`考核 2026`, an XLSX file);
//! - [`incidents`]: incident reports (舆情上报) that escalate in minutes until acknowledged;
//! - [`forms`]: filling in any flow's form and filing it (last: it answers anything).
//!
//! [`all`] is the table the dispatcher routes by; its order is the routing order.

pub mod annual_review;
pub mod approvals;
pub mod assessment;
pub mod change_report;
pub mod deregistration;
pub mod forms;
pub mod incidents;
pub mod publication_review;
pub mod registration;
pub mod reposts;
pub mod supervision;
pub mod work_circle;

use std::sync::Arc;

use crate::dispatch::Processes;

/// Every process, in routing order: a text goes to the first that takes it, a flow's hooks to
/// the first that owns it.
pub fn all() -> Processes {
    Processes::new(vec![
        Arc::new(approvals::Approvals),
        Arc::new(registration::Registration),
        Arc::new(change_report::ChangeReport),
        Arc::new(deregistration::Deregistration),
        Arc::new(publication_review::PublicationReviews),
        Arc::new(annual_review::AnnualReview),
        Arc::new(reposts::Reposts),
        Arc::new(supervision::Supervision),
        Arc::new(work_circle::WorkCircle),
        Arc::new(assessment::Assessment),
        Arc::new(incidents::Incidents),
        Arc::new(forms::Forms),
    ])
}
