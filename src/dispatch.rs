//! One event in, one [`Commit`] out: loads the conversation's state, resolves the user's
//! context in the directory, runs the pure [`engine::step`] and turns its effects into outbound
//! messages, case records and the next state. All I/O of a step happens here, around the pure
//! engine.

use std::sync::Arc;

use crate::directory::{self, Directory, DirectoryError};
use crate::engine::{self, ConversationState, EngineInput, Now, StepOutcome};
use crate::records::{Case, CaseStatus};
use crate::scripts::Scripts;
use crate::store::{Commit, OutboxItem, StateWrite, Store, StoreError};
use crate::wecom::api::Outbound;
use crate::wecom::message::Inbound;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error("the engine asked for a case number twice")]
    CaseNumberLoop,
}

/// Turns events into commits.
#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<dyn Store>,
    scripts: Arc<Scripts>,
    directory: Arc<dyn Directory>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        scripts: Arc<Scripts>,
        directory: Arc<dyn Directory>,
    ) -> Self {
        Self {
            store,
            scripts,
            directory,
        }
    }

    /// What handling `inbound` changes. Nothing is written here: the caller commits the result
    /// atomically with the event's completion (and re-runs this on a version conflict).
    pub async fn handle(&self, inbound: &Inbound, now_ms: i64) -> Result<Commit, DispatchError> {
        let Some(input) = EngineInput::from_inbound(inbound) else {
            tracing::debug!("event not for the form engine");
            return Ok(Commit::default());
        };
        let conversation = inbound.conversation();
        let (version, state) = self.load_state(conversation).await?;
        let mut ctx = directory::engine_context(&*self.directory, conversation).await?;
        let now = Now::shanghai(now_ms);
        let mut outcome = engine::step(&self.scripts, &state, &input, &ctx, now);
        if let StepOutcome::NeedsCaseNumber { prefix, .. } = &outcome {
            let year = now.today().y;
            let series = format!("{prefix}-{year}");
            let n = self.store.next_number(&series).await?;
            ctx.case_number = Some(format!("{series}-{n:04}"));
            outcome = engine::step(&self.scripts, &state, &input, &ctx, now);
        }
        let StepOutcome::Next {
            state: next,
            effects,
        } = outcome
        else {
            return Err(DispatchError::CaseNumberLoop);
        };
        let mut commit = Commit::default();
        for effect in effects {
            match effect {
                engine::Effect::Say(body) => {
                    let message = Outbound::Send {
                        to_user: conversation.to_owned(),
                        body,
                    };
                    commit.outbox.push(OutboxItem {
                        channel: message.channel(),
                        payload: serde_json::to_string(&message).expect("outbound serializes"),
                    });
                }
                engine::Effect::SubmitCase {
                    flow,
                    version,
                    case_number,
                    unit,
                    answers,
                    summary,
                } => {
                    tracing::info!(case = %case_number, %flow, "case filed");
                    let unit_name = ctx
                        .units
                        .iter()
                        .find(|u| u.id == unit)
                        .map(|u| u.name.clone())
                        .unwrap_or_default();
                    let case = Case {
                        number: case_number,
                        flow,
                        scripts_version: version,
                        applicant: conversation.to_owned(),
                        applicant_name: ctx.user.name.clone(),
                        unit,
                        unit_name,
                        answers,
                        summary,
                        status: CaseStatus::Pending,
                        submitted_at_ms: now_ms,
                        chain: Vec::new(),
                        current_step: 0,
                        round: 1,
                        register_number: None,
                        decided_at_ms: None,
                    };
                    commit.cases.push(case.filing());
                }
            }
        }
        let next = (next != ConversationState::default())
            .then(|| serde_json::to_string(&next).expect("state serializes"));
        commit.state = Some(StateWrite {
            expected_version: version,
            state: next,
        });
        Ok(commit)
    }

    async fn load_state(
        &self,
        conversation: &str,
    ) -> Result<(u64, ConversationState), DispatchError> {
        let Some(stored) = self.store.load_conversation(conversation).await? else {
            return Ok((0, ConversationState::default()));
        };
        let state = serde_json::from_str(&stored.state).unwrap_or_else(|e| {
            // Never silently: the user is greeted afresh and the log says why.
            tracing::error!(%conversation, error = %e, "unreadable conversation state, starting over");
            ConversationState::default()
        });
        Ok((stored.version, state))
    }
}
