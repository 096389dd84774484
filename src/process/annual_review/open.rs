//! Opening a year's campaign: `年审 开始 2026` from a member of the department says how many
//! accounts and units it covers and asks to confirm; confirming writes the campaign and one
//! task per account in use (a duty of kind `annual_review` numbered `NS-<year>-<登记编号>`,
//! written as new, so a second opening — another replica, another member — conflicts and
//! re-runs into creating nothing twice). Each administrator gets the duty's `opened` message
//! and a card with 开始填写; the ladder `[duties.annual_review]` chases them. Opening again
//! while it runs adds the accounts registered since and ends the tasks of accounts closed since.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::results::{self, CAMPAIGNS};
use super::say;
use crate::adapters::store::CaseWrite;
use crate::base::scripts::campaigns::{ANNUAL_REVIEW, CampaignDef, Deadline};
use crate::base::scripts::tpl;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::annual::{self, Campaign, OPEN_CAMPAIGNS, TaskResult};
use crate::domain::engine::Answer;
use crate::domain::records::{self, AccountStatus, Case};
use crate::domain::reminders::duty::Duty;
use crate::domain::reply::{Card, CardButton, CardRow, Reply};
use crate::process::change_report::duties;

/// The card action of 开始填写: `annual_fill:<task>`.
pub const FILL: &str = "annual_fill";

/// The accounts a campaign covers: every register entry in use (not closing or closed).
async fn accounts_in_use(s: &Services) -> Result<Vec<Case>, DispatchError> {
    let mut out = Vec::new();
    for number in s.store.cases_in(records::REGISTER).await? {
        let Some(loaded) = s.load_case(&number).await? else {
            continue;
        };
        let case = loaded.case;
        if case.register_number.is_some()
            && !matches!(
                case.account_status,
                AccountStatus::Closed | AccountStatus::Closing
            )
        {
            out.push(case);
        }
    }
    Ok(out)
}

/// The accounts in use that have no task yet in `year`'s campaign.
async fn uncovered(s: &Services, year: i32) -> Result<Vec<Case>, DispatchError> {
    let mut out = Vec::new();
    for case in accounts_in_use(s).await? {
        let dj = case.register_number.clone().unwrap_or_default();
        if s.store
            .get_case(&annual::task_number(year, &dj))
            .await?
            .is_none()
        {
            out.push(case);
        }
    }
    Ok(out)
}

fn units(cases: &[Case]) -> usize {
    cases.iter().map(|c| &c.unit).collect::<BTreeSet<_>>().len()
}

/// The deadline of a campaign opened `today`.
fn deadline(s: &Services, def: &CampaignDef, today: NaiveDate) -> NaiveDate {
    match def.deadline {
        Deadline::On(date) => date,
        Deadline::WorkingDays(n) => s.scripts.calendar.add_working_days(today, n as i32).date,
    }
}

/// `年审 开始 <年份>`: what opening would cover, and the question to confirm.
pub async fn ask(
    s: &Services,
    d: &mut Draft,
    def: &CampaignDef,
    year: i32,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let existing = results::campaign(&*s.store, year).await?;
    if existing
        .as_ref()
        .is_some_and(|(c, _)| c.closed_at_ms.is_some())
    {
        d.reply(say(
            s,
            "already_open",
            minijinja::context! { year, closed => true },
        ));
        return Ok(());
    }
    let new = uncovered(s, year).await?;
    if new.is_empty() {
        let key = if existing.is_some() {
            "already_open"
        } else {
            "nothing_to_open"
        };
        d.reply(say(s, key, minijinja::context! { year, closed => false }));
        return Ok(());
    }
    let deadline = match &existing {
        Some((c, _)) => c.deadline.clone(),
        None => duties::day(deadline(s, def, s.clock.at(now_ms).today)),
    };
    let ctx = minijinja::context! {
        year, accounts => new.len(), units => units(&new), deadline,
        adding => existing.is_some(),
    };
    d.reply(say(s, "confirm_open", ctx));
    d.conversation.annual_open = Some(year);
    Ok(())
}

