//! The outbox sender: claims due outbox items, paces them per channel under WeCom's limits,
//! delivers them through [`crate::wecom::api::WeComClient`], retries failures with back-off and
//! dead-letters what cannot be delivered.
//! SKELETON: to be written.

use std::time::Duration;

/// Pacing and retry settings.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// App messages per member per `window` (WeCom: 30/min).
    pub member_limit: u32,
    /// Messages per group robot per `window` (WeCom: 20/min).
    pub robot_limit: u32,
    pub window: Duration,
    /// Failures after which an item is dead-lettered.
    pub max_failures: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            member_limit: 30,
            robot_limit: 20,
            window: Duration::from_secs(60),
            max_failures: 8,
            base_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
        }
    }
}

/// TEMPORARY stand-in until the sender lands.
pub struct OutboxSender;

impl OutboxSender {
    pub fn new(
        _store: std::sync::Arc<dyn crate::store::Store>,
        _client: crate::wecom::api::WeComClient,
        _pacing: Pacing,
    ) -> Self {
        Self
    }
    pub fn with_notify(self, _n: std::sync::Arc<tokio::sync::Notify>) -> Self {
        self
    }
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        shutdown.await
    }
}
