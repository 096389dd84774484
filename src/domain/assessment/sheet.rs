//! The assessment sheet: one row per unit with the figures of [`super::figures`], the optional
//! columns only when their records were given, then the verdict "可评先进" and its reasons, in
//! the words of `[assessment.messages]` and `[[assessment.rule]]`.

use minijinja::context;

use super::{Figures, UnitFigures};
use crate::base::scripts::Scripts;
use crate::base::scripts::assessment::{AssessmentDef, Rule, message_template, reason_template};
use crate::domain::records::export::{Cell, Table};

/// The reasons a unit may not be rated advanced (empty: it may), in the rules' order. Each
/// reason is given `count` (the breaches), `percent` (the unit's repost coverage, if any) and
/// `min` (the rule's threshold, if any).
pub fn reasons(scripts: &Scripts, def: &AssessmentDef, unit: &UnitFigures) -> Vec<String> {
    def.rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let count = unit.breaches(*rule);
            let min = match rule {
                Rule::MinRepostCoverage { percent } => Some(*percent),
                _ => None,
            };
            let percent = unit.reposts.percent();
            (count > 0)
                .then(|| scripts.render(&reason_template(i), &context! { count, percent, min }))
        })
        .collect()
}

/// The header keys of the sheet's columns, in order.
fn header_keys(figures: &Figures) -> Vec<&'static str> {
    let c = figures.columns;
    let mut keys = vec![
        "unit",
        "accounts_in_use",
        "registered",
        "changes_on_time",
        "changes_late",
        "closures_ordered",
    ];
    if c.annual {
        keys.extend([
            "annual_filed",
            "annual_passed",
            "annual_rectifying",
            "annual_failed",
            "annual_not_filed",
        ]);
    }
    if c.incidents {
        keys.extend(["incidents", "incident_ack", "incident_close"]);
    }
    if c.reposts {
        keys.extend(["reposts_due", "reposts_done", "repost_coverage"]);
    }
    keys.extend(["verdict", "reasons"]);
    keys
}

/// A count's cell.
fn number(n: usize) -> Cell {
    Cell::Number(n as i64)
}

/// An optional figure's cell: empty when there is none.
fn maybe(n: Option<i64>) -> Cell {
    n.map_or_else(|| Cell::Text(String::new()), Cell::Number)
}

/// The assessment sheet of `year`: one row per unit, the verdict and its reasons last.
pub fn table(scripts: &Scripts, def: &AssessmentDef, year: i32, figures: &Figures) -> Table {
    let word = |key: &str| scripts.render(&message_template(key), &context! { year });
    let headers = header_keys(figures).into_iter().map(word).collect();
    let (yes, no) = (word("yes"), word("no"));
    let c = figures.columns;
    let rows = figures
        .units
        .iter()
        .map(|u| {
            let reasons = reasons(scripts, def, u);
            let mut row = vec![
                Cell::Text(u.unit_name.clone()),
                number(u.accounts_in_use),
                number(u.registered),
                number(u.changes_on_time),
                number(u.changes_late),
                number(u.closures_ordered),
            ];
            if c.annual {
                let a = &u.annual;
                row.extend([a.filed, a.passed, a.rectifying, a.failed, a.not_filed].map(number));
            }
            if c.incidents {
                let i = &u.incidents;
                row.extend([
                    number(i.reported),
                    maybe(i.ack_minutes),
                    maybe(i.close_minutes),
                ]);
            }
            if c.reposts {
                let r = &u.reposts;
                let percent = r.percent().map(|p| format!("{p}%")).unwrap_or_default();
                row.extend([number(r.due), number(r.done), Cell::Text(percent)]);
            }
            row.push(Cell::Text(
                if reasons.is_empty() { &yes } else { &no }.clone(),
            ));
            row.push(Cell::Text(reasons.join("；")));
            row
        })
        .collect();
    Table {
        sheet: word("sheet"),
        headers,
        rows,
    }
}
