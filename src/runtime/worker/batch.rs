//! One claim's batch: the events (of distinct conversations, each leased) that one
//! [`Store::claim_events`] handed a worker are handled concurrently, and what they change is
//! committed in one store operation ([`Store::complete_events`]). Each event's commit is still all
//! or nothing with its own version checks; an event whose commit conflicts is re-run alone.
//!
//! [`Store::claim_events`]: crate::adapters::store::Store::claim_events
//! [`Store::complete_events`]: crate::adapters::store::Store::complete_events

use std::time::Instant;

use futures_util::future::join_all;
use tracing::Instrument;

use super::Worker;
use crate::adapters::store::{Claim, ClaimedEvent, Commit, CommitOutcome};
use crate::dispatch::DispatchError;
use crate::dispatch::event::Event;
use crate::runtime::metrics;

/// Where one claimed event stands after its handling.
pub(super) enum Prepared {
    /// Nothing (more) to commit: what came of it (the metrics' label).
    Done(&'static str),
    /// Handled: what it changes, to be committed with its completion.
    Ready(Event, Commit),
}

/// A handled event waiting for the batch's commit.
struct Ready {
    span: tracing::Span,
    kind: &'static str,
    event: Event,
}

impl Worker {
    /// Handles `claims` concurrently and commits them together; the first error (the others'
    /// events handled meanwhile) is returned, its event left leased and retried after the lease.
    pub(super) async fn handle_batch(
        &self,
        claims: Vec<Claim>,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let started = Instant::now();
        let handled = join_all(claims.into_iter().map(|claim| {
            let span = tracing::info_span!("event", event_id = claim.event.event_id);
            let in_span = span.clone();
            async move {
                let parsed = Self::parse(&claim.event);
                let kind = parsed.as_ref().map_or("unreadable", metrics::event_kind);
                let prepared = self.prepare(&claim, parsed, now_ms).await;
                (claim.event, span, kind, prepared)
            }
            .instrument(in_span)
        }))
        .await;
        let mut first_error = None;
        let (mut commits, mut ready) = (Vec::new(), Vec::new());
        for (claimed, span, kind, prepared) in handled {
            match prepared {
                Ok(Prepared::Done(result)) => metrics::event(kind, result, started.elapsed()),
                Ok(Prepared::Ready(event, commit)) => {
                    commits.push((claimed, commit));
                    ready.push(Ready { span, kind, event });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if !commits.is_empty() {
            let outcomes = self
                .store
                .complete_events(&commits, self.clock.now_ms())
                .await?;
            for (((claimed, commit), r), outcome) in commits.iter().zip(ready).zip(outcomes) {
                let result = self
                    .settle(claimed, &r.event, commit, outcome, now_ms)
                    .instrument(r.span)
                    .await;
                match result {
                    Ok(result) => metrics::event(r.kind, result, started.elapsed()),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// What came of a commit; a conflict re-runs the event alone.
    pub(super) async fn settle(
        &self,
        claimed: &ClaimedEvent,
        event: &Event,
        commit: &Commit,
        outcome: CommitOutcome,
        now_ms: i64,
    ) -> Result<&'static str, DispatchError> {
        match outcome {
            CommitOutcome::Committed => {
                self.committed(event, commit, now_ms);
                Ok("ok")
            }
            CommitOutcome::AlreadyDone => {
                tracing::info!(
                    event_id = claimed.event_id,
                    "event was already completed by another worker"
                );
                Ok("already_done")
            }
            CommitOutcome::Conflict => {
                tracing::info!(
                    event_id = claimed.event_id,
                    "conversation changed meanwhile, stepping again"
                );
                self.rerun(claimed, event, now_ms).await
            }
        }
    }
}
