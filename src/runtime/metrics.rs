//! Prometheus metrics, served at `/metrics` on the bot's own router: the metric names, the
//! recorder (installed once per process, `metrics` with `metrics-exporter-prometheus`) and the
//! one-line helpers the edges call (the callback server, the worker, the outbox sender; the API
//! client counts token refreshes itself). The store's gauges (queue, outbox, dead letters,
//! timers) are sampled on each scrape. The domain never sees any of it.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::adapters::store::{Commit, Store, StoreResult};
use crate::adapters::wecom::api::{ApiError, Receipt};
use crate::adapters::wecom::message::InboundKind;
use crate::dispatch::event::{Event, TimerJob};
use crate::domain::records::{ALL_CASES, Case, CaseStatus};

/// Callbacks by `outcome`: `accepted` (queued), `duplicate`, `ignored` (a type the bot does not
/// handle), `refused`.
pub const CALLBACKS: &str = "flowbot_callbacks_total";
/// Refused callbacks by `reason` (`bad_signature`, `stale`, `malformed`, …).
pub const CALLBACKS_REFUSED: &str = "flowbot_callbacks_refused_total";
/// Time to answer a POST callback (verify, decrypt, dedupe and queue).
pub const CALLBACK_SECONDS: &str = "flowbot_callback_duration_seconds";
/// Events handled by `kind` and `result` (`ok`, `already_done`, `conflicts`, `panicked`,
/// `set_aside`, `unreadable`, `waiting`: a dependency was unavailable, tried again later).
pub const EVENTS: &str = "flowbot_events_handled_total";
/// Time from claiming an event to committing what it changed, by `kind`.
pub const EVENT_SECONDS: &str = "flowbot_event_duration_seconds";
/// Events queued or being handled (sampled from the store).
pub const QUEUE_EVENTS: &str = "flowbot_queue_events";
/// Age of the oldest queued event, 0 when the queue is empty (sampled).
pub const QUEUE_OLDEST: &str = "flowbot_queue_oldest_event_age_seconds";
/// Outbox items waiting or in flight (sampled).
pub const OUTBOX_BACKLOG: &str = "flowbot_outbox_backlog";
/// Delivery attempts by `result` (`ok`, `error`) and WeCom's `errcode` (`none` for a
/// transport error).
pub const SENDS: &str = "flowbot_sends_total";
/// Dead letters kept (sampled).
pub const DEAD_LETTERS: &str = "flowbot_dead_letters";
/// Outbox items dead-lettered by this process.
pub const DEAD_LETTERED: &str = "flowbot_dead_lettered_total";
/// Timers pending (sampled).
pub const TIMERS_PENDING: &str = "flowbot_timers_pending";
/// Timers due and not fired yet (sampled).
pub const TIMERS_OVERDUE: &str = "flowbot_timers_overdue";
/// access_token fetches by `result` (counted by the API client).
pub const TOKEN_REFRESHES: &str = "flowbot_token_refreshes_total";
/// Cases filed, by `flow`.
pub const CASES_FILED: &str = "flowbot_cases_filed_total";
/// Cases decided, by `flow` and `status` (`approved`, `rejected`, `refused`, `withdrawn`).
pub const CASES_DECIDED: &str = "flowbot_cases_decided_total";
/// Things that went past their deadline, by `process`: an approval step (`approvals`), a
/// publication review's answer (`publication_review`), an incident's acknowledgement
/// (`incidents`), a repost task (`reposts`); counted when its first chase fires.
pub const OVERDUE: &str = "flowbot_overdue_total";

/// Histogram buckets (seconds): 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use; every bot in the process shares it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_counter!(CALLBACKS, "Callbacks by outcome");
    describe_counter!(CALLBACKS_REFUSED, "Refused callbacks by reason");
    describe_histogram!(CALLBACK_SECONDS, Unit::Seconds, "Time to answer a callback");
    describe_counter!(EVENTS, "Events handled by kind and result");
    describe_histogram!(EVENT_SECONDS, Unit::Seconds, "Time to handle an event");
    describe_gauge!(QUEUE_EVENTS, "Events queued or being handled");
    describe_gauge!(
        QUEUE_OLDEST,
        Unit::Seconds,
        "Age of the oldest queued event"
    );
    describe_gauge!(OUTBOX_BACKLOG, "Outbox items waiting or in flight");
    describe_counter!(SENDS, "WeCom deliveries by result and errcode");
    describe_gauge!(DEAD_LETTERS, "Dead letters kept");
    describe_counter!(DEAD_LETTERED, "Outbox items dead-lettered");
    describe_gauge!(TIMERS_PENDING, "Timers pending");
    describe_gauge!(TIMERS_OVERDUE, "Timers due and not fired yet");
    describe_counter!(TOKEN_REFRESHES, "access_token fetches by result");
    describe_counter!(CASES_FILED, "Cases filed by flow");
    describe_counter!(CASES_DECIDED, "Cases decided by flow and status");
    describe_counter!(OVERDUE, "Deadlines passed by process");
}

