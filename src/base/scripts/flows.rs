//! Validation of `flows/*.toml`: field ids and labels, types and their options, `when`
//! conditions (only earlier fields), templates, and approver roles.

use std::collections::HashSet;

use toml::Spanned;

use super::compile::{BUILTIN_ROLES, CONDITION_BUILTINS, Compiler};
use super::model::{RawField, RawFieldType, RawFlow};
use super::{ApprovalStepDef, Assignment, DeadlineDef, FieldDef, FieldKind, FlowDef, tpl};
use crate::base::diagnostics::Source;
use crate::base::normalize::key;
use crate::base::scripts::SignMode;

impl Compiler {
    pub(super) fn flow(
        &mut self,
        src: &Source,
        id: String,
        raw: RawFlow,
        roles: Option<&HashSet<String>>,
    ) -> Option<FlowDef> {
        let before = self.d.errors.len();
        let approval = self.approval_chain(src, &raw, roles);
        let (deadline, register_updates) = self.reporting(src, &id, &raw);
        if raw.fields.is_empty() {
            self.d
                .error(src.at(raw.title.span(), "a flow needs at least one field"));
        }
        self.template(src, tpl::flow(&id, "start"), &raw.start);
        self.template(src, tpl::flow(&id, "submitted"), &raw.submitted);
        self.flow_approvals(src, &id, &raw);
        match (&raw.duplicate, raw.registers_account) {
            (Some(t), _) => self.template(src, tpl::flow(&id, "duplicate"), t),
            (None, true) => self.d.error(src.at(
                raw.title.span(),
                "registers_account needs `duplicate` (said when the account is already registered or pending)",
            )),
            (None, false) => {}
        }
        match (&raw.no_unit, raw.requires_unit) {
            (Some(t), _) => self.template(src, tpl::flow(&id, "no_unit"), t),
            (None, true) => self
                .d
                .error(src.at(raw.title.span(), "requires_unit needs `no_unit`")),
            (None, false) => {}
        }
        let mut fields: Vec<FieldDef> = Vec::new();
        let mut labels = HashSet::new();
        for f in &raw.fields {
            let f = f.get_ref();
            let fid = f.id.get_ref();
            let valid_id = !fid.is_empty()
                && fid
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                && !fid.starts_with(|ch: char| ch.is_ascii_digit());
            if !valid_id {
                self.d.error(src.at(
                    f.id.span(),
                    format!("field id `{fid}` must be lower_snake_case"),
                ));
            }
            if fields.iter().any(|x| &x.id == fid) {
                self.d
                    .error(src.at(f.id.span(), format!("duplicate field id `{fid}`")));
            }
            if !labels.insert(key(f.label.get_ref())) {
                let msg = format!("duplicate field label `{}`", f.label.get_ref());
                self.d.error(src.at(f.label.span(), msg));
            }
            if let Some(when) = &f.when {
                self.condition(src, &id, f, when, &fields);
            }
            let kind = self.kind(src, f);
            self.template(src, tpl::field(&id, fid, "prompt"), &f.prompt);
            if let Some(inv) = &f.invalid {
                self.template(src, tpl::field(&id, fid, "invalid"), inv);
            }
            if let Some(op) = &f.other_prompt {
                self.template(src, tpl::field(&id, fid, "other"), op);
            }
            let files = f.files.as_ref().is_some_and(|v| *v.get_ref());
            if let Some(v) = f.files.as_ref().filter(|_| files)
                && !matches!(kind, FieldKind::Text { .. } | FieldKind::Url)
            {
                let msg = format!("field `{fid}`: files = true is only for text and url fields");
                self.d.error(src.at(v.span(), msg));
            }
            fields.push(FieldDef {
                id: fid.clone(),
                label: f.label.get_ref().clone(),
                kind,
                optional: f.optional,
                conditional: f.when.is_some(),
                custom_invalid: f.invalid.is_some(),
                hint: f.hint.get_ref().clone(),
                example: f.example.get_ref().clone(),
                files,
            });
        }
        let subjects = self.subjects(src, &raw, &fields);
        if raw.closes_account && !fields.iter().any(|f| f.id == "account") {
            self.d.error(src.at(
                raw.title.span(),
                "closes_account needs a field `account` (the registered account to close)",
            ));
        }
        let form = self.flow_form(
            src,
            raw.form.as_ref(),
            raw.title.get_ref(),
            &fields,
            approval.len(),
        );
        (self.d.errors.len() == before).then(|| FlowDef {
            id,
            title: raw.title.into_inner(),
            case_prefix: raw.case_prefix.into_inner(),
            requires_unit: raw.requires_unit,
            approval,
            card_fields: raw
                .card_fields
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            subjects,
            registers_account: raw.registers_account,
            closes_account: raw.closes_account,
            refusable: raw.refusable,
            campaign: false,
            deadline,
            register_updates,
            fields,
            form,
        })
    }

