//! The registration process (备案登记, policy 3.1.1): a new official account is filed with the
//! registration form and approved by the unit's leader and then the propaganda department;
//! the final approval gives it a register number (allocated by the approvals process when the
//! chain closes) and tells the unit's leaders that the account is on the register.

use async_trait::async_trait;

use crate::base::scripts::FlowDef;
use crate::dispatch::{DispatchError, Draft, Process, Services};
use crate::domain::approval::chain;
use crate::domain::records::Case;

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

    async fn on_approved(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        case: &Case,
        _approver: &str,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        let leaders = s.directory.leaders_of(&case.unit).await?;
        let mut change = chain::Change::default();
        chain::announce_approval(&s.scripts, flow, case, &leaders, &mut change);
        for message in change.messages {
            d.send(message);
        }
        Ok(())
    }
}
