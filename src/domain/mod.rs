//! The domain: what the policy means, as pure functions over plain values. Forms
//! ([`engine`]), approval chains ([`approval`]), reminder ladders and digests ([`reminders`]),
//! the register and its printed forms ([`records`]), the annual review campaign ([`annual`]),
//! and what the bot says ([`reply`]).
//!
//! Nothing here performs I/O, reads the clock, or knows WeCom's wire format or the store: the
//! processes above load what a step needs, call in here, and turn the results into a commit.

pub mod annual;
pub mod approval;
pub mod assessment;
pub mod engine;
pub mod evidence;
pub mod incidents;
pub mod publication;
pub mod records;
pub mod reminders;
pub mod reply;
pub mod reposts;
