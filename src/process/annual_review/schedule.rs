//! Opening by schedule: with `[campaigns.annual_review] opens_on = "YYYY-MM-DD"` the campaign
//! of `year` (by default the year before the date's) opens by itself at the start of working
//! hours that day (or of the next working day), exactly as `年审 开始` + `确认` would: the same
//! [`open::open`], so its idempotency holds across replicas (the campaign is written as new).
//! Each replica arms one durable timer at start ([`arm`], an upsert by id, so many replicas
//! arm one timer; nothing once the campaign exists); when it fires ([`fired`], a
//! `TimerJob::CampaignOpen` on the conversation `campaign:NS-<year>`) the campaign opens unless
//! it already has been, and the department is told: in `group` when set, else each member of
//! the propaganda role directly.

use super::{open, results, say};
use crate::adapters::store::{Store, StoreResult};
use crate::base::scripts::Scripts;
use crate::dispatch::event::{self, TimerJob};
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::reminders;
use crate::domain::reply::{DeskPage, Reply};

/// The id of the opening timer of `year`'s campaign.
pub fn timer_id(year: i32) -> String {
    format!("annual-open-{year}")
}

/// Arms the opening timer when bot.toml schedules an opening and that year's campaign is not
/// yet open. Returns the moment it opens (`None`: nothing to arm).
pub async fn arm(store: &dyn Store, scripts: &Scripts) -> StoreResult<Option<i64>> {
    let Some((on, year)) = scripts.annual_review.as_ref().and_then(|d| d.opens_on) else {
        return Ok(None);
    };
    if results::campaign(store, year).await?.is_some() {
        return Ok(None);
    }
    let at = reminders::first_working_moment(&scripts.calendar, &scripts.working_hours, on)
        .timestamp_millis();
    let job = TimerJob::CampaignOpen { year };
    store
        .schedule_timer(&event::timer(timer_id(year), at, &job))
        .await?;
    tracing::info!(year, opens_on = %on, "annual review campaign scheduled to open");
    Ok(Some(at))
}

/// The opening timer fired: the campaign opens (unless it already was) and the department is
/// told.
pub(super) async fn fired(
    s: &Services,
    d: &mut Draft,
    year: i32,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(def) = s.scripts.annual_review.clone() else {
        return Ok(());
    };
    if results::campaign(&*s.store, year).await?.is_some() {
        tracing::info!(
            year,
            "annual review campaign already opened: the schedule adds nothing"
        );
        return Ok(());
    }
    let Some((campaign, accounts, units)) = open::open(s, d, &def, year, "", now_ms).await? else {
        return Ok(());
    };
    let ctx = minijinja::context! { year, accounts, units, deadline => campaign.deadline };
    let text = say(s, "opened_by_schedule", ctx);
    // Said first: before the messages to every administrator.
    match &def.group {
        Some(group) => d.replies.insert(
            0,
            Reply::Group {
                group: group.clone(),
                markdown: text,
                mentions: Vec::new(),
                link: Some(DeskPage::Annual(year)),
            },
        ),
        None => {
            for member in s.directory.role_members("propaganda").await?.iter().rev() {
                let notice = Reply::text_about(member, text.clone(), DeskPage::Annual(year));
                d.replies.insert(0, notice);
            }
        }
    }
    tracing::info!(year, accounts, "annual review campaign opened by schedule");
    Ok(())
}