    /// Each step names a known role or userids, a valid mode; card fields name real fields.
    fn approval_chain(
        &mut self,
        src: &Source,
        raw: &RawFlow,
        roles: Option<&HashSet<String>>,
    ) -> Vec<ApprovalStepDef> {
        let mut chain = Vec::new();
        for step in &raw.approval {
            let s = step.get_ref();
            let assignment = match (&s.role, s.users.is_empty()) {
                (Some(role), true) => {
                    let name = role.get_ref();
                    let known = BUILTIN_ROLES.contains(&name.as_str())
                        || roles.is_none_or(|r| r.contains(name));
                    if !known {
                        self.d
                            .error(src.at(role.span(), format!("role `{name}` does not exist")));
                    }
                    Assignment::Role(name.clone())
                }
                (None, false) => Assignment::Users(s.users.clone()),
                _ => {
                    let msg = "an approval step needs either `role` or `users`";
                    self.d.error(src.at(step.span(), msg));
                    continue;
                }
            };
            let mode = match s.mode.as_ref().map(|m| m.get_ref().as_str()) {
                None | Some("any") => SignMode::Any,
                Some("all") => SignMode::All,
                Some(other) => {
                    let span = s.mode.as_ref().map_or(step.span(), Spanned::span);
                    let msg = format!("mode must be `any` (或签) or `all` (会签), not `{other}`");
                    self.d.error(src.at(span, msg));
                    SignMode::Any
                }
            };
            chain.push(ApprovalStepDef {
                label: s.label.get_ref().clone(),
                assignment,
                mode,
                deadline_working_days: s.deadline_working_days,
            });
        }
        for field in &raw.card_fields {
            if !raw
                .fields
                .iter()
                .any(|f| f.get_ref().id.get_ref() == field.get_ref())
            {
                let msg = format!(
                    "card field `{}` is not a field of this flow",
                    field.get_ref()
                );
                self.d.error(src.at(field.span(), msg));
            }
        }
        chain
    }

    /// `subjects` name member fields of this flow.
    fn subjects(&mut self, src: &Source, raw: &RawFlow, fields: &[FieldDef]) -> Vec<String> {
        let mut subjects = Vec::new();
        for id in &raw.subjects {
            match fields.iter().find(|f| &f.id == id.get_ref()) {
                Some(f) if f.kind == FieldKind::Member => subjects.push(f.id.clone()),
                Some(_) => {
                    let msg = format!("subject `{}` is not a member field", id.get_ref());
                    self.d.error(src.at(id.span(), msg));
                }
                None => {
                    let msg = format!("subject `{}` is not a field of this flow", id.get_ref());
                    self.d.error(src.at(id.span(), msg));
                }
            }
        }
        subjects
    }

    /// `[deadline]` names a date field; `[register_updates]` names this flow's fields.
    fn reporting(
        &mut self,
        src: &Source,
        flow: &str,
        raw: &RawFlow,
    ) -> (Option<DeadlineDef>, Vec<(String, String)>) {
        let is_field = |id: &str| raw.fields.iter().any(|f| f.get_ref().id.get_ref() == id);
        let deadline = raw.deadline.as_ref().map(|d| {
            let d = d.get_ref();
            let date_field = raw.fields.iter().any(|f| {
                f.get_ref().id.get_ref() == d.from.get_ref()
                    && *f.get_ref().kind.get_ref() == RawFieldType::Date
            });
            if !date_field {
                let msg = format!(
                    "deadline.from `{}` is not a date field of this flow",
                    d.from.get_ref()
                );
                self.d.error(src.at(d.from.span(), msg));
            }
            self.template(src, tpl::flow(flow, "deadline_note"), &d.note);
            DeadlineDef {
                from: d.from.get_ref().clone(),
                working_days: d.working_days,
            }
        });
        let mut updates = Vec::new();
        for (from, to) in &raw.register_updates {
            if !is_field(from) {
                let msg = format!("register_updates: `{from}` is not a field of this flow");
                self.d.error(src.at(to.span(), msg));
            }
            updates.push((from.clone(), to.get_ref().clone()));
        }
        (deadline, updates)
    }