/// The text of `/metrics`, with the store's gauges sampled now.
pub async fn render(store: &dyn Store, now_ms: i64) -> StoreResult<String> {
    let handle = handle();
    let stats = store.queue_stats().await?;
    let pending = store.pending_timers().await?;
    let backlog = store.backlog(now_ms).await?;
    gauge!(QUEUE_EVENTS).set(stats.events as f64);
    gauge!(OUTBOX_BACKLOG).set(stats.outbox as f64);
    gauge!(DEAD_LETTERS).set(stats.dead_letters as f64);
    gauge!(TIMERS_PENDING).set(pending as f64);
    gauge!(TIMERS_OVERDUE).set(backlog.overdue_timers as f64);
    let age_ms = backlog.oldest_event_ms.map_or(0, |at| (now_ms - at).max(0));
    gauge!(QUEUE_OLDEST).set(age_ms as f64 / 1000.0);
    handle.run_upkeep();
    Ok(handle.render())
}

/// A POST callback answered: `outcome` as in [`CALLBACKS`], `refused` with its reason.
pub fn callback(outcome: &'static str, refused: Option<&'static str>, took: Duration) {
    counter!(CALLBACKS, "outcome" => outcome).increment(1);
    if let Some(reason) = refused {
        counter!(CALLBACKS_REFUSED, "reason" => reason).increment(1);
    }
    metrics::histogram!(CALLBACK_SECONDS).record(took.as_secs_f64());
}

/// An event handled: `kind` from [`event_kind`], `result` as in [`EVENTS`].
pub fn event(kind: &'static str, result: &'static str, took: Duration) {
    counter!(EVENTS, "kind" => kind, "result" => result).increment(1);
    metrics::histogram!(EVENT_SECONDS, "kind" => kind).record(took.as_secs_f64());
}

/// The label of an event: what WeCom sent, or which timer fired.
pub fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::WeCom(inbound) => match &inbound.kind {
            InboundKind::Text { .. } => "text",
            InboundKind::Media(_) => "media",
            InboundKind::MenuClick { .. } => "menu_click",
            InboundKind::MenuView { .. } => "menu_view",
            InboundKind::EnterAgent => "enter_agent",
            InboundKind::TemplateCardEvent(_) => "card_event",
            InboundKind::ChangeContact(_) => "contact_change",
            InboundKind::Unknown { .. } => "unknown",
        },
        Event::Timer(fired) => match &fired.job {
            TimerJob::Rung { .. } => "timer_rung",
            TimerJob::Digest { .. } => "timer_digest",
            TimerJob::IncidentRung { .. } => "timer_incident_rung",
            TimerJob::ApprovalDue { .. } => "timer_approval_due",
            TimerJob::PublicationDue { .. } => "timer_publication_due",
            TimerJob::CircleSync => "timer_circle_sync",
            TimerJob::Repost { .. } => "timer_repost",
            TimerJob::CampaignOpen { .. } => "timer_campaign_open",
        },
    }
}

/// The process whose deadline a fired timer says has passed, on its first chase.
fn overdue_of(event: &Event) -> Option<&'static str> {
    let Event::Timer(fired) = event else {
        return None;
    };
    match &fired.job {
        TimerJob::ApprovalDue { occurrence: 1, .. } => Some("approvals"),
        TimerJob::PublicationDue { occurrence: 1, .. } => Some("publication_review"),
        TimerJob::IncidentRung { rung: 0, .. } => Some("incidents"),
        TimerJob::Repost { stage: 1, .. } => Some("reposts"),
        _ => None,
    }
}

/// What a committed event did to the records: cases filed (their filing write names the index
/// of all cases) and decided (decided at the time the event was handled at), deadlines passed.
pub fn committed(event: &Event, commit: &Commit, now_ms: i64) {
    if let Some(process) = overdue_of(event) {
        counter!(OVERDUE, "process" => process).increment(1);
    }
    for write in &commit.cases {
        let Some(case) = write
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<Case>(body).ok())
        else {
            continue;
        };
        if write.add_to.iter().any(|index| index == ALL_CASES) {
            counter!(CASES_FILED, "flow" => case.flow.clone()).increment(1);
        }
        let decided = matches!(
            case.status,
            CaseStatus::Approved
                | CaseStatus::Rejected
                | CaseStatus::Refused
                | CaseStatus::Withdrawn
        );
        if decided && case.decided_at_ms == Some(now_ms) {
            counter!(CASES_DECIDED, "flow" => case.flow.clone(), "status" => case.status.as_str())
                .increment(1);
        }
    }
}

/// One delivery attempt of the outbox sender.
pub fn sent(result: &Result<Receipt, ApiError>) {
    let (result, errcode) = match result {
        Ok(_) => ("ok", "0".to_owned()),
        Err(e) => (
            "error",
            e.errcode()
                .map_or_else(|| "none".to_owned(), |c| c.to_string()),
        ),
    };
    counter!(SENDS, "result" => result, "errcode" => errcode).increment(1);
}
