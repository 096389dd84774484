//! `年审 进度 [年份]` (per unit: accounts, submitted, approved, passed, rectifying, failed,
//! missing — the department sees every unit, a unit leader their own), `年审 结束 [年份]`
//! (department: what is missing becomes 未报 and is no longer chased, nor are reports sent back
//! to be fixed) and `导出 年审 [年份]`
//! (the results as an XLSX file in the chat, built by the outbox sender at delivery).

use super::results;
use super::{department, end_chase, say};
use crate::adapters::store::CaseWrite;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::annual::{self, OPEN_CAMPAIGNS, Verdict};
use crate::domain::records::export::{Export, What};
use crate::domain::records::{AccountStatus, register_view::Scope};
use crate::domain::reply::{DeskPage, Reply};
use crate::process::supervision::scope_of;

/// The campaign year a command means, or the user is told there is none.
async fn year(
    s: &Services,
    d: &mut Draft,
    asked: Option<i32>,
) -> Result<Option<i32>, DispatchError> {
    let year = results::year_of(&*s.store, asked).await?;
    let opened = match year {
        Some(y) => results::campaign(&*s.store, y).await?.is_some(),
        None => false,
    };
    if !opened {
        d.reply(say(s, "not_open", minijinja::context! { year }));
        return Ok(None);
    }
    Ok(year)
}

/// Who sees what: the department every unit, a unit leader their units; else refused.
async fn scope(s: &Services, d: &mut Draft) -> Result<Option<Scope>, DispatchError> {
    let scope = scope_of(s, &d.user).await?;
    if scope.is_none() {
        d.reply(say(s, "refused", minijinja::Value::UNDEFINED));
    }
    Ok(scope)
}

/// `年审 进度`.
pub async fn progress(
    s: &Services,
    d: &mut Draft,
    asked: Option<i32>,
) -> Result<(), DispatchError> {
    let Some(scope) = scope(s, d).await? else {
        return Ok(());
    };
    let Some(year) = year(s, d, asked).await? else {
        return Ok(());
    };
    let Some((campaign, _)) = results::campaign(&*s.store, year).await? else {
        return Ok(());
    };
    let rows: Vec<_> = results::load(&*s.store, year)
        .await?
        .into_iter()
        .filter(|r| scope.covers(&r.unit))
        .collect();
    let units = annual::progress(rows.iter().map(|r| (r.unit_name.as_str(), r.outcome)));
    let total = annual::progress(rows.iter().map(|r| ("", r.outcome)));
    let ctx = minijinja::context! {
        year, deadline => campaign.deadline, closed => campaign.closed_at_ms.is_some(),
        all => matches!(scope, Scope::All),
        units => minijinja::Value::from(minijinja::value::Serde(&units)),
        total => minijinja::Value::from(minijinja::value::Serde(total.first())),
    };
    d.reply_about(say(s, "progress", ctx), DeskPage::Annual(year));
    Ok(())
}

/// `年审 结束`: the department closes the campaign; what is missing is 未报.
pub async fn close(
    s: &Services,
    d: &mut Draft,
    asked: Option<i32>,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if !department(s, d).await? {
        return Ok(());
    }
    let Some(year) = year(s, d, asked).await? else {
        return Ok(());
    };
    let Some((mut campaign, version)) = results::campaign(&*s.store, year).await? else {
        return Ok(());
    };
    if campaign.closed_at_ms.is_some() {
        d.reply(say(
            s,
            "not_open",
            minijinja::context! { year, closed => true },
        ));
        return Ok(());
    }
    let mut not_filed = 0;
    for number in s.store.cases_in(&annual::waiting_index(year)).await? {
        let Some((mut task, version)) = results::task(&*s.store, &number).await? else {
            continue;
        };
        if task.done {
            continue;
        }
        let closed = results::entry(&*s.store, &task.account)
            .await?
            .is_none_or(|e| e.account_status == AccountStatus::Closed);
        if !closed {
            not_filed += 1;
            task.campaign.get_or_insert_with(Default::default).verdict = Some(Verdict::NotFiled);
        }
        end_chase(d, &mut task, version, year);
    }
    // Reports sent back are no longer chased either (their outcome stays 需整改).
    for number in s.store.cases_in(&annual::tasks_index(year)).await? {
        if let Some((task, _)) = results::task(&*s.store, &number).await? {
            super::rectify::end(s, d, task.campaign.and_then(|c| c.rectify)).await?;
        }
    }
    campaign.closed_at_ms = Some(now_ms);
    d.write_case(CaseWrite {
        number: annual::campaign_number(year),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&campaign).expect("a campaign serializes")),
        remove_from: vec![OPEN_CAMPAIGNS.to_owned()],
        ..CaseWrite::default()
    });
    tracing::info!(year, not_filed, "annual review campaign closed");
    d.reply(say(s, "closed", minijinja::context! { year, not_filed }));
    Ok(())
}

/// `导出 年审`: the results of what the user supervises, as a file.
pub async fn export(s: &Services, d: &mut Draft, asked: Option<i32>) -> Result<(), DispatchError> {
    let Some(scope) = scope(s, d).await? else {
        return Ok(());
    };
    let Some(year) = year(s, d, asked).await? else {
        return Ok(());
    };
    let sheet = say(s, "sheet", minijinja::context! { year });
    d.reply(say(s, "export_started", minijinja::context! { sheet }));
    let units = match scope {
        Scope::All => None,
        Scope::Units(units) => Some(units.into_iter().map(|(id, _)| id).collect()),
    };
    let to = d.user.clone();
    d.send(Reply::File {
        to,
        export: Export {
            what: What::AnnualReview,
            units,
            year: Some(year),
            task: None,
        },
    });
    Ok(())
}
