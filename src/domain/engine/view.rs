//! What a form shows: the prompt of the current field (with its choices and current value),
//! which fields are visible (conditions over earlier answers), the summary, and moving on to the
//! next unanswered field. Also the migration of a form started under older scripts.

use minijinja::{Value, context};

use super::state::{Answer, ConversationState, FormState, Phase};
use super::{Context, Effect, Now, StepOutcome, say};
use crate::base::scripts::{FieldDef, FieldKind, FlowDef, Scripts, tpl};

/// One step's work on a form: the scripts, the flow, the input context and what to say.
pub(super) struct Form<'a> {
    pub s: &'a Scripts,
    pub flow: &'a FlowDef,
    pub ctx: &'a Context,
    pub now: Now,
    pub st: FormState,
    pub out: Vec<String>,
    /// A command to run after this step ([`super::Effect::RunCommand`]).
    pub run: Option<String>,
}

impl<'a> Form<'a> {
    pub fn new(
        s: &'a Scripts,
        flow: &'a FlowDef,
        ctx: &'a Context,
        now: Now,
        st: FormState,
    ) -> Self {
        Form {
            s,
            flow,
            ctx,
            now,
            st,
            out: Vec::new(),
            run: None,
        }
    }

    /// Ends the step: the form stays, stamped with this message's time; one message is said
    /// (then the command to run, if any).
    pub fn finish(mut self) -> StepOutcome {
        self.st.last_active_ms = self.now.ms;
        let mut effects = Vec::new();
        if !self.out.is_empty() {
            effects.push(say(self.out.join("\n")));
        }
        effects.extend(self.run.map(Effect::RunCommand));
        StepOutcome::Next {
            state: ConversationState {
                form: Some(self.st),
            },
            effects,
        }
    }

    pub fn msg(&mut self, key: &str, vars: Value) {
        self.out.push(self.s.render(&tpl::msg(key), &vars));
    }

    pub fn current_index(&self) -> Option<usize> {
        match &self.st.phase {
            Phase::Field(id) | Phase::Other(id) => self.flow.field(id).map(|(i, _)| i),
            Phase::Confirm => None,
        }
    }

