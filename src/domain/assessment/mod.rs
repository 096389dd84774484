//! The yearly assessment of units (policy 4.1): per unit, the accounts in use, the accounts
//! registered in the year, the change reports filed in the year on time and late, the closures
//! the department ordered in the year and, when those processes run, the year's annual review
//! results, incidents with their median times, and repost coverage ([`sections`]); then the
//! verdict "可评先进" by the rules of bot.toml `[assessment]`, with the reasons when a unit may
//! not be rated advanced ([`sheet`]).
//!
//! Pure: the records are inputs (register entries, every case, the duties, and the optional
//! processes' records), the year is taken in the company's time zone.

pub mod sections;
pub mod sheet;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::Datelike;
use chrono_tz::Tz;

use crate::base::calendar::local_datetime;
use crate::base::scripts::CLOSURE_ORDER;
use crate::base::scripts::assessment::Rule;
use crate::domain::annual::results::AccountResult;
use crate::domain::incidents::Incident;
use crate::domain::records::{AccountStatus, Case, CaseStatus};
use crate::domain::reminders::duty::Duty;
use crate::domain::reposts::Task;
pub use sections::{AnnualFigures, IncidentFigures, RepostFigures};
pub use sheet::{reasons, table};

/// The records an assessment reads.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// The register: approved registrations, one per account.
    pub register: &'a [Case],
    /// Every case filed.
    pub cases: &'a [Case],
    /// Every duty (change-report duties and closure orders).
    pub duties: &'a [Duty],
    /// The year's annual review results; `None` (columns left out) without a campaign.
    pub annual: Option<&'a [AccountResult]>,
    /// Every incident; `None` (columns left out) without `[incidents]`.
    pub incidents: Option<&'a [Incident]>,
    /// Every repost task; `None` (columns left out) without `[reposts]`.
    pub reposts: Option<&'a [Task]>,
}

/// Which optional columns the sheet has (the records that were given).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub annual: bool,
    pub incidents: bool,
    pub reposts: bool,
}

/// Every unit's figures, and the columns they fill.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub columns: Columns,
    /// By unit name.
    pub units: Vec<UnitFigures>,
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
    /// Zero when the column is left out ([`Columns`]).
    pub annual: AnnualFigures,
    pub incidents: IncidentFigures,
    pub reposts: RepostFigures,
}

impl UnitFigures {
    /// How many times the unit broke `rule` in the year (0: kept it). A coverage under the
    /// threshold is one breach; a unit no repost task reached keeps it.
    pub fn breaches(&self, rule: Rule) -> usize {
        match rule {
            Rule::NoLateChangeReport => self.changes_late,
            Rule::NoClosureOrdered => self.closures_ordered,
            Rule::NoFailedAnnualReview => self.annual.failed + self.annual.not_filed,
            Rule::MinRepostCoverage { percent } => self
                .reposts
                .percent()
                .is_some_and(|p| p < percent as usize)
                .into(),
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
pub fn figures(year: i32, tz: Tz, records: Records) -> Figures {
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
    if let Some(results) = records.annual {
        for r in results {
            unit(&mut units, &r.unit, &r.unit_name)
                .annual
                .count(r.outcome);
        }
    }
    if let Some(incidents) = records.incidents {
        let mut times: BTreeMap<String, sections::Times> = BTreeMap::new();
        for i in incidents
            .iter()
            .filter(|i| in_year(tz, year, i.reported_ms))
        {
            let Some(id) = &i.unit else { continue };
            unit(&mut units, id, &i.unit_name);
            times.entry(id.clone()).or_default().add(i);
        }
        for (id, t) in times {
            unit(&mut units, &id, "").incidents = t.figures();
        }
    }
    if let Some(tasks) = records.reposts {
        let of_year: Vec<Task> = tasks
            .iter()
            .filter(|t| in_year(tz, year, t.created_at_ms))
            .cloned()
            .collect();
        for (id, tally) in crate::domain::reposts::coverage::by_unit(&of_year) {
            unit(&mut units, &id, &tally.label).reposts = RepostFigures::of(&tally);
        }
    }
    let mut all: Vec<UnitFigures> = units.into_values().collect();
    all.sort_by(|a, b| (&a.unit_name, &a.unit).cmp(&(&b.unit_name, &b.unit)));
    Figures {
        columns: Columns {
            annual: records.annual.is_some(),
            incidents: records.incidents.is_some(),
            reposts: records.reposts.is_some(),
        },
        units: all,
    }
}
