//! The conversation engine: `step(scripts, state, input, ctx, now) → (state', effects)`.
//!
//! Pure: no I/O, no clock, no randomness. The caller (the worker) loads the state, resolves
//! the [`Context`] from the directory, passes `now` (read from the company clock), and applies the
//! returned effects and state atomically. Case numbers are allocated by the caller: a confirmed form with no
//! `ctx.case_number` yields [`StepOutcome::NeedsCaseNumber`] and nothing else; the caller
//! allocates one and calls `step` again with the same input.

mod answer;
mod form;
pub mod parse;
pub mod state;
mod view;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::base::calendar::Now;
use crate::base::directory::{Person, Snapshot, Unit};
use crate::base::scripts::Scripts;
use crate::domain::evidence::EvidenceRef;
pub use state::{Answer, Answers, ConversationState, FormState, Pending, Phase};

/// What the user did, as far as the engine cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineInput {
    Text(String),
    MenuClick(String),
    /// An image or file message, already kept as evidence.
    File(EvidenceRef),
}

/// A registered account of the user's unit (for `account` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// What the caller knows about the user and the company for this step.
#[derive(Debug, Clone)]
pub struct Context {
    /// The user: userid, name, unit ids.
    pub user: Person,
    /// The user's units with names (empty: not in any unit).
    pub units: Vec<Unit>,
    /// Everyone, for `member` fields.
    pub directory: Arc<Snapshot>,
    /// The accounts registered for the user's units.
    pub accounts: Vec<Account>,
    /// Userids of the propaganda role.
    pub propaganda: Vec<String>,
    /// A freshly allocated case number, after [`StepOutcome::NeedsCaseNumber`].
    pub case_number: Option<String>,
    /// The input is a text command of another process. Typed at a free-text question it is
    /// not saved silently; chosen as a command it comes back as [`Effect::RunCommand`].
    pub command: Option<CommandInput>,
}

/// A text command of another process, as the caller recognised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandInput {
    /// Its kind (`mine`, `todo`, `status` …: the keys of `[messages.commands]`).
    pub kind: String,
    /// It opens a form of its own (`修改 <编号>`), so it cannot run while this form is kept.
    pub opens_form: bool,
}

/// Something the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Say this to the user in this conversation.
    Say(String),
    /// Store a confirmed form as a case, ready for approval.
    SubmitCase {
        flow: String,
        /// The scripts version the form was filled with.
        version: String,
        case_number: String,
        /// The unit id the case is filed for (the form's `unit` answer).
        unit: String,
        /// Field id → answer, in form order; hidden and skipped fields left out.
        answers: Answers,
        /// The summary as the user confirmed it.
        summary: String,
    },
    /// Run this text as the command it is ([`Context::command`]); the form is paused.
    RunCommand(String),
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Next {
        state: ConversationState,
        effects: Vec<Effect>,
    },
    /// Allocate a case number (e.g. `{prefix}-2026-0001`), set `ctx.case_number`, call again.
    NeedsCaseNumber { flow: String, prefix: String },
}

/// Advances one conversation by one input.
pub fn step(
    scripts: &Scripts,
    state: &ConversationState,
    input: &EngineInput,
    ctx: &Context,
    now: Now,
) -> StepOutcome {
    form::step(scripts, state, input, ctx, now)
}

/// Goes on with a form whose answers its flow's process changed (answers reused from an
/// earlier case): to the first visible unanswered field, or to the summary, with its prompt.
/// An idle state stays idle.
pub fn advance(
    scripts: &Scripts,
    state: &ConversationState,
    ctx: &Context,
    now: Now,
) -> StepOutcome {
    let form = state.form.as_ref();
    let Some((form, flow)) = form.and_then(|f| Some((f, scripts.flows.get(&f.flow)?))) else {
        return StepOutcome::Next {
            state: state.clone(),
            effects: Vec::new(),
        };
    };
    let mut f = view::Form::new(scripts, flow, ctx, now, form.clone());
    f.advance();
    f.finish()
}

/// Whether answer `a` suits field `field` (its kind; skipped only when it is optional).
pub fn fits(field: &crate::base::scripts::FieldDef, a: &Answer) -> bool {
    view::fits(&field.kind, field.optional, a)
}

/// One text message.
fn say(text: String) -> Effect {
    Effect::Say(text)
}
