//! `bot.toml` `[delivery]` (optional): how long a message that WeCom does not accept is retried
//! (`retry_hours`, from its first failure, default 24) before it is set aside as a dead letter
//! (`flowbot dead-letters --resend` sends those again).

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use crate::base::diagnostics::Source;

/// The default retry window, in hours.
const DEFAULT_RETRY_HOURS: u32 = 24;
/// The longest retry window, in hours (a week: beyond it a reply is no longer an answer).
const MAX_RETRY_HOURS: u32 = 168;

/// `[delivery]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDelivery {
    #[serde(default)]
    pub retry_hours: Option<Spanned<u32>>,
}

/// How outgoing messages are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    /// How long a failing message is retried, from its first failure.
    pub retry_for: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            retry_for: hours(DEFAULT_RETRY_HOURS),
        }
    }
}

fn hours(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 3600)
}

impl Compiler {
    /// `[delivery]`: `retry_hours` from 1 to a week.
    pub(super) fn delivery(&mut self, src: &Source, raw: &RawDelivery) -> DeliverySettings {
        match &raw.retry_hours {
            Some(v) if !(1..=MAX_RETRY_HOURS).contains(v.get_ref()) => {
                let msg = format!("[delivery] retry_hours must be from 1 to {MAX_RETRY_HOURS}");
                self.d.error(src.at(v.span(), msg));
                DeliverySettings::default()
            }
            Some(v) => DeliverySettings {
                retry_for: hours(*v.get_ref()),
            },
            None => DeliverySettings::default(),
        }
    }
}
