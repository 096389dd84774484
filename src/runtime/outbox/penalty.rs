//! WeCom's 45009 ("API calls over the limit") penalises the app, not one member: after one, the
//! sender holds every send until a back-off has passed (2 s doubling to 10 min, as for a failed
//! item), then lets one try again; the first success lifts the hold. So a penalty of an hour
//! costs a few probes, not one call per waiting message.

use std::sync::Mutex;

use super::Pacing;
use crate::base::locks::lock;

/// The errcode that penalises the whole app.
pub const OVER_LIMIT: i64 = 45009;

/// The sender's hold after 45009s: until when, and how many in a row.
#[derive(Default)]
pub struct Penalty(Mutex<Option<(i64, u32)>>);

impl Penalty {
    /// Until when sends wait, if they do at `now_ms`.
    pub fn until(&self, now_ms: i64) -> Option<i64> {
        lock(&self.0).and_then(|(until, _)| (until > now_ms).then_some(until))
    }

    /// Counts a 45009 at `now_ms`; returns until when sends wait.
    pub fn strike(&self, now_ms: i64, pacing: &Pacing) -> i64 {
        let mut state = lock(&self.0);
        let strikes = state.map_or(0, |(_, n)| n);
        let until = now_ms + pacing.backoff(strikes).as_millis() as i64;
        *state = Some((until, strikes + 1));
        until
    }

    /// A call went through: the penalty is over.
    pub fn lift(&self) {
        *lock(&self.0) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strikes_hold_longer_each_time_and_a_success_lifts_the_hold() {
        let pacing = Pacing::default();
        let penalty = Penalty::default();
        assert_eq!(penalty.until(0), None);
        let first = penalty.strike(0, &pacing);
        assert!((1_000..=2_000).contains(&first), "{first}");
        assert_eq!(penalty.until(500), Some(first));
        assert_eq!(penalty.until(first), None, "a probe may go");
        let second = penalty.strike(first, &pacing);
        assert!(second - first >= 2_000, "{first} {second}");
        penalty.lift();
        assert_eq!(penalty.until(first), None);
    }
}
