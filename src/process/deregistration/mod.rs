//! The deregistration process (注销, policy 3.1.2, 3.3.3): a unit closes one of its registered
//! accounts and reports it with the reason, the date and evidence; the unit's leader approves
//! and the propaganda department confirms. Filing marks the account 注销中 in the register,
//! final approval 已注销 (it stays in the register as closed); each move is a line of the
//! entry's history. The department may also order a closure ([`order`]: `责令注销`, chased
//! until `已注销` or an approved report ends it).

pub mod order;

use async_trait::async_trait;

use crate::adapters::store::CaseWrite;
use crate::base::scripts::FlowDef;
use crate::dispatch::{DispatchError, Draft, Handled, LoadedCase, Process, Services};
use crate::domain::engine::CommandInput;
use crate::domain::records::{self, AccountStatus, Case, HistoryKind};

/// The deregistration process.
pub struct Deregistration;

#[async_trait]
impl Process for Deregistration {
    fn name(&self) -> &'static str {
        "deregistration"
    }

    /// Flows that close the account they name.
    fn owns_flow(&self, flow: &FlowDef) -> bool {
        flow.closes_account
    }

    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        let command = order::parse(text).filter(|_| s.scripts.closure_order)?;
        Some(CommandInput {
            kind: order::kind(&command).to_owned(),
            opens_form: false,
        })
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        if !s.scripts.closure_order || !d.conversation.form.is_idle() {
            return Ok(false);
        }
        let Some(command) = order::parse(text) else {
            return Ok(false);
        };
        order::run(s, d, command, now_ms).await?;
        Ok(true)
    }

    async fn on_filing(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &mut Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        mark(s, d, case, AccountStatus::Closing, now_ms).await
    }

    /// A rejected or withdrawn report puts the account back in use, unless the department has
    /// ordered it closed (then it stays 注销中 until the order ends).
    async fn on_ended(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some((register_number, entry)) = s.entry_of(case).await? else {
            return Ok(());
        };
        let ordered = !s
            .store
            .cases_in(&crate::domain::reminders::duty::order_index(
                &register_number,
            ))
            .await?
            .is_empty();
        if entry.case.account_status == AccountStatus::Closing && !ordered {
            set_status(d, entry, AccountStatus::InUse, &case.number, now_ms);
            s.register_changed(d, now_ms);
        }
        Ok(())
    }

    async fn on_approved(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &Case,
        _approver: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        mark(s, d, case, AccountStatus::Closed, now_ms).await?;
        if let Some((register_number, _)) = s.entry_of(case).await? {
            order::end_by_report(s, d, &register_number, &case.number).await?;
        }
        Ok(())
    }
}

/// Moves the account `case` names to `status`, with a history line naming the case.
async fn mark(
    s: &Services,
    d: &mut Draft,
    case: &Case,
    status: AccountStatus,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((register_number, entry)) = s.entry_of(case).await? else {
        return Ok(());
    };
    set_status(d, entry, status, &case.number, now_ms);
    s.register_changed(d, now_ms);
    tracing::info!(%register_number, case = %case.number, ?status, "account status moved");
    Ok(())
}

/// Writes `status` into the register entry (at the version it was read at) with a history
/// line naming `source`; nothing when it is already so.
pub(crate) fn set_status(
    d: &mut Draft,
    entry: LoadedCase,
    status: AccountStatus,
    source: &str,
    now_ms: i64,
) {
    let LoadedCase {
        mut case, version, ..
    } = entry;
    if case.account_status == status {
        return;
    }
    case.account_status = status;
    let history = records::history(
        now_ms,
        &d.user,
        HistoryKind::StatusChanged {
            status,
            source: source.to_owned(),
        },
    );
    d.write_case(CaseWrite {
        number: case.number.clone(),
        body: Some(case.to_json()),
        history: vec![history],
        expected_version: Some(version),
        ..CaseWrite::default()
    });
}
