//! The calendar watcher: every [`Settings::calendar_poll`](crate::runtime::config::Settings)
//! it asks the [`Reloader`] whether a file in `bot-scripts/calendar/` changed, so that a new
//! year's holidays take effect without a release. A reloaded folder is logged with its years;
//! a broken one is refused with each `file:line` error logged, and the calendar in use is kept.

use std::future::Future;
use std::time::Duration;

use crate::base::calendar::{Calendar, Reload, Reloader};

/// Polls one calendar folder for the running bot's calendar.
pub struct CalendarWatch {
    reloader: Reloader,
    every: Duration,
}

impl CalendarWatch {
    /// Watches `scripts_dir/calendar` for `calendar` (the handle the scripts share), every
    /// `every`; a zero interval never polls.
    pub fn new(scripts_dir: &std::path::Path, calendar: Calendar, every: Duration) -> Self {
        CalendarWatch {
            reloader: Reloader::new(scripts_dir.join("calendar"), calendar),
            every,
        }
    }

    /// Polls once and logs what happened.
    pub fn poll(&mut self) {
        let dir = self.reloader.dir().display().to_string();
        match self.reloader.poll() {
            Reload::Unchanged => {}
            Reload::Reloaded { years, warnings } => {
                tracing::info!(folder = %dir, ?years, "calendar reloaded");
                for w in warnings {
                    tracing::warn!("calendar: {w}");
                }
            }
            Reload::Refused(errors) => {
                tracing::error!(
                    folder = %dir,
                    "calendar change refused: the calendar in use is kept until the folder is fixed"
                );
                for e in errors {
                    tracing::error!("calendar: {e}");
                }
            }
        }
    }

    /// Polls until `shutdown` completes.
    pub async fn run_until_stopped(mut self, shutdown: impl Future<Output = ()>) {
        if self.every.is_zero() {
            return;
        }
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.every) => self.poll(),
            }
        }
    }
}
