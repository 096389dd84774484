//! Reusing an earlier report: when an administrator starts a report (the account just chosen,
//! not while editing one) and an earlier report exists — this account's in an earlier year's
//! campaign, else the administrator's own latest report of another account — the bot offers
//! (`reuse_offer`, 是/否, the pending offer in `Conversation::annual_reuse`) to reuse its
//! answers. 是 copies every answer that still fits its field except the account and the numbers
//! of the year (integer fields: posts, followers), then the form goes on: the numbers are
//! asked, then the summary, where each answer can be edited as usual. 否 goes on as asked;
//! anything else drops the offer and is the form's answer.

use super::review::account_of;
use super::{results, say};
use crate::base::normalize;
use crate::base::scripts::{FieldKind, FlowDef, Words};
use crate::dispatch::{DispatchError, Draft, Handled, Services};
use crate::domain::annual;
use crate::domain::engine::{self, Answer, ConversationState, Phase};
use crate::domain::records::{Case, CaseStatus, applicant_index};

/// The register number the open form's `account` answer names.
fn account(state: &ConversationState) -> Option<&str> {
    account_of(&state.form.as_ref()?.answers)
}

/// The answers of `source` that may be reused in `flow` (not the account, not numbers).
fn reusable<'a>(
    flow: &'a FlowDef,
    source: &'a Case,
) -> impl Iterator<Item = (&'a str, &'a str, &'a Answer)> {
    flow.fields
        .iter()
        .filter(|f| f.kind != FieldKind::Account && !matches!(f.kind, FieldKind::Integer { .. }))
        .filter_map(|f| {
            let a = source.answers.get(&f.id)?;
            engine::fits(f, a).then_some((f.id.as_str(), f.label.as_str(), a))
        })
}

/// A filed report (not withdrawn) of the campaign's flow.
async fn report(s: &Services, number: &str, flow: &str) -> Result<Option<Case>, DispatchError> {
    Ok(results::case(&*s.store, number)
        .await?
        .filter(|c| c.flow == flow && c.status != CaseStatus::Withdrawn))
}

/// The report to offer: this account's in the latest earlier campaign, else `user`'s latest
/// report of another account.
async fn previous(
    s: &Services,
    user: &str,
    register_number: &str,
    flow: &str,
) -> Result<Option<Case>, DispatchError> {
    let current = results::open_campaign(&*s.store).await?.map(|c| c.year);
    let mut years: Vec<i32> = s
        .store
        .cases_in(results::CAMPAIGNS)
        .await?
        .iter()
        .filter_map(|n| n.rsplit('-').next()?.parse().ok())
        .filter(|y| current.is_none_or(|c| *y < c))
        .collect();
    years.sort_unstable();
    for year in years.into_iter().rev() {
        let task = results::task(&*s.store, &annual::task_number(year, register_number)).await?;
        let filed = task.and_then(|(t, _)| t.campaign?.report);
        if let Some(number) = filed
            && let Some(case) = report(s, &number, flow).await?
        {
            return Ok(Some(case));
        }
    }
    for number in s.store.cases_in(&applicant_index(user)).await?.iter().rev() {
        if let Some(case) = report(s, number, flow).await?
            && account_of(&case.answers).is_some_and(|n| n != register_number)
        {
            return Ok(Some(case));
        }
    }
    Ok(None)
}

fn labels<'a>(items: impl Iterator<Item = (&'a str, &'a str, &'a Answer)>) -> String {
    items
        .map(|(_, label, _)| label)
        .collect::<Vec<_>>()
        .join("、")
}

/// A step of a report form: when it just chose the account of a new report, the earlier report
/// is offered.
pub(super) async fn offer(
    s: &Services,
    d: &mut Draft,
    flow: &FlowDef,
    before: &ConversationState,
) -> Result<(), DispatchError> {
    let state = &d.conversation.form;
    let filling = state
        .form
        .as_ref()
        .is_some_and(|f| matches!(f.phase, Phase::Field(_)));
    let Some(register_number) = account(state).map(str::to_owned) else {
        return Ok(());
    };
    if !filling || d.conversation.editing.is_some() || account(before).is_some() {
        return Ok(());
    }
    let Some(source) = previous(s, &d.user, &register_number, &flow.id).await? else {
        return Ok(());
    };
    let items = labels(reusable(flow, &source));
    if items.is_empty() {
        return Ok(());
    }
    let source_account = match source.answers.get("account") {
        Some(Answer::Ref { name, .. }) => name.clone(),
        _ => String::new(),
    };
    let ctx = minijinja::context! { source => &source.number, source_account, items };
    d.reply(say(s, "reuse_offer", ctx));
    tracing::info!(user = %d.user, source = %source.number, "annual report: earlier answers offered");
    d.conversation.annual_reuse = Some(source.number);
    Ok(())
}

/// The answer to the offer, if one is pending: 是 reuses, 否 goes on; anything else is left to
/// the form (the offer lapses).
pub(super) async fn answer(s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
    let Some(source) = d.conversation.annual_reuse.take() else {
        return Ok(false);
    };
    let Some(flow) = d
        .conversation
        .form
        .form
        .as_ref()
        .and_then(|f| s.scripts.flows.get(&f.flow))
        .filter(|f| f.campaign)
        .cloned()
    else {
        return Ok(false);
    };
    let word = normalize::key(text);
    if Words::is(&s.scripts.words.no, &word) {
        d.reply(say(s, "reuse_declined", minijinja::Value::UNDEFINED));
        return Ok(true);
    }
    if !Words::is(&s.scripts.words.yes, &word) {
        return Ok(false);
    }
    let Some(case) = report(s, &source, &flow.id).await? else {
        return Ok(false);
    };
    let items = labels(reusable(&flow, &case));
    if let Some(form) = d.conversation.form.form.as_mut() {
        for (id, _, a) in reusable(&flow, &case) {
            form.answers.set(id, a.clone());
        }
    }
    d.reply(say(s, "reuse_done", minijinja::context! { source, items }));
    crate::process::forms::advance(s, d, now_ms).await?;
    Ok(true)
}