    pub fn current_field(&self) -> Option<&'a FieldDef> {
        let flow: &'a FlowDef = self.flow;
        self.current_index().map(|i| &flow.fields[i])
    }

    /// Answers as template variables (field id → value), skipped ones left out.
    /// The answers by field id, plus `today` (`YYYY-MM-DD` in the company's zone) for
    /// conditions such as `today > workdays_after(changed_on, 5)`.
    pub fn answer_values(&self) -> Value {
        let today = self.now.today.format("%Y-%m-%d").to_string();
        Value::from_pairs(
            self.st
                .answers
                .iter()
                .filter(|(_, a)| **a != Answer::Skipped)
                .map(|(k, a)| (Value::from(k), a.value()))
                .chain([(Value::from("today"), Value::from(today))]),
        )
    }

    /// Whether each field is shown, given the answers so far.
    pub fn visibility(&self) -> Vec<bool> {
        let values = if self.flow.fields.iter().any(|f| f.conditional) {
            Some(self.answer_values())
        } else {
            None
        };
        self.flow
            .fields
            .iter()
            .map(|f| match (&values, f.conditional) {
                (Some(v), true) => {
                    self.s.render(&tpl::field(&self.flow.id, &f.id, "when"), v) == "1"
                }
                _ => true,
            })
            .collect()
    }

    /// Moves to the first visible unanswered field, or to the confirmation, and prompts. A
    /// question with a single option is answered with it and said (`返回` asks it after all).
    pub fn advance(&mut self) {
        let flow: &'a FlowDef = self.flow;
        loop {
            let vis = self.visibility();
            let next = flow
                .fields
                .iter()
                .zip(vis)
                .find(|(f, shown)| *shown && self.st.answers.get(&f.id).is_none());
            match next {
                Some((f, _)) => {
                    if let Some(a) = self.only_option(f) {
                        let vars = context! {
                            label => &f.label, value => self.display(&a), kind => f.kind.name(),
                        };
                        self.msg("auto_chosen", vars);
                        self.st.answers.set(&f.id, a);
                        continue;
                    }
                    self.st.phase = Phase::Field(f.id.clone());
                }
                None => {
                    self.st.phase = Phase::Confirm;
                    self.st.revising = false;
                }
            }
            break;
        }
        self.st.strikes = 0;
        self.prompt();
    }

    /// The answer of a question with exactly one option (the user's only unit, the unit's only
    /// account, a single choice that needs no text).
    fn only_option(&self, fd: &FieldDef) -> Option<Answer> {
        match &fd.kind {
            FieldKind::Unit => match self.ctx.units.as_slice() {
                [u] => Some(Answer::Ref {
                    id: u.id.clone(),
                    name: u.name.clone(),
                }),
                _ => None,
            },
            FieldKind::Account => match self.ctx.accounts.as_slice() {
                [a] => Some(Answer::Ref {
                    id: a.id.clone(),
                    name: a.name.clone(),
                }),
                _ => None,
            },
            FieldKind::Choice { choices, other } => match choices.as_slice() {
                [c] if other.as_ref() != Some(c) => Some(Answer::Choice {
                    value: c.clone(),
                    other: None,
                }),
                _ => None,
            },
            FieldKind::Multi { choices } => match choices.as_slice() {
                [c] => Some(Answer::Multi(vec![c.clone()])),
                _ => None,
            },
            _ => None,
        }
    }

    /// Says what the current phase asks for; a question asked about the last reply is dropped.
    pub fn prompt(&mut self) {
        self.st.pending = None;
        let text = match &self.st.phase {
            Phase::Confirm => {
                let summary = self.summary();
                let vars = context! { title => &self.flow.title, summary => summary };
                self.s.render(&tpl::msg("confirm_ask"), &vars)
            }
            Phase::Other(id) => {
                let label = self.flow.field(id).map(|(_, f)| f.label.as_str());
                let text = self.s.render(
                    &tpl::field(&self.flow.id, id, "other"),
                    &context! { label => label },
                );
                self.position() + &text
            }
            Phase::Field(_) => match self.current_field() {
                Some(fd) => self.position() + &self.field_prompt(fd),
                None => String::new(),
            },
        };
        self.out.push(text);
    }

    /// `（5/16）`: the current question's place among the visible ones.
    fn position(&self) -> String {
        let Some(at) = self.current_index() else {
            return String::new();
        };
        let vis = self.visibility();
        let index = vis[..=at].iter().filter(|v| **v).count();
        let total = vis.iter().filter(|v| **v).count();
        self.s.render(
            &tpl::msg("position"),
            &context! { index => index, total => total },
        )
    }

    fn field_prompt(&self, fd: &FieldDef) -> String {
        let choices: Vec<String> = match &fd.kind {
            FieldKind::Choice { choices, .. } | FieldKind::Multi { choices } => choices.clone(),
            FieldKind::Unit => self.ctx.units.iter().map(|u| u.name.clone()).collect(),
            FieldKind::Account => self.ctx.accounts.iter().map(|a| a.name.clone()).collect(),
            _ => Vec::new(),
        };
        let vars = context! {
            label => &fd.label, optional => fd.optional, example => &fd.example,
            user => &self.ctx.user.name, answers => self.answer_values(),
        };
        let mut text = self
            .s
            .render(&tpl::field(&self.flow.id, &fd.id, "prompt"), &vars);
        if !choices.is_empty() {
            text.push('\n');
            text.push_str(
                &self
                    .s
                    .render(&tpl::msg("choice_list"), &context! { choices => choices }),
            );
        }
        let current = self
            .st
            .answers
            .get(&fd.id)
            .filter(|a| **a != Answer::Skipped);
        if let Some(a) = current {
            let value = self.display(a);
            text.push('\n');
            text.push_str(
                &self
                    .s
                    .render(&tpl::msg("current_value"), &context! { value => value }),
            );
        }
        text
    }

    pub fn display(&self, a: &Answer) -> String {
        if let Answer::Bool(b) = a {
            let key = if *b { "yes_label" } else { "no_label" };
            return self.s.render(&tpl::msg(key), &context! {});
        }
        a.display("", "")
    }

    /// Every visible field with its answer (or the scripted "not filled" text).
    pub fn summary(&self) -> String {
        let empty = self.s.render(&tpl::msg("empty_value"), &context! {});
        let items: Vec<Value> = self
            .flow
            .fields
            .iter()
            .zip(self.visibility())
            .filter(|(_, shown)| *shown)
            .map(|(f, _)| {
                let value = match self.st.answers.get(&f.id) {
                    Some(Answer::Skipped) | None => empty.clone(),
                    Some(a) => self.display(a),
                };
                context! { label => &f.label, value => value }
            })
            .collect();
        self.s.render(
            &tpl::msg("summary"),
            &context! { title => &self.flow.title, items => items },
        )
    }

    /// The scripts changed under a form in progress: keep every answer that still fits its
    /// field, say so, and go on from the first unanswered field.
    pub fn migrate(&mut self) {
        let flow = self.flow;
        self.st.answers.retain(|id, a| {
            flow.field(id)
                .is_some_and(|(_, f)| fits(&f.kind, f.optional, a))
        });
        self.st.version = self.s.version.clone();
        self.msg("script_changed", context! { title => &flow.title });
        self.advance();
    }
}

/// Whether a stored answer still suits a field of this kind.
pub(super) fn fits(kind: &FieldKind, optional: bool, a: &Answer) -> bool {
    match (kind, a) {
        (_, Answer::Skipped) => optional,
        (
            FieldKind::Text { .. } | FieldKind::Mobile | FieldKind::Email | FieldKind::Url,
            Answer::Text(_),
        ) => true,
        (FieldKind::Choice { choices, .. }, Answer::Choice { value, .. }) => {
            choices.contains(value)
        }
        (FieldKind::Multi { choices }, Answer::Multi(v)) => v.iter().all(|x| choices.contains(x)),
        (FieldKind::YesNo, Answer::Bool(_)) | (FieldKind::Date, Answer::Date(_)) => true,
        (FieldKind::Integer { .. }, Answer::Int(_)) | (FieldKind::Phone, Answer::Phone { .. }) => {
            true
        }
        (FieldKind::Member, Answer::Member { .. }) => true,
        (FieldKind::Account | FieldKind::Unit, Answer::Ref { .. }) => true,
        _ => false,
    }
}
