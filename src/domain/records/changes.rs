//! A change report against a register entry (policy 5.1 note 3): which values change, as
//! people read them (`label：old → new`), and the entry's answers once the change is confirmed.

use crate::base::scripts::FlowDef;
use crate::domain::engine::Answers;
use crate::domain::records::Texts;

/// What a report changes in an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterChange {
    /// `label：old → new`, in the order of the report flow's `[register_updates]`.
    pub lines: Vec<String>,
    /// The entry's answers with the new values.
    pub answers: Answers,
    /// The entry's field ids the report gives a new value for.
    pub fields: Vec<String>,
}

/// The change `report` (a change report's answers, mapped by `updates`: report field → entry
/// field) makes to `entry` (the answers of the registration, shown with `texts`).
pub fn register_change(
    registration: &FlowDef,
    texts: &Texts<'_>,
    entry: &Answers,
    report: &Answers,
    updates: &[(String, String)],
) -> RegisterChange {
    let mut answers = entry.clone();
    let mut lines = Vec::new();
    let mut fields = Vec::new();
    for (from, to) in updates {
        let Some(new) = report.get(from) else {
            continue;
        };
        let label = registration
            .field(to)
            .map(|(_, f)| f.label.clone())
            .unwrap_or_else(|| to.clone());
        let old = entry.get(to).map(|a| texts.answer(a)).unwrap_or_default();
        lines.push(format!("{label}：{old} → {}", texts.answer(new)));
        match answers.0.iter_mut().find(|(k, _)| k == to) {
            Some((_, answer)) => *answer = new.clone(),
            None => answers.0.push((to.clone(), new.clone())),
        }
        fields.push(to.clone());
    }
    RegisterChange {
        lines,
        answers,
        fields,
    }
}
