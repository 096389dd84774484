//! The assessment's optional columns, per unit: the year's annual review results (filed, 合格,
//! 需整改, 不合格, 未报), the incidents reported with the median minutes to acknowledge and to
//! close them, and the repost tasks' coverage (due, done, percent).

use crate::domain::annual::Outcome;
use crate::domain::incidents::Incident;
use crate::domain::reposts::Tally;

/// A unit's annual review results in the year's campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnualFigures {
    /// Reports filed (in any state of review).
    pub filed: usize,
    pub passed: usize,
    pub rectifying: usize,
    pub failed: usize,
    /// Accounts without a report when the campaign closed (未报); while it is open the
    /// missing reports are not counted yet.
    pub not_filed: usize,
}

impl AnnualFigures {
    /// Counts one account's outcome.
    pub fn count(&mut self, outcome: Outcome) {
        self.filed += usize::from(outcome.filed());
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Rectifying => self.rectifying += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::NotFiled => self.not_filed += 1,
            Outcome::Missing | Outcome::Submitted | Outcome::Approved => {}
        }
    }
}

/// A unit's incidents reported in the year, and the median minutes from the report to the
/// department's acknowledgement and to the closing (of those acknowledged, closed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncidentFigures {
    pub reported: usize,
    pub ack_minutes: Option<i64>,
    pub close_minutes: Option<i64>,
}

/// The times of a unit's incidents, gathered before their medians are taken.
#[derive(Debug, Clone, Default)]
pub struct Times {
    reported: usize,
    ack: Vec<i64>,
    close: Vec<i64>,
}

impl Times {
    pub fn add(&mut self, incident: &Incident) {
        self.reported += 1;
        self.ack.extend(incident.minutes_to_acknowledge());
        self.close.extend(incident.minutes_to_close());
    }

    pub fn figures(mut self) -> IncidentFigures {
        IncidentFigures {
            reported: self.reported,
            ack_minutes: median(&mut self.ack),
            close_minutes: median(&mut self.close),
        }
    }
}

/// The median in whole minutes: the middle value, or the mean of the two middle values
/// rounded down for an even count; `None` for none.
pub fn median(values: &mut [i64]) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]).div_euclid(2)),
    }
}

/// A unit's repost tasks of the year: the accounts asked (one per task and account), how
/// many reposted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepostFigures {
    pub due: usize,
    pub done: usize,
}

impl RepostFigures {
    pub fn of(tally: &Tally) -> RepostFigures {
        RepostFigures {
            due: tally.total,
            done: tally.done,
        }
    }

    /// Reposted, in whole percent (rounded down) of what was due; `None` when nothing was.
    pub fn percent(&self) -> Option<usize> {
        (self.due > 0).then(|| self.done * 100 / self.due)
    }
}