/// Opens (or completes) `year`'s campaign: writes the campaign if new (opened `by` a member,
/// empty by schedule) and a task for each account in use that has none; ends the waiting tasks
/// of accounts closed since. Returns the number of tasks created and of units they are in.
pub async fn open(
    s: &Services,
    d: &mut Draft,
    def: &CampaignDef,
    year: i32,
    by: &str,
    now_ms: i64,
) -> Result<Option<(Campaign, usize, usize)>, DispatchError> {
    let Some(duty_def) = s.scripts.duties.get(ANNUAL_REVIEW).cloned() else {
        return Ok(None);
    };
    let campaign = match results::campaign(&*s.store, year).await? {
        Some((c, _)) if c.closed_at_ms.is_some() => return Ok(None),
        Some((c, _)) => c,
        None => {
            let c = Campaign {
                year,
                deadline: duties::day(deadline(s, def, s.clock.at(now_ms).today)),
                opened_at_ms: now_ms,
                opened_by: by.to_owned(),
                closed_at_ms: None,
            };
            d.write_case(CaseWrite {
                number: annual::campaign_number(year),
                expected_version: Some(0),
                body: Some(serde_json::to_string(&c).expect("a campaign serializes")),
                add_to: vec![OPEN_CAMPAIGNS.to_owned(), CAMPAIGNS.to_owned()],
                ..CaseWrite::default()
            });
            c
        }
    };
    drop_closed(s, d, year).await?;
    let new = uncovered(s, year).await?;
    for account in &new {
        let task = task_of(s, account, &campaign, now_ms).await?;
        let open = vec![annual::tasks_index(year), annual::waiting_index(year)];
        let task = duties::start(s, d, &duty_def, task, open, now_ms).await?;
        d.send(Reply::Card {
            to: task.due.clone(),
            card: card(s, &task),
        });
    }
    tracing::info!(year, tasks = new.len(), "annual review campaign opened");
    let unit_count = units(&new);
    Ok(Some((campaign, new.len(), unit_count)))
}

/// The task of one account: due from its administrator (else the unit's leaders).
async fn task_of(
    s: &Services,
    account: &Case,
    campaign: &Campaign,
    now_ms: i64,
) -> Result<Duty, DispatchError> {
    let register_number = account.register_number.clone().unwrap_or_default();
    let (due, person) = match account.answers.get("admin") {
        Some(Answer::Member { userid, name }) => (vec![userid.clone()], name.clone()),
        _ => {
            let leaders = s.directory.leaders_of(&account.unit).await?;
            let mut names = Vec::new();
            for l in &leaders {
                names.push(s.name_of(l).await?);
            }
            (leaders, names.join("、"))
        }
    };
    Ok(Duty {
        number: annual::task_number(campaign.year, &register_number),
        kind: ANNUAL_REVIEW.into(),
        unit: account.unit.clone(),
        unit_name: account.unit_name.clone(),
        account: register_number,
        account_name: duties::account_name(s, account),
        person,
        role: "admin".into(),
        event: campaign.year.to_string(),
        due,
        deadline: campaign.deadline.clone(),
        opened_at_ms: now_ms,
        done: false,
        timers: Vec::new(),
        ordered_by: None,
        evidence: None,
        campaign: Some(TaskResult {
            year: campaign.year,
            ..TaskResult::default()
        }),
    })
}

/// The administrator's card: the account, the deadline and 开始填写.
fn card(s: &Services, task: &Duty) -> Card {
    let ctx = minijinja::context! {
        year => task.campaign.as_ref().map(|c| c.year), account => &task.account_name,
        unit => &task.unit_name, register_number => &task.account, deadline => &task.deadline,
    };
    let row = |label: &str, value: &str| CardRow {
        label: label.to_owned(),
        value: value.to_owned(),
        member: None,
    };
    let labels = s.scripts.render(&tpl::campaign("task_card_rows"), &ctx);
    let mut labels = labels.split('|');
    let mut next = || labels.next().unwrap_or_default().trim().to_owned();
    let rows = vec![
        row(&next(), &task.unit_name),
        row(
            &next(),
            &format!("{}（{}）", task.account_name, task.account),
        ),
        row(&next(), &task.deadline),
    ];
    Card {
        source: say(s, "task_card_description", ctx.clone()),
        title: say(s, "task_card_title", ctx.clone()),
        title_note: task.account_name.clone(),
        note: None,
        rows,
        task_id: format!("{}-fill", task.number),
        buttons: vec![CardButton {
            text: say(s, "task_button", ctx),
            key: format!("{FILL}:{}", task.number),
            primary: true,
        }],
        link: None,
    }
}

/// Ends the waiting tasks of accounts closed (or being closed) since the campaign opened: they
/// drop out of the campaign and are no longer chased.
async fn drop_closed(s: &Services, d: &mut Draft, year: i32) -> Result<(), DispatchError> {
    for number in s.store.cases_in(&annual::waiting_index(year)).await? {
        let Some((mut task, version)) = results::task(&*s.store, &number).await? else {
            continue;
        };
        let gone = results::entry(&*s.store, &task.account)
            .await?
            .is_none_or(|e| e.account_status == AccountStatus::Closed);
        if task.done || !gone {
            continue;
        }
        task.done = true;
        super::end_chase(d, &mut task, version, year);
    }
    Ok(())
}
