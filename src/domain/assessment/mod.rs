//! The yearly assessment of units (policy 4.1): per unit, the accounts in use, the accounts
//! registered in the year, the change reports filed in the year on time and late, and the
//! closures the department ordered in the year; then the verdict "可评先进" by the rules of
//! bot.toml `[assessment]`, with the reasons when a unit may not be rated advanced.
//!
//! Pure: the records are inputs (register entries, every case, the duties), the year is taken
//! in the company's time zone; [`table`] renders the sheet with the words of bot-scripts. The
//! annual review and incident columns are not here yet: they come with those processes.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::Datelike;
use chrono_tz::Tz;
use minijinja::context;

use crate::base::calendar::local_datetime;
use crate::base::scripts::assessment::{AssessmentDef, Rule, message_template, reason_template};
use crate::base::scripts::{CLOSURE_ORDER, Scripts};
use crate::domain::records::export::{Cell, Table};
use crate::domain::records::{AccountStatus, Case, CaseStatus};
use crate::domain::reminders::duty::Duty;

/// The records an assessment reads.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// The register: approved registrations, one per account.
    pub register: &'a [Case],
    /// Every case filed.
    pub cases: &'a [Case],
    /// Every duty (change-report duties and closure orders).
    pub duties: &'a [Duty],
}

/// One unit's figures for the year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitFigures {
    pub unit: String,
    pub unit_name: String,
    /// Accounts on the register not closed (in use, being changed, rectified or closed).
    pub accounts_in_use: usize,
    /// Accounts registered (finally approved) in the year.
    pub registered: usize,
    /// Change reports filed in the year (not withdrawn) by their deadline, and after it.
    pub changes_on_time: usize,
    pub changes_late: usize,
    /// Closures the department ordered in the year.
    pub closures_ordered: usize,
}

impl UnitFigures {
    /// How many times the unit broke `rule` in the year (0: kept it).
    pub fn breaches(&self, rule: Rule) -> usize {
        match rule {
            Rule::NoLateChangeReport => self.changes_late,
            Rule::NoClosureOrdered => self.closures_ordered,
        }
    }
}

/// Whether `ms` falls in `year` in the company's time zone.
fn in_year(tz: Tz, year: i32, ms: i64) -> bool {
    local_datetime(tz, ms).year() == year
}

/// The figures of unit `id`, named `name` (the latest non-empty name wins).
fn unit<'a>(
    units: &'a mut BTreeMap<String, UnitFigures>,
    id: &str,
    name: &str,
) -> &'a mut UnitFigures {
    let u = units.entry(id.to_owned()).or_default();
    u.unit = id.to_owned();
    if !name.is_empty() {
        u.unit_name = name.to_owned();
    }
    u
}

/// Every unit found in the records, by name, with its figures for `year`.
pub fn figures(year: i32, tz: Tz, records: Records) -> Vec<UnitFigures> {
    let mut units: BTreeMap<String, UnitFigures> = BTreeMap::new();
    for entry in records.register {
        let u = unit(&mut units, &entry.unit, &entry.unit_name);
        if entry.account_status != AccountStatus::Closed {
            u.accounts_in_use += 1;
        }
        let registered = entry.register_number.is_some()
            && entry.decided_at_ms.is_some_and(|ms| in_year(tz, year, ms));
        u.registered += usize::from(registered);
    }
    for case in records.cases {
        let u = unit(&mut units, &case.unit, &case.unit_name);
        let filed = case.status != CaseStatus::Withdrawn && in_year(tz, year, case.submitted_at_ms);
        match case.late {
            Some(false) if filed => u.changes_on_time += 1,
            Some(true) if filed => u.changes_late += 1,
            _ => {}
        }
    }
    for duty in records.duties {
        let u = unit(&mut units, &duty.unit, &duty.unit_name);
        if duty.kind == CLOSURE_ORDER && in_year(tz, year, duty.opened_at_ms) {
            u.closures_ordered += 1;
        }
    }
    let mut all: Vec<UnitFigures> = units.into_values().collect();
    all.sort_by(|a, b| (&a.unit_name, &a.unit).cmp(&(&b.unit_name, &b.unit)));
    all
}

/// The reasons a unit may not be rated advanced (empty: it may), in the rules' order.
pub fn reasons(scripts: &Scripts, def: &AssessmentDef, unit: &UnitFigures) -> Vec<String> {
    def.rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let count = unit.breaches(*rule);
            (count > 0).then(|| scripts.render(&reason_template(i), &context! { count }))
        })
        .collect()
}

/// The assessment sheet of `year`: one row per unit, the verdict and its reasons last.
pub fn table(scripts: &Scripts, def: &AssessmentDef, year: i32, units: &[UnitFigures]) -> Table {
    let word = |key: &str| scripts.render(&message_template(key), &context! { year });
    let headers = [
        "unit",
        "accounts_in_use",
        "registered",
        "changes_on_time",
        "changes_late",
        "closures_ordered",
        "verdict",
        "reasons",
    ]
    .map(word)
    .to_vec();
    let (yes, no) = (word("yes"), word("no"));
    let rows = units
        .iter()
        .map(|u| {
            let reasons = reasons(scripts, def, u);
            let number = |n: usize| Cell::Number(n as i64);
            vec![
                Cell::Text(u.unit_name.clone()),
                number(u.accounts_in_use),
                number(u.registered),
                number(u.changes_on_time),
                number(u.changes_late),
                number(u.closures_ordered),
                Cell::Text(if reasons.is_empty() { &yes } else { &no }.clone()),
                Cell::Text(reasons.join("；")),
            ]
        })
        .collect();
    Table {
        sheet: word("sheet"),
        headers,
        rows,
    }
}
