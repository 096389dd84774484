//! The seam every policy process plugs into. A process is one module (under `src/process/`)
//! plus its words, forms and ladders in bot-scripts; it declares what it owns — text commands,
//! card actions, timer kinds, contact events, the flows whose cases it files — and handles
//! them (and says which texts are its commands, so that a form can ask before taking one as an
//! answer). The [`Processes`] table lists them in routing order; the router only asks the table.
//!
//! Every handler gets the shared [`Services`] (store reads, scripts, directory, clock) and the
//! [`Draft`] of the event; it reads what it needs and records what changes in the draft.
//! Nothing is written until the worker commits the draft atomically with the event.

use std::sync::Arc;

use async_trait::async_trait;

use super::{DispatchError, Draft, Services};
use crate::adapters::wecom::message::{CardEvent, ContactChange};
use crate::base::scripts::FlowDef;
use crate::dispatch::event::TimerJob;
use crate::domain::engine::{Answers, CommandInput, ConversationState};
use crate::domain::evidence::EvidenceRef;
use crate::domain::records::Case;

/// What a handler returns: `Ok(true)` when it took the input.
pub type Handled = Result<bool, DispatchError>;

/// One process of the policy. Every method has a default that owns nothing, so a process
/// implements only what it handles.
#[async_trait]
pub trait Process: Send + Sync {
    /// Its name in logs.
    fn name(&self) -> &'static str;

    /// The card button key prefixes (`<action>:<ref>`) it owns.
    fn card_actions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether this fired timer is one of its kinds.
    fn owns_timer(&self, _job: &TimerJob) -> bool {
        false
    }

    /// Whether cases of this bot-scripts flow are its own (the first process that claims a
    /// flow gets its hooks).
    fn owns_flow(&self, _flow: &FlowDef) -> bool {
        false
    }

    /// Whether it wants WeCom's contact changes (members leaving, moving).
    fn watches_contacts(&self) -> bool {
        false
    }

    /// Whether `text` is one of its text commands, as a form asks about it when it is typed
    /// at a free-text question (run later through [`Process::on_text`] with the form set
    /// aside).
    fn command_in_form(&self, _s: &Services, _text: &str) -> Option<CommandInput> {
        None
    }

    /// A text from the conversation's user; asked in table order until one takes it.
    async fn on_text(&self, _s: &Services, _d: &mut Draft, _text: &str, _now_ms: i64) -> Handled {
        Ok(false)
    }

    /// An image or file the user sent, kept as evidence; asked in table order until one takes
    /// it (nobody: the user is told that nothing asked for it).
    async fn on_evidence(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _evidence: &EvidenceRef,
        _now_ms: i64,
    ) -> Handled {
        Ok(false)
    }

    /// A menu click; asked in table order until one takes it.
    async fn on_menu(&self, _s: &Services, _d: &mut Draft, _key: &str, _now_ms: i64) -> Handled {
        Ok(false)
    }

    /// A tap on a card button whose key starts with one of [`Process::card_actions`].
    async fn on_card(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _tap: &CardEvent,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// One of its timers fired.
    async fn on_timer(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _job: &TimerJob,
        _due_ms: i64,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// A contact change, when [`Process::watches_contacts`].
    async fn on_contact(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _change: &ContactChange,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// A form of one of its flows is being confirmed, before a case number is allocated:
    /// `Some(text)` refuses it (the text is said, the form stays at its summary). `editing`
    /// is the number of the case being edited, if any.
    async fn refuse_filing(
        &self,
        _s: &Services,
        _flow: &FlowDef,
        _answers: &Answers,
        _editing: Option<&str>,
    ) -> Result<Option<String>, DispatchError> {
        Ok(None)
    }

    /// A case of one of its flows is being filed, or resubmitted after an edit (before its
    /// chain opens).
    async fn on_filing(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _flow: &FlowDef,
        _case: &mut Case,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// A form of one of its flows took a step and is still open; `before` is the state before
    /// it (e.g. to act when an answer was just given).
    async fn on_form_step(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _flow: &FlowDef,
        _before: &ConversationState,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// Whether step `index` of the flow's chain is left out of this round of a case of one of
    /// its flows (asked when the chain opens, after [`Process::on_filing`]).
    fn skips_step(&self, _s: &Services, _flow: &FlowDef, _case: &Case, _index: usize) -> bool {
        false
    }

    /// A case of one of its flows ended without approval: rejected (it may come back, edited,
    /// through [`Process::on_filing`]), refused for good or withdrawn.
    async fn on_ended(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _flow: &FlowDef,
        _case: &Case,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }

    /// A case of one of its flows was finally approved; `approver` is the last approver's name.
    async fn on_approved(
        &self,
        _s: &Services,
        _d: &mut Draft,
        _flow: &FlowDef,
        _case: &Case,
        _approver: &str,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        Ok(())
    }
}

/// The registered processes, in routing order.
#[derive(Clone, Default)]
pub struct Processes(Arc<[Arc<dyn Process>]>);

impl Processes {
    pub fn new(processes: Vec<Arc<dyn Process>>) -> Self {
        Processes(processes.into())
    }

    /// All of them, in routing order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Process> {
        self.0.iter().map(|p| p.as_ref())
    }

    /// The owner of a card action (`approve` of `approve:BA-2026-0001`).
    pub fn for_card_action(&self, action: &str) -> Option<&dyn Process> {
        self.iter().find(|p| p.card_actions().contains(&action))
    }

    pub fn for_timer(&self, job: &TimerJob) -> Option<&dyn Process> {
        self.iter().find(|p| p.owns_timer(job))
    }

    pub fn for_flow(&self, flow: &FlowDef) -> Option<&dyn Process> {
        self.iter().find(|p| p.owns_flow(flow))
    }
}
