//! End to end for `flowbot bench --watch-store`: while the load runs and after it, the bot's
//! store is sampled (the queued events and the outbox backlog, read beside the running bot as
//! `flowbot dead-letters` reads it) until every accepted callback has been handled. It reports
//! the queue depth over time and the events handled per second from the first callback to the
//! empty queue: the rate the bot keeps up with, not just the rate it accepts.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::replies::Replies;
use crate::adapters::store::Store;

/// How often the store is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// The outbox is counted at every this many samples: on the embedded store counting a large
/// backlog takes a good part of a core, which would be taken from the bot under test.
const OUTBOX_EVERY: usize = 10;

/// One sample: seconds since the start, callbacks accepted so far, events still queued (or
/// being handled), outbox items waiting (counted at every [`OUTBOX_EVERY`]th sample), messages
/// the stand-in WeCom received so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at_s: f64,
    pub accepted: u64,
    pub queued: u64,
    pub outbox: Option<u64>,
    pub replied: u64,
}

/// What the watcher saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Drain {
    pub samples: Vec<Sample>,
    /// From the first callback until the queue was empty with every callback sent, if that
    /// happened within the time allowed.
    pub drained_after: Option<Duration>,
    pub accepted: u64,
}

impl Drain {
    /// The events handled until the queue was empty: those accepted during the run and those
    /// already queued at its first sample (an earlier run's backlog).
    pub fn handled(&self) -> u64 {
        self.accepted + self.samples.first().map_or(0, |s| s.queued)
    }

    /// Events handled per second, end to end.
    pub fn handled_per_second(&self) -> Option<f64> {
        let after = self.drained_after?;
        Some(self.handled() as f64 / after.as_secs_f64().max(1e-9))
    }

    /// At the last sample that counted the outbox: its time, the replies queued so far (those
    /// waiting in the outbox and those the stand-in WeCom received; an item delivered but not yet
    /// marked done counts in both, hence "~") and the backlog.
    pub fn replies(&self) -> Option<(f64, u64, u64)> {
        let last = self.samples.iter().rev().find(|s| s.outbox.is_some())?;
        let backlog = last.outbox?;
        Some((last.at_s, backlog + last.replied, backlog))
    }

    /// The deepest the event queue got.
    pub fn peak_queue(&self) -> u64 {
        self.samples.iter().map(|s| s.queued).max().unwrap_or(0)
    }
}

impl fmt::Display for Drain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.samples {
            let outbox = s.outbox.map_or_else(|| "-".to_owned(), |n| n.to_string());
            writeln!(
                f,
                "  t={:6.1}s accepted {:7} queued {:7} outbox {:>7} replied {:7}",
                s.at_s, s.accepted, s.queued, outbox, s.replied
            )?;
        }
        match (self.drained_after, self.handled_per_second()) {
            (Some(after), Some(rate)) => write!(
                f,
                "handled {} events in {:.2}s end to end: {:.0} events/s (peak queue {})",
                self.handled(),
                after.as_secs_f64(),
                rate,
                self.peak_queue()
            ),
            _ => write!(
                f,
                "the queue did not drain in time ({} accepted, peak queue {})",
                self.accepted,
                self.peak_queue()
            ),
        }?;
        if let Some((at_s, queued, backlog)) = self.replies().filter(|r| r.0 > 0.0) {
            let delivered = queued - backlog;
            write!(
                f,
                "\nreplies queued ~{queued} in {at_s:.2}s: {:.0}/s; delivered to the stand-in WeCom {delivered}: {:.0}/s; outbox backlog {backlog}",
                queued as f64 / at_s,
                delivered as f64 / at_s
            )?;
        }
        Ok(())
    }
}

/// Samples `store` from `started` until `done_sending` is set and the queue is empty, or
/// `limit` passes. `accepted` counts the callbacks answered 200 so far, `replies` the messages
/// that reached the stand-in WeCom.
pub async fn watch(
    store: Arc<dyn Store>,
    started: Instant,
    accepted: Arc<AtomicU64>,
    replies: Arc<Replies>,
    done_sending: Arc<AtomicBool>,
    limit: Duration,
) -> anyhow::Result<Drain> {
    let mut samples = Vec::new();
    loop {
        let (queued, outbox) = if samples.len().is_multiple_of(OUTBOX_EVERY) {
            let stats = store.queue_stats().await?;
            (stats.events, Some(stats.outbox))
        } else {
            (store.queued_events().await?, None)
        };
        samples.push(Sample {
            at_s: started.elapsed().as_secs_f64(),
            accepted: accepted.load(Ordering::Relaxed),
            queued,
            outbox,
            replied: replies.received(),
        });
        let drained = done_sending.load(Ordering::Relaxed) && queued == 0;
        if drained || started.elapsed() > limit {
            if let Some(last) = samples.last_mut().filter(|s| s.outbox.is_none()) {
                last.outbox = Some(store.queue_stats().await?.outbox);
            }
            return Ok(Drain {
                samples,
                drained_after: drained.then(|| started.elapsed()),
                accepted: accepted.load(Ordering::Relaxed),
            });
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: f64, queued: u64) -> Sample {
        Sample {
            at_s,
            accepted: 1_000,
            queued,
            outbox: None,
            replied: 0,
        }
    }

    #[test]
    fn a_backlog_already_queued_counts_as_handled_too() {
        let drain = Drain {
            samples: vec![sample(0.0, 500), sample(1.0, 900), sample(3.0, 0)],
            drained_after: Some(Duration::from_secs(3)),
            accepted: 1_000,
        };
        assert_eq!(drain.handled(), 1_500);
        assert_eq!(drain.handled_per_second(), Some(500.0));
    }

    #[test]
    fn the_rate_counts_from_the_first_callback_to_the_empty_queue() {
        let drain = Drain {
            samples: vec![sample(0.0, 0), sample(1.0, 700), sample(2.0, 0)],
            drained_after: Some(Duration::from_secs(2)),
            accepted: 1_000,
        };
        assert_eq!(drain.handled_per_second(), Some(500.0));
        assert_eq!(drain.peak_queue(), 700);
        let shown = drain.to_string();
        assert!(
            shown.ends_with(
                "handled 1000 events in 2.00s end to end: 500 events/s (peak queue 700)"
            ),
            "{shown}"
        );
    }

    #[test]
    fn replies_queued_are_those_waiting_and_those_delivered() {
        let mut last = sample(2.0, 0);
        (last.outbox, last.replied) = (Some(300), 500);
        let drain = Drain {
            samples: vec![sample(0.0, 0), sample(1.0, 700), last],
            drained_after: Some(Duration::from_secs(2)),
            accepted: 1_000,
        };
        assert_eq!(drain.replies(), Some((2.0, 800, 300)));
        assert!(
            drain.to_string().ends_with(
                "replies queued ~800 in 2.00s: 400/s; delivered to the stand-in WeCom 500: 250/s; outbox backlog 300"
            ),
            "{drain}"
        );
    }

    #[test]
    fn a_queue_that_never_drains_has_no_rate() {
        let drain = Drain {
            samples: vec![sample(0.5, 700), sample(300.0, 650)],
            drained_after: None,
            accepted: 1_000,
        };
        assert_eq!(drain.handled_per_second(), None);
        assert!(drain.to_string().contains("did not drain in time"));
    }
}