    /// A `when` expression must compile and name only fields that come before this one.
    fn condition(
        &mut self,
        src: &Source,
        flow: &str,
        f: &RawField,
        when: &Spanned<String>,
        earlier: &[FieldDef],
    ) {
        let names = match self.env.compile_expression(when.get_ref()) {
            Ok(expr) => expr.undeclared_variables(false),
            Err(e) => {
                let msg = format!(
                    "condition does not compile: {}",
                    e.detail().unwrap_or("syntax error")
                );
                self.d.error(src.at(when.span(), msg));
                return;
            }
        };
        let mut names: Vec<_> = names.into_iter().collect();
        names.sort();
        for n in names {
            if !earlier.iter().any(|x| x.id == n) && !CONDITION_BUILTINS.contains(&n.as_str()) {
                let later = f.id.get_ref() == &n;
                let msg = if later {
                    format!("condition names field `{n}` itself")
                } else {
                    format!("condition names `{n}`, which is not an earlier field")
                };
                self.d.error(src.at(when.span(), msg));
            }
        }
        let body = format!("{{% if {} %}}1{{% endif %}}", when.get_ref());
        let name = tpl::field(flow, f.id.get_ref(), "when");
        self.template(src, name, &Spanned::new(when.span(), body));
    }

    fn kind(&mut self, src: &Source, f: &RawField) -> FieldKind {
        let t = *f.kind.get_ref();
        let is_choice = matches!(t, RawFieldType::Choice | RawFieldType::Multi);
        let choices = match (&f.choices, is_choice) {
            (Some(c), true) if c.get_ref().is_empty() => {
                self.d.error(src.at(c.span(), "the choice list is empty"));
                Vec::new()
            }
            (Some(c), true) => c.get_ref().clone(),
            (None, true) => {
                self.d
                    .error(src.at(f.kind.span(), "a choice field needs `choices`"));
                Vec::new()
            }
            (Some(c), false) => {
                self.d.error(src.at(
                    c.span(),
                    "`choices` only applies to choice and multi fields",
                ));
                Vec::new()
            }
            (None, false) => Vec::new(),
        };
        let other = f.other_choice.as_ref().map(|o| o.get_ref().clone());
        if let Some(o) = &f.other_choice {
            if t != RawFieldType::Choice {
                self.d
                    .error(src.at(o.span(), "`other_choice` only applies to choice fields"));
            } else if !choices.contains(o.get_ref()) {
                self.d.error(src.at(
                    o.span(),
                    format!("`{}` is not one of the choices", o.get_ref()),
                ));
            } else if f.other_prompt.is_none() {
                self.d
                    .error(src.at(o.span(), "`other_choice` needs `other_prompt`"));
            }
        }
        let misplaced = |v: Option<std::ops::Range<usize>>, ok: bool, what: &str| {
            (!ok).then_some(()).and(v).map(|s| (s, what.to_owned()))
        };
        for (span, what) in [
            misplaced(
                f.min_len.as_ref().map(|v| v.span()),
                t == RawFieldType::Text,
                "min_len",
            ),
            misplaced(
                f.max_len.as_ref().map(|v| v.span()),
                t == RawFieldType::Text,
                "max_len",
            ),
            misplaced(
                f.min.as_ref().map(|v| v.span()),
                t == RawFieldType::Integer,
                "min",
            ),
            misplaced(
                f.max.as_ref().map(|v| v.span()),
                t == RawFieldType::Integer,
                "max",
            ),
        ]
        .into_iter()
        .flatten()
        {
            self.d
                .error(src.at(span, format!("`{what}` does not apply to this field type")));
        }
        let (min_len, max_len) = (
            f.min_len.as_ref().map_or(1, |v| *v.get_ref()),
            f.max_len.as_ref().map_or(500, |v| *v.get_ref()),
        );
        let (min, max) = (
            f.min.as_ref().map_or(i64::MIN, |v| *v.get_ref()),
            f.max.as_ref().map_or(i64::MAX, |v| *v.get_ref()),
        );
        if min_len > max_len || min > max {
            self.d
                .error(src.at(f.kind.span(), "the lower bound is above the upper bound"));
        }
        match t {
            RawFieldType::Text => FieldKind::Text { min_len, max_len },
            RawFieldType::Choice => FieldKind::Choice { choices, other },
            RawFieldType::Multi => FieldKind::Multi { choices },
            RawFieldType::Yesno => FieldKind::YesNo,
            RawFieldType::Date => FieldKind::Date,
            RawFieldType::Mobile => FieldKind::Mobile,
            RawFieldType::Phone => FieldKind::Phone,
            RawFieldType::Email => FieldKind::Email,
            RawFieldType::Url => FieldKind::Url,
            RawFieldType::Integer => FieldKind::Integer { min, max },
            RawFieldType::Member => FieldKind::Member,
            RawFieldType::Account => FieldKind::Account,
            RawFieldType::Unit => FieldKind::Unit,
        }
    }
}
