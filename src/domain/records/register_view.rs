//! The register as the propaganda department and unit leaders read it in chat: `台账` (the
//! accounts by unit, platform and status, a page at a time), `查询 <词>` (accounts whose name,
//! ID, unit, register number or people match), `统计` (counts) and `详情 <编号>` (every answer
//! of a case). Pure: the caller loads the cases, decides the scope and who may see what; the
//! words are `[supervision]` of bot.toml.

use std::collections::BTreeMap;

use minijinja::Value;
use serde::Serialize;

use super::export::{answer_text, status_text};
use super::{AccountStatus, Case};
use crate::base::normalize;
use crate::base::scripts::{Scripts, tpl};

/// Accounts per page of `台账`.
pub const PAGE_SIZE: usize = 10;

/// Whose accounts a reader sees: every unit (the department), or some units (their leader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Unit ids and names.
    Units(Vec<(String, String)>),
}

impl Scope {
    pub fn covers(&self, unit: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Units(units) => units.iter().any(|(id, _)| id == unit),
        }
    }

    /// `all` and `units` for the templates.
    fn context(&self) -> (bool, String) {
        match self {
            Scope::All => (true, String::new()),
            Scope::Units(units) => {
                let names: Vec<&str> = units.iter().map(|(_, n)| n.as_str()).collect();
                (false, names.join("、"))
            }
        }
    }
}

/// One account of the register, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub register_number: String,
    pub case_number: String,
    #[serde(skip)]
    pub unit_id: String,
    pub unit: String,
    pub platform: String,
    pub name: String,
    pub account_id: String,
    pub status: String,
    /// What `查询` also matches: the link and the people (leader, administrator, applicant).
    #[serde(skip)]
    pub also: Vec<String>,
}

/// The register's entries (approved registrations) seen in `scope`, by unit, platform, status
/// and register number; `changing` are the register numbers with a change report pending.
pub fn entries(
    scripts: &Scripts,
    register: &[Case],
    scope: &Scope,
    changing: &[String],
) -> Vec<Entry> {
    let mut keyed: Vec<(AccountStatus, Entry)> = register
        .iter()
        .filter(|c| scope.covers(&c.unit))
        .filter_map(|c| {
            let register_number = c.register_number.clone()?;
            let answer = |id: &str| {
                c.answers
                    .get(id)
                    .map(|a| answer_text(scripts, a))
                    .unwrap_or_default()
            };
            let status = AccountStatus::of(c, changing);
            let also = ["link", "leader", "admin"].iter().map(|id| answer(id));
            Some((
                status,
                Entry {
                    case_number: c.number.clone(),
                    unit_id: c.unit.clone(),
                    unit: c.unit_name.clone(),
                    platform: answer("platform"),
                    name: answer("account_name"),
                    account_id: answer("account_id"),
                    status: status.text(scripts),
                    also: also.chain([c.applicant_name.clone()]).collect(),
                    register_number,
                },
            ))
        })
        .collect();
    keyed.sort_by(|(sa, a), (sb, b)| {
        (&a.unit, &a.platform, sa, &a.register_number).cmp(&(
            &b.unit,
            &b.platform,
            sb,
            &b.register_number,
        ))
    });
    keyed.into_iter().map(|(_, e)| e).collect()
}

fn say(scripts: &Scripts, key: &str, ctx: &Value) -> String {
    scripts.render(&tpl::supervision(key), ctx)
}

fn json(value: serde_json::Value) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// How many pages `台账` has for `entries` (at least one).
pub fn pages(entries: &[Entry]) -> usize {
    entries.len().div_ceil(PAGE_SIZE).max(1)
}

/// `台账 <page>`: page `page` (1-based, within [`pages`]) of the entries.
pub fn ledger(scripts: &Scripts, entries: &[Entry], scope: &Scope, page: usize) -> String {
    let pages = pages(entries);
    let page = page.clamp(1, pages);
    let items: Vec<&Entry> = entries
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let (all, units) = scope.context();
    let ctx = json(serde_json::json!({
        "all": all, "units": units, "items": items, "page": page, "pages": pages,
        "total": entries.len(), "more": page < pages,
    }));
    say(scripts, "ledger", &ctx)
}

