//! How far repost tasks got: answers per unit and per platform (`转发 进度`), the stragglers,
//! the export's rows, and the coverage per unit across tasks that the assessment reads.

use std::collections::BTreeMap;

use super::{Answer, Target, Task};

/// The answers of a set of accounts: how many, how many reposted, could not, have not answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The unit's or platform's name (empty for a total).
    pub label: String,
    pub total: usize,
    pub done: usize,
    pub unable: usize,
    pub pending: usize,
}

impl Tally {
    fn count(&mut self, target: &Target) {
        self.total += 1;
        match target.answer {
            Answer::Pending => self.pending += 1,
            Answer::Done { .. } => self.done += 1,
            Answer::Unable { .. } => self.unable += 1,
        }
    }

    /// Reposted, in whole percent of the accounts reached (100 when none were reached).
    pub fn percent(&self) -> usize {
        (self.done * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// A task's coverage: in total, per unit and per platform (each in first-seen order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub total: Tally,
    pub by_unit: Vec<Tally>,
    pub by_platform: Vec<Tally>,
}

fn tally_into(tallies: &mut Vec<Tally>, label: &str, target: &Target) {
    let at = match tallies.iter().position(|t| t.label == label) {
        Some(at) => at,
        None => {
            tallies.push(Tally {
                label: label.to_owned(),
                ..Tally::default()
            });
            tallies.len() - 1
        }
    };
    tallies[at].count(target);
}

/// The coverage of one task.
pub fn coverage(task: &Task) -> Coverage {
    let mut c = Coverage::default();
    for t in &task.targets {
        c.total.count(t);
        tally_into(&mut c.by_unit, &t.unit_name, t);
        tally_into(&mut c.by_platform, &t.platform, t);
    }
    c
}

/// The coverage per unit (by unit id, with its name as label) over many tasks: what the
/// assessment counts.
pub fn by_unit(tasks: &[Task]) -> BTreeMap<String, Tally> {
    let mut units: BTreeMap<String, Tally> = BTreeMap::new();
    for t in tasks.iter().flat_map(|task| &task.targets) {
        let tally = units.entry(t.unit.clone()).or_insert_with(|| Tally {
            label: t.unit_name.clone(),
            ..Tally::default()
        });
        tally.count(t);
    }
    units
}

/// The targets that have not answered.
pub fn stragglers(task: &Task) -> impl Iterator<Item = &Target> {
    task.targets
        .iter()
        .filter(|t| matches!(t.answer, Answer::Pending))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reposts::tests::{target, task};

    #[test]
    fn coverage_counts_per_unit_and_platform() {
        let mut t = task(vec![
            target("DJ-1", "tw", "团委", "微信公众号", "zhangsan"),
            target("DJ-2", "tw", "团委", "抖音", "zhangsan"),
            target("DJ-3", "gh", "工会", "微信公众号", "zhangwei"),
        ]);
        t.targets[0].answer = Answer::Done { link: None };
        t.targets[2].answer = Answer::Unable {
            reason: "账号停更".into(),
        };
        let c = coverage(&t);
        assert_eq!(
            (c.total.total, c.total.done, c.total.unable, c.total.pending),
            (3, 1, 1, 1)
        );
        assert_eq!(c.by_unit[0].label, "团委");
        assert_eq!((c.by_unit[0].done, c.by_unit[0].pending), (1, 1));
        assert_eq!(c.by_unit[0].percent(), 50);
        assert_eq!(c.by_platform[0].label, "微信公众号");
        assert_eq!(c.by_platform[0].total, 2);
        assert_eq!(stragglers(&t).count(), 1);
        let units = by_unit(&[t.clone(), t]);
        assert_eq!(units["tw"].total, 4);
        assert_eq!(units["gh"].unable, 2);
        assert_eq!(Tally::default().percent(), 100);
    }
}
