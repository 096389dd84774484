//! Approvals (policy 3.1.1): the chain a filed case goes through, decided with one tap on an
//! interactive card or with a text command, exactly once, only by the step's assignees and
//! never by the people the case is about ([`separation`]).
//! Pure: the dispatcher loads the case and resolves people, this module decides.

pub mod card;
pub mod chain;
pub mod commands;
pub mod separation;
pub mod views;
