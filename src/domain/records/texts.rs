//! The words of one case: `[approvals]` messages of bot.toml rendered with the case's values
//! (title, number, applicant, unit, round, step, status, what changed). A flow may say some of
//! them its own way in its own `[approvals]` table (e.g. 可以发布 for 同意).

use std::collections::HashMap;

use minijinja::Value;

use crate::base::scripts::{FlowDef, Scripts, tpl};
use crate::domain::engine::Answer;
use crate::domain::records::{Case, CaseStatus};

/// The texts of one case, rendered from `[approvals]` with the case's values.
#[derive(Clone)]
pub struct Texts<'a> {
    scripts: &'a Scripts,
    flow: String,
    values: HashMap<&'static str, Value>,
}

impl<'a> Texts<'a> {
    pub fn new(scripts: &'a Scripts, flow: &FlowDef, case: &Case) -> Self {
        let mut values = HashMap::new();
        values.insert("title", Value::from(flow.title.clone()));
        values.insert("number", Value::from(case.number.clone()));
        values.insert("applicant", Value::from(case.applicant_name.clone()));
        values.insert("unit", Value::from(case.unit_name.clone()));
        values.insert("round", Value::from(case.round));
        values.insert("changes", Value::from(case.last_changes.join("；")));
        if let Some(step) = case.chain.get(case.current_step) {
            values.insert("step", Value::from(step.label.clone()));
        }
        if case.register_number.is_some() {
            values.insert(
                "account_status",
                Value::from(case.account_status.text(scripts)),
            );
        }
        let mut texts = Self {
            scripts,
            flow: flow.id.clone(),
            values,
        };
        // The case's status as people read it (it may name the step, so it comes last).
        let status = texts.status(case.status);
        texts.set("status", status);
        texts
    }

    /// Adds or replaces a value.
    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.values.insert(key, value.into());
        self
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        self.values.insert(key, value.into());
    }

    /// Renders the `[approvals]` message `key`: the flow's own if it has one.
    pub fn say(&self, key: &str) -> String {
        let ctx: std::collections::BTreeMap<&str, Value> =
            self.values.iter().map(|(k, v)| (*k, v.clone())).collect();
        let ctx = Value::from(ctx);
        let own = tpl::flow_approval(&self.flow, key);
        let name = if self.scripts.has(&own) {
            own
        } else {
            tpl::approval(key)
        };
        self.scripts.render(&name, &ctx)
    }

    /// An answer as the summary shows it.
    pub fn answer(&self, answer: &Answer) -> String {
        let yes = self
            .scripts
            .render(&tpl::msg("yes_label"), &Value::UNDEFINED);
        let no = self
            .scripts
            .render(&tpl::msg("no_label"), &Value::UNDEFINED);
        answer.display(&yes, &no)
    }

    /// The status as people read it.
    pub fn status(&self, status: CaseStatus) -> String {
        self.say(&format!("status_{}", status.as_str()))
    }
}
