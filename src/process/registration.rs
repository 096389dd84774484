//! The registration process (备案登记, policy 3.1.1): a new official account is filed with the
//! registration form and approved by the unit's leader and then the propaganda department;
//! the final approval gives it a register number (allocated by the approvals process when the
//! chain closes) and tells the unit's leaders that the account is on the register. An account
//! already in the register, or in a registration being approved, is not filed twice.

use async_trait::async_trait;

use crate::base::scripts::{FlowDef, tpl};
use crate::dispatch::{DispatchError, Draft, LoadedCase, Process, Services};
use crate::domain::approval::chain;
use crate::domain::engine::Answers;
use crate::domain::records::{self, Case, CaseStatus, duplicates};

/// The registration process.
pub struct Registration;

#[async_trait]
impl Process for Registration {
    fn name(&self) -> &'static str {
        "registration"
    }

    /// Flows whose approval puts an account on the register.
    fn owns_flow(&self, flow: &FlowDef) -> bool {
        flow.registers_account
    }

    /// The same account (platform and ID, or link) already registered or pending: the bot
    /// names that entry (number, unit) instead of filing a second case.
    async fn refuse_filing(
        &self,
        s: &Services,
        flow: &FlowDef,
        answers: &Answers,
        editing: Option<&str>,
    ) -> Result<Option<String>, DispatchError> {
        let Some(existing) = same_account(s, answers, editing).await? else {
            return Ok(None);
        };
        let registered = existing.register_number.is_some();
        tracing::info!(case = %existing.number, registered, "duplicate registration refused");
        let vars = minijinja::context! {
            title => &flow.title,
            registered => registered,
            number => existing.register_number.as_deref().unwrap_or(&existing.number),
            unit => &existing.unit_name,
        };
        Ok(Some(
            s.scripts.render(&tpl::flow(&flow.id, "duplicate"), &vars),
        ))
    }

    async fn on_approved(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        case: &Case,
        _approver: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        s.register_changed(d, now_ms);
        let leaders = s.directory.leaders_of(&case.unit).await?;
        let mut change = chain::Change::default();
        chain::announce_approval(&s.scripts, flow, case, &leaders, &mut change);
        for message in change.messages {
            d.send(message);
        }
        Ok(())
    }
}

/// The first registration naming the same account as `answers` that is in the register or
/// being approved (not the case being edited).
async fn same_account(
    s: &Services,
    answers: &Answers,
    editing: Option<&str>,
) -> Result<Option<Case>, DispatchError> {
    for number in s.store.cases_in(records::ALL_CASES).await? {
        if editing == Some(number.as_str()) {
            continue;
        }
        let Some(LoadedCase { case, .. }) = s.load_case(&number).await? else {
            continue;
        };
        let registration = s
            .scripts
            .flows
            .get(&case.flow)
            .is_some_and(|f| f.registers_account);
        let live =
            case.register_number.is_some() || (registration && case.status == CaseStatus::Pending);
        if live && duplicates::same_account(&case.answers, answers) {
            return Ok(Some(case));
        }
    }
    Ok(None)
}
