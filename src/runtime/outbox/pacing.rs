//! Pacing, concurrency and retry settings of the outbox sender, and the arithmetic on them.
//! Pure.

use std::time::Duration;

use rand::Rng;

/// Pacing and retry settings.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// App messages per member per `window` (WeCom: 30/min).
    pub member_limit: u32,
    /// Messages per group robot per `window` (WeCom: 20/min).
    pub robot_limit: u32,
    /// Other channels (app group chats, card updates) per `window`: WeCom's limits there are
    /// far higher (200/min per member for appchat), so this is only a safety valve.
    pub other_limit: u32,
    pub window: Duration,
    /// How long a failing item is retried, from its first failure, before it is dead-lettered
    /// (bot.toml `[delivery] retry_hours`, default 24 hours).
    pub retry_for: Duration,
    /// Channels (members, robots, chats) delivered to at the same time; each channel's items
    /// still go one at a time, in order.
    pub concurrency: usize,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            member_limit: 30,
            robot_limit: 20,
            other_limit: 200,
            window: Duration::from_secs(60),
            retry_for: Duration::from_secs(24 * 3600),
            concurrency: 32,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
        }
    }
}

impl Pacing {
    /// The limit and the window the limiter applies to `channel` (see
    /// [`crate::adapters::wecom::api::Outbound::channel`]). The window gets a 5% margin: WeCom counts
    /// arrivals, and network latency can bunch up calls that left evenly spaced.
    pub fn limit_for(&self, channel: &str) -> (u32, Duration) {
        let limit = if channel.starts_with("member:") {
            self.member_limit
        } else if channel.starts_with("robot:") {
            self.robot_limit
        } else {
            self.other_limit
        };
        (limit.max(1), self.window + self.window / 20)
    }

    /// Whether an item that first failed at `first_failed_ms` may still be retried at `now_ms`.
    pub fn may_retry(&self, first_failed_ms: i64, now_ms: i64) -> bool {
        let retry_for = i64::try_from(self.retry_for.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(first_failed_ms) < retry_for
    }

    /// The wait before the next attempt after `failures` earlier failures (0 for the first):
    /// `base · 2^failures`, capped at `max_backoff`, with "equal jitter" (half fixed, half
    /// random) so that items failing together do not retry together.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(30));
        let full = self
            .base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(rand::thread_rng().r#gen::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let pacing = Pacing::default();
        for failures in 0..20 {
            let full =
                (Duration::from_secs(2) * 2u32.pow(failures.min(20))).min(pacing.max_backoff);
            let wait = pacing.backoff(failures);
            assert!(wait >= full / 2 && wait <= full, "{failures}: {wait:?}");
        }
    }

    #[test]
    fn retries_last_for_the_retry_window_from_the_first_failure() {
        let pacing = Pacing::default();
        let hour = 3_600_000;
        assert!(pacing.may_retry(0, 0));
        assert!(pacing.may_retry(0, 23 * hour));
        assert!(!pacing.may_retry(0, 24 * hour));
    }

    #[test]
    fn channels_get_their_limits() {
        let pacing = Pacing::default();
        assert_eq!(pacing.limit_for("member:zhangsan").0, 30);
        assert_eq!(pacing.limit_for("robot:abc").0, 20);
        assert_eq!(pacing.limit_for("appchat:x").0, 200);
        assert_eq!(pacing.limit_for("member:x").1, Duration::from_secs(63));
    }
}
