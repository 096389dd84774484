//! The filled 登记表 as a printable HTML page (A4, inline CSS): the flow's `[form]` rows with
//! every answer, one opinion box per approval step with the approvers' names and dates, and one
//! page per copy (`[export.form] copies`). Every value is HTML-escaped. Pure.

use std::fmt::Write;

use minijinja::Value;

use super::export::answer_text;
use super::{ApprovalStep, Case};
use crate::base::calendar::local_datetime;
use crate::base::scripts::{ExportTexts, FieldKind, FlowDef, Scripts, tpl};
use crate::domain::engine::Answer;

const STYLE: &str = r#"
@page { size: A4; margin: 15mm 18mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 11pt;
  color: #000; margin: 0; }
.copy { max-width: 174mm; margin: 0 auto 12mm; }
.copy-label { text-align: right; font-size: 10pt; }
h1 { text-align: center; font-size: 18pt; letter-spacing: 0.1em; margin: 4mm 0; }
.meta { display: flex; flex-wrap: wrap; gap: 0 6mm; font-size: 10pt; margin-bottom: 2mm; }
table.form { width: 100%; border-collapse: collapse; border: 1.5px solid #000; }
table.form > tbody > tr > td.row { padding: 0; border: 1px solid #000; }
table.cells { width: 100%; border-collapse: collapse; border-style: hidden; table-layout: fixed; }
table.cells th, table.cells td { border: 1px solid #000; padding: 2.5mm 2mm; vertical-align: middle;
  word-break: break-all; }
table.cells td { white-space: pre-line; }
table.cells th { font-weight: normal; background: #f2f2f2; width: 24mm; }
table.cells.many th { width: 16mm; font-size: 10pt; }
table.cells th.group { width: 14mm; }
td.opinion { height: 30mm; vertical-align: top; }
.decision { min-height: 10mm; }
.sign, .date { text-align: right; margin-top: 3mm; }
.notes { font-size: 9.5pt; margin-top: 3mm; white-space: pre-line; }
@media print {
  .copy { margin: 0; max-width: none; break-after: page; page-break-after: always; }
  .copy:last-child { break-after: auto; page-break-after: auto; }
  table.cells th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// `text` with `& < > " '` escaped, safe in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A choice as on paper: every choice with a box, the chosen one ticked, "other" with its text.
fn choice_boxes(choices: &[String], other: Option<&String>, answer: Option<&Answer>) -> String {
    let (chosen, text) = match answer {
        Some(Answer::Choice { value, other }) => (Some(value), other.as_ref()),
        _ => (None, None),
    };
    let boxes: Vec<String> = choices
        .iter()
        .map(|c| {
            let tick = if Some(c) == chosen { "☑" } else { "☐" };
            let extra = match (Some(c) == other, text) {
                (true, Some(t)) if Some(c) == chosen => format!("（{}）", escape(t)),
                (true, _) => "（　　）".to_owned(),
                _ => String::new(),
            };
            format!("{tick} {}{extra}", escape(c))
        })
        .collect();
    boxes.join("　")
}

fn value_html(scripts: &Scripts, flow: &FlowDef, case: &Case, id: &str) -> String {
    let answer = case.answers.get(id);
    match flow.field(id).map(|(_, f)| &f.kind) {
        Some(FieldKind::Choice { choices, other }) => choice_boxes(choices, other.as_ref(), answer),
        _ => escape(&answer.map(|a| answer_text(scripts, a)).unwrap_or_default()),
    }
}

fn date_text(scripts: &Scripts, at_ms: Option<i64>) -> String {
    let date = at_ms.map(|ms| local_datetime(scripts.time_zone, ms).date());
    // Undecided: room to write the date by hand.
    let blank = |width: usize| "　".repeat(width);
    let part = |f: &str, w| date.map_or_else(|| blank(w), |d| d.format(f).to_string());
    let (year, month, day) = (part("%Y", 3), part("%-m", 2), part("%-d", 2));
    let ctx = minijinja::context! { year, month, day };
    scripts.render_untrimmed(&tpl::export("date"), &ctx)
}

/// One opinion box: the decision (with a rejection's reason), who signed, the seal, the date.
fn opinion(scripts: &Scripts, x: &ExportTexts, step: Option<&ApprovalStep>) -> String {
    let decisions = step.map(|s| s.decisions.as_slice()).unwrap_or_default();
    let word = |approve: bool| {
        let key = if approve {
            "decision_approve"
        } else {
            "decision_reject"
        };
        scripts.render(&tpl::approval(key), &Value::UNDEFINED)
    };
    let decision = match decisions.last() {
        None => escape(&x.form.undecided),
        Some(d) => match &d.reason {
            Some(r) if !d.approve => format!("{}：{}", escape(&word(false)), escape(r)),
            _ => escape(&word(d.approve)),
        },
    };
    let names: Vec<&str> = decisions.iter().map(|d| d.by_name.as_str()).collect();
    let at = decisions.iter().map(|d| d.at_ms).max();
    format!(
        "<div class=\"decision\">{decision}</div>\
         <div class=\"sign\">{}：<span class=\"name\">{}</span>　{}</div>\
         <div class=\"date\">{}</div>",
        escape(&x.form.signature),
        escape(&names.join("、")),
        escape(&x.form.seal),
        escape(&date_text(scripts, at)),
    )
}

fn row_html(out: &mut String, group: Option<&str>, cells: &[(String, String)]) {
    // Three or more fields side by side: narrower labels, so the values keep room on A4.
    let class = if cells.len() >= 3 {
        "cells many"
    } else {
        "cells"
    };
    let _ = write!(out, "<tr><td class=\"row\"><table class=\"{class}\"><tr>");
    if let Some(g) = group {
        let _ = write!(out, "<th class=\"group\">{}</th>", escape(g));
    }
    for (label, value) in cells {
        let _ = write!(out, "<th>{label}</th><td>{value}</td>");
    }
    out.push_str("</tr></table></td></tr>\n");
}

/// One copy of the form (`label` names who keeps it).
fn copy(scripts: &Scripts, x: &ExportTexts, flow: &FlowDef, case: &Case, label: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<section class=\"copy\">\n<div class=\"copy-label\">{}</div>\n<h1>{}</h1>\n",
        escape(label),
        escape(&flow.form.title)
    );
    let submitted = local_datetime(scripts.time_zone, case.submitted_at_ms);
    let mut meta = vec![(&x.case_number, case.number.clone())];
    if let Some(n) = &case.register_number {
        meta.push((&x.register_number, n.clone()));
    }
    meta.push((&x.applicant, case.applicant_name.clone()));
    meta.push((
        &x.submitted_at,
        submitted.format("%Y-%m-%d %H:%M").to_string(),
    ));
    out.push_str("<div class=\"meta\">");
    for (k, v) in meta {
        let _ = write!(out, "<span>{}：{}</span>", escape(k), escape(&v));
    }
    out.push_str("</div>\n<table class=\"form\"><tbody>\n");
    for row in &flow.form.rows {
        let cells: Vec<(String, String)> = row
            .fields
            .iter()
            .filter_map(|id| flow.field(id))
            .map(|(_, f)| (escape(&f.label), value_html(scripts, flow, case, &f.id)))
            .collect();
        row_html(&mut out, row.group.as_deref(), &cells);
    }
    let steps = flow.approval.len().max(case.chain.len());
    for i in 0..steps {
        let step = case.chain.get(i);
        let heading = flow.form.opinions.get(i).cloned().or_else(|| {
            let label = flow.approval.get(i).map(|s| s.label.clone());
            label.or_else(|| step.map(|s| s.label.clone()))
        });
        out.push_str("<tr><td class=\"row\"><table class=\"cells\"><tr>");
        let _ = writeln!(
            out,
            "<th class=\"group\">{}</th><td class=\"opinion\">{}</td></tr></table></td></tr>",
            escape(&heading.unwrap_or_default()),
            opinion(scripts, x, step)
        );
    }
    out.push_str("</tbody></table>\n");
    if let Some(notes) = &flow.form.notes {
        let _ = write!(
            out,
            "<div class=\"notes\">{}：\n{}</div>\n",
            escape(&x.form.notes),
            escape(notes)
        );
    }
    out.push_str("</section>\n");
    out
}

/// One confirmed change of a register entry, for its change record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub at_ms: i64,
    /// The change report's number.
    pub report: String,
    /// Who confirmed it.
    pub confirmed_by: String,
    /// `label：old → new`.
    pub changes: Vec<String>,
}

/// The change record printed under a register entry: one line per confirmed change, oldest
/// first; nothing when there is none or bot.toml names no heading.
fn change_record(scripts: &Scripts, x: &ExportTexts, changes: &[ChangeRecord]) -> String {
    let (Some(heading), false) = (&x.form.changes, changes.is_empty()) else {
        return String::new();
    };
    let mut out = format!(
        "<section class=\"changes\">\n<h2>{}</h2>\n<ul>\n",
        escape(heading)
    );
    for c in changes {
        let date = local_datetime(scripts.time_zone, c.at_ms)
            .format("%Y-%m-%d")
            .to_string();
        let ctx = minijinja::context! {
            date, report => &c.report, name => &c.confirmed_by, changes => c.changes.join("；"),
        };
        let line = scripts.render(&tpl::export("change"), &ctx);
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    out.push_str("</ul>\n</section>\n");
    out
}

/// The whole page: one copy per `[export.form] copies` label, each on its own sheet of paper,
/// then the entry's change record (`changes`: empty for a filing printed as signed).
pub fn render(
    scripts: &Scripts,
    x: &ExportTexts,
    case: &Case,
    changes: &[ChangeRecord],
) -> anyhow::Result<String> {
    let Some(flow) = scripts.flows.get(&case.flow) else {
        anyhow::bail!(
            "case {}: flow `{}` is not in the bot-scripts",
            case.number,
            case.flow
        );
    };
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{} {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&flow.form.title),
        escape(&case.number)
    );
    for label in &x.form.copies {
        page.push_str(&copy(scripts, x, flow, case, label));
    }
    page.push_str(&change_record(scripts, x, changes));
    page.push_str("</body>\n</html>\n");
    Ok(page)
}
