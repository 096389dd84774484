//! Stored records that refer to what bot-scripts no longer define: cases of a flow and duties
//! of a duty kind that are gone. The bot answers their people that the flow is retired (cases)
//! or stops chasing them (duties); `flowbot check` lists them as warnings so that an operator
//! removing a flow sees what it leaves behind.

use crate::adapters::store::{Store, StoreResult};
use crate::base::scripts::Scripts;
use crate::domain::records::{ALL_CASES, Case};
use crate::domain::reminders::duty::{ALL_DUTIES, Duty};

/// One warning per stored case whose flow, or duty whose kind, `scripts` do not define (and
/// per stored record that cannot be read), in filing order.
pub async fn warnings(store: &dyn Store, scripts: &Scripts) -> StoreResult<Vec<String>> {
    let mut warnings = Vec::new();
    for number in store.cases_in(ALL_CASES).await? {
        let Some(body) = body_of(store, &number).await? else {
            continue;
        };
        match Case::from_json(&body) {
            Ok(case) if !scripts.flows.contains_key(&case.flow) => warnings.push(format!(
                "stored case {number} ({}) is of flow `{}`, which bot-scripts do not define: \
                 its people are told that the flow is retired",
                case.status.as_str(),
                case.flow
            )),
            Ok(_) => {}
            Err(e) => warnings.push(format!("stored case {number} is unreadable: {e}")),
        }
    }
    for number in store.cases_in(ALL_DUTIES).await? {
        let Some(body) = body_of(store, &number).await? else {
            continue;
        };
        match serde_json::from_str::<Duty>(&body) {
            Ok(duty) if !scripts.duties.contains_key(&duty.kind) => warnings.push(format!(
                "stored duty {number} ({}) is of kind `{}`, which bot-scripts do not define \
                 ([duties.{}]): it is not chased",
                if duty.done { "done" } else { "open" },
                duty.kind,
                duty.kind
            )),
            Ok(_) => {}
            Err(e) => warnings.push(format!("stored duty {number} is unreadable: {e}")),
        }
    }
    Ok(warnings)
}

async fn body_of(store: &dyn Store, number: &str) -> StoreResult<Option<String>> {
    Ok(store
        .get_case(number)
        .await?
        .map(|record| record.body)
        .filter(|body| !body.is_empty()))
}
