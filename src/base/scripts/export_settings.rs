//! `bot.toml` `[export]` (the export's column headers, the printed form's words) and a flow's
//! `[form]` (the printed form's layout), checked into [`ExportTexts`] and [`FormLayout`].

use std::collections::{BTreeMap, HashSet};

use toml::Spanned;

use super::compile::Compiler;
use super::model::{RawExport, RawFlowForm};
use super::{FieldDef, FlowDef, tpl};
use crate::base::diagnostics::Source;

/// The compiled `[export]`: fixed column headers, register columns, the printed form's words.
/// `approver`, `approved_on` and the form's `date` are templates ([`tpl::export`]).
#[derive(Debug, Clone)]
pub struct ExportTexts {
    pub register_sheet: String,
    pub cases_sheet: String,
    pub register_number: String,
    pub case_number: String,
    pub flow: String,
    pub unit: String,
    pub applicant: String,
    pub status: String,
    pub current_step: String,
    pub submitted_at: String,
    pub decided_at: String,
    pub registered_at: String,
    /// Field ids of a registration shown in the register, in column order.
    pub register_fields: Vec<String>,
    pub form: PrintTexts,
}

/// The words of the printed form.
#[derive(Debug, Clone)]
pub struct PrintTexts {
    pub copies: Vec<String>,
    pub signature: String,
    pub seal: String,
    pub undecided: String,
    pub notes: String,
    /// The heading of a register entry's change record, if bot.toml names one (its lines are
    /// the template `export.change`).
    pub changes: Option<String>,
}

/// A flow's printed form, like the paper form.
#[derive(Debug, Clone, Default)]
pub struct FormLayout {
    pub title: String,
    /// Every field of the flow in exactly one row (unplaced fields get a row of their own).
    pub rows: Vec<FormRow>,
    /// One heading per approval step; empty: the steps' labels.
    pub opinions: Vec<String>,
    pub notes: Option<String>,
}

/// One row of the printed form.
#[derive(Debug, Clone, Default)]
pub struct FormRow {
    pub group: Option<String>,
    pub fields: Vec<String>,
}

fn text(s: &Spanned<String>) -> String {
    s.get_ref().trim().to_owned()
}

impl Compiler {
    /// `[export]`; register fields must exist in every flow that registers accounts.
    pub(super) fn export(
        &mut self,
        src: &Source,
        raw: &RawExport,
        flows: &BTreeMap<String, FlowDef>,
    ) -> ExportTexts {
        self.template(src, tpl::export("approver"), &raw.approver);
        self.template(src, tpl::export("approved_on"), &raw.approved_on);
        self.template(src, tpl::export("date"), &raw.form.date);
        match (&raw.form.changes, &raw.form.change) {
            (Some(_), Some(change)) => self.template(src, tpl::export("change"), change),
            (None, None) => {}
            (Some(t), None) | (None, Some(t)) => {
                let msg = "[export.form] `changes` and `change` go together";
                self.d.error(src.at(t.span(), msg));
            }
        }
        for flow in flows.values().filter(|f| f.registers_account) {
            for id in raw.register_fields.get_ref() {
                if flow.field(id).is_none() {
                    let msg = format!("register field `{id}` is not a field of flow `{}`", flow.id);
                    self.d.error(src.at(raw.register_fields.span(), msg));
                }
            }
        }
        if raw.form.copies.get_ref().is_empty() {
            let msg = "the printed form needs at least one copy";
            self.d.error(src.at(raw.form.copies.span(), msg));
        }
        let f = &raw.form;
        ExportTexts {
            register_sheet: text(&raw.register_sheet),
            cases_sheet: text(&raw.cases_sheet),
            register_number: text(&raw.register_number),
            case_number: text(&raw.case_number),
            flow: text(&raw.flow),
            unit: text(&raw.unit),
            applicant: text(&raw.applicant),
            status: text(&raw.status),
            current_step: text(&raw.current_step),
            submitted_at: text(&raw.submitted_at),
            decided_at: text(&raw.decided_at),
            registered_at: text(&raw.registered_at),
            register_fields: raw.register_fields.get_ref().clone(),
            form: PrintTexts {
                copies: f.copies.get_ref().clone(),
                signature: text(&f.signature),
                seal: text(&f.seal),
                undecided: text(&f.undecided),
                notes: text(&f.notes),
                changes: f.changes.as_ref().map(text),
            },
        }
    }

    /// A flow's `[form]`: rows name the flow's fields, each at most once; one opinion heading
    /// per approval step.
    pub(super) fn flow_form(
        &mut self,
        src: &Source,
        raw: Option<&RawFlowForm>,
        title: &str,
        fields: &[FieldDef],
        steps: usize,
    ) -> FormLayout {
        let Some(raw) = raw else {
            let rows = fields.iter().map(|f| FormRow {
                group: None,
                fields: vec![f.id.clone()],
            });
            return FormLayout {
                title: title.to_owned(),
                rows: rows.collect(),
                ..FormLayout::default()
            };
        };
        let mut placed = HashSet::new();
        let mut rows = Vec::new();
        for row in &raw.rows {
            for id in row.fields.get_ref() {
                if !fields.iter().any(|f| &f.id == id) {
                    let msg = format!("form row: `{id}` is not a field of this flow");
                    self.d.error(src.at(row.fields.span(), msg));
                } else if !placed.insert(id.clone()) {
                    let msg = format!("form row: field `{id}` is placed twice");
                    self.d.error(src.at(row.fields.span(), msg));
                }
            }
            rows.push(FormRow {
                group: row.group.clone(),
                fields: row.fields.get_ref().clone(),
            });
        }
        for f in fields.iter().filter(|f| !placed.contains(&f.id)) {
            rows.push(FormRow {
                group: None,
                fields: vec![f.id.clone()],
            });
        }
        let opinions = raw.opinions.as_ref().map_or_else(Vec::new, |o| {
            if o.get_ref().len() != steps {
                let msg = format!(
                    "form opinions: {} headings for {steps} approval steps",
                    o.get_ref().len()
                );
                self.d.error(src.at(o.span(), msg));
            }
            o.get_ref().clone()
        });
        FormLayout {
            title: text(&raw.title),
            rows,
            opinions,
            notes: raw.notes.as_ref().map(text),
        }
    }
}
