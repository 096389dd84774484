//! The store reads of a campaign: the campaign record, its tasks and each account's result
//! (filed or not, the review's outcome). Plain store reads (no [`Services`]), so that the
//! command-line export and later reports (the yearly assessment) read results the same way
//! the chat does.
//!
//! [`Services`]: crate::dispatch::Services

use crate::adapters::store::{Store, StoreResult};
use crate::domain::annual::results::AccountResult;
use crate::domain::annual::{self, Campaign, OPEN_CAMPAIGNS, ReportState, TaskResult};
use crate::domain::records::{AccountStatus, Case, register_number_index};
use crate::domain::reminders::duty::Duty;

/// Every campaign ever opened, in opening order.
pub const CAMPAIGNS: &str = "annual-campaigns";

/// A year's campaign with its version, if it was opened.
pub async fn campaign(store: &dyn Store, year: i32) -> StoreResult<Option<(Campaign, u64)>> {
    let Some(record) = store.get_case(&annual::campaign_number(year)).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str(&record.body)
        .ok()
        .map(|c| (c, record.version)))
}

/// The campaign still open (the latest one, if several are).
pub async fn open_campaign(store: &dyn Store) -> StoreResult<Option<Campaign>> {
    for number in store.cases_in(OPEN_CAMPAIGNS).await?.iter().rev() {
        let Some(record) = store.get_case(number).await? else {
            continue;
        };
        if let Ok(c) = serde_json::from_str::<Campaign>(&record.body)
            && c.closed_at_ms.is_none()
        {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The year `asked`, else the open campaign's, else the latest opened.
pub async fn year_of(store: &dyn Store, asked: Option<i32>) -> StoreResult<Option<i32>> {
    if asked.is_some() {
        return Ok(asked);
    }
    if let Some(open) = open_campaign(store).await? {
        return Ok(Some(open.year));
    }
    let latest = store.cases_in(CAMPAIGNS).await?.into_iter().last();
    Ok(latest.and_then(|n| n.rsplit('-').next().and_then(|y| y.parse().ok())))
}

/// A task (a duty of kind `annual_review`) with its version.
pub async fn task(store: &dyn Store, number: &str) -> StoreResult<Option<(Duty, u64)>> {
    let Some(record) = store.get_case(number).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_str::<Duty>(&record.body)
        .ok()
        .filter(|d| d.campaign.is_some())
        .map(|d| (d, record.version)))
}

/// A case by number, if it decodes.
pub async fn case(store: &dyn Store, number: &str) -> StoreResult<Option<Case>> {
    Ok(store
        .get_case(number)
        .await?
        .and_then(|r| Case::from_json(&r.body).ok()))
}

/// The register entry (registration case) of a register number.
pub async fn entry(store: &dyn Store, register_number: &str) -> StoreResult<Option<Case>> {
    let holders = store
        .cases_in(&register_number_index(register_number))
        .await?;
    match holders.last() {
        Some(number) => case(store, number).await,
        None => Ok(None),
    }
}

/// The outcome of a task as the store holds it now.
pub async fn outcome(store: &dyn Store, result: &TaskResult) -> StoreResult<annual::Outcome> {
    let report = match &result.report {
        Some(number) => case(store, number).await?.map(|c| ReportState {
            status: c.status,
            current_step: c.current_step,
        }),
        None => None,
    };
    Ok(annual::outcome(result, report))
}

/// Every account's result in a year's campaign, in opening order. An account closed during
/// the campaign without a report drops out.
pub async fn load(store: &dyn Store, year: i32) -> StoreResult<Vec<AccountResult>> {
    let mut out = Vec::new();
    for number in store.cases_in(&annual::tasks_index(year)).await? {
        let Some((duty, _)) = task(store, &number).await? else {
            continue;
        };
        let result = duty.campaign.clone().unwrap_or_default();
        let outcome = outcome(store, &result).await?;
        if !outcome.filed() && outcome != annual::Outcome::NotFiled {
            let closed = entry(store, &duty.account)
                .await?
                .is_some_and(|e| e.account_status == AccountStatus::Closed);
            if closed {
                continue;
            }
        }
        out.push(AccountResult {
            year,
            task: number,
            unit: duty.unit,
            unit_name: duty.unit_name,
            register_number: duty.account,
            account_name: duty.account_name,
            due: duty.due,
            due_names: duty.person,
            report: result.report,
            outcome,
            note: result.note,
            fix_by: result.fix_by,
            closure: result.closure,
        });
    }
    Ok(out)
}