/// `下一页` after the last page.
pub fn no_more_pages(scripts: &Scripts) -> String {
    say(scripts, "no_more_pages", &Value::UNDEFINED)
}

/// Whether `entry` matches the search `word` (compared without spaces, ignoring case and full
/// width).
pub fn matches(entry: &Entry, word: &str) -> bool {
    let word = normalize::key(word);
    !word.is_empty()
        && [
            &entry.name,
            &entry.account_id,
            &entry.unit,
            &entry.register_number,
            &entry.case_number,
        ]
        .into_iter()
        .chain(entry.also.iter())
        .any(|field| normalize::key(field).contains(&word))
}

/// `查询 <词>`: the entries matching `word`.
pub fn search(scripts: &Scripts, entries: &[Entry], word: &str) -> String {
    let items: Vec<&Entry> = entries.iter().filter(|e| matches(e, word)).collect();
    let ctx = json(serde_json::json!({
        "word": word.trim(), "items": items, "total": items.len(),
    }));
    say(scripts, "search", &ctx)
}

/// Counts by a label, most first (ties by label).
pub fn counts<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<serde_json::Value> {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for label in labels {
        *by.entry(label).or_default() += 1;
    }
    let mut by: Vec<(&str, usize)> = by.into_iter().collect();
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    by.into_iter()
        .map(|(label, count)| serde_json::json!({ "label": label, "count": count }))
        .collect()
}

/// `统计`: the entries by unit, platform and status, plus the cases waiting for a decision and
/// the duties still open in the scope.
pub fn stats(
    scripts: &Scripts,
    entries: &[Entry],
    scope: &Scope,
    pending: usize,
    open_duties: usize,
) -> String {
    let (all, units) = scope.context();
    let ctx = json(serde_json::json!({
        "all": all, "units": units, "total": entries.len(),
        "by_unit": counts(entries.iter().map(|e| e.unit.as_str())),
        "by_platform": counts(entries.iter().map(|e| e.platform.as_str())),
        "by_status": counts(entries.iter().map(|e| e.status.as_str())),
        "pending": pending, "open_duties": open_duties,
    }));
    say(scripts, "stats", &ctx)
}

/// `详情 <编号>`: every answer of the case, in the flow's field order (then any answers of
/// fields the scripts no longer define), with its status and register number.
pub fn details(scripts: &Scripts, case: &Case) -> String {
    let flow = scripts.flows.get(&case.flow);
    let ctx = json(serde_json::json!({
        "title": flow.map_or_else(|| case.flow.clone(), |f| f.title.clone()),
        "number": case.number,
        "register_number": case.register_number,
        "status": status_text(scripts, case),
        "account_status": case.register_number.as_ref().map(|_| case.account_status.text(scripts)),
        "applicant": case.applicant_name,
        "unit": case.unit_name,
        "rows": rows(scripts, case),
    }));
    say(scripts, "details", &ctx)
}

/// Every non-empty answer of a case as `{label, value}`, in the flow's field order (then any
/// answers of fields the scripts no longer define): what `详情` and the desk show.
pub fn rows(scripts: &Scripts, case: &Case) -> Vec<serde_json::Value> {
    let flow = scripts.flows.get(&case.flow);
    let label = |id: &str| {
        flow.and_then(|f| f.field(id))
            .map_or_else(|| id.to_owned(), |(_, f)| f.label.clone())
    };
    let mut ids: Vec<&str> = flow
        .map(|f| f.fields.iter().map(|f| f.id.as_str()).collect())
        .unwrap_or_default();
    for (id, _) in case.answers.iter() {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let value = answer_text(scripts, case.answers.get(id)?);
            (!value.is_empty()).then(|| serde_json::json!({ "label": label(id), "value": value }))
        })
        .collect()
}

/// The register numbers a pending change report (a case whose flow updates the register) is
/// about: its answers that name a registered account.
pub fn accounts_changing(scripts: &Scripts, pending: &[Case]) -> Vec<String> {
    pending
        .iter()
        .filter(|c| {
            scripts
                .flows
                .get(&c.flow)
                .is_some_and(|f| !f.register_updates.is_empty())
        })
        .flat_map(|c| {
            c.answers.iter().filter_map(|(_, a)| match a {
                crate::domain::engine::Answer::Ref { id, .. } => Some(id.clone()),
                _ => None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
