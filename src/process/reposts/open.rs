//! `转发任务 链接 时限 范围 说明`: a task is numbered, reaches the administrators of the accounts
//! in scope (one card per account), is announced in the work circle, and its chase is scheduled
//! (a reminder `remind_before_hours` before the deadline, the digests at it; both moved into
//! working hours).

use chrono::{DateTime, Utc};
use rand::Rng;

use super::{DONE, UNABLE, say};
use crate::adapters::store::CaseWrite;
use crate::dispatch::WORK_CIRCLE;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Services, numbers};
use crate::domain::engine::Answer as FormAnswer;
use crate::domain::records::{self, AccountStatus, Texts};
use crate::domain::reminders;
use crate::domain::reply::{Card, CardButton, CardRow, Reply};
use crate::domain::reposts::{self, Account, Answer, Due, Scope, Target, Task};
use crate::process::change_report::duties;

/// What the department member asked for.
pub(super) struct Asked {
    pub link: String,
    pub due: Due,
    pub scope: Scope,
    pub scope_text: String,
    pub note: String,
}

/// The accounts of the register as a task sees them.
async fn accounts(s: &Services) -> Result<Vec<Account>, DispatchError> {
    let mut accounts = Vec::new();
    for number in s.store.cases_in(records::REGISTER).await? {
        let Some(entry) = s.load_case(&number).await? else {
            continue;
        };
        let case = entry.case;
        let (Some(register_number), Some(flow)) = (
            case.register_number.clone(),
            s.scripts.flows.get(&case.flow),
        ) else {
            continue;
        };
        let texts = Texts::new(&s.scripts, flow, &case);
        let platform = case
            .answers
            .get("platform")
            .map(|a| texts.answer(a))
            .unwrap_or_default();
        let admin = match case.answers.get("admin") {
            Some(FormAnswer::Member { userid, name }) => Some((userid.clone(), name.clone())),
            _ => None,
        };
        accounts.push(Account {
            register_number,
            name: duties::account_name(s, &case),
            platform,
            unit: case.unit.clone(),
            unit_name: case.unit_name.clone(),
            admin,
            in_use: case.account_status != AccountStatus::Closed,
        });
    }
    Ok(accounts)
}

/// When a task asked now is due.
fn deadline_ms(s: &Services, due: Due, now_ms: i64) -> i64 {
    match due {
        Due::Hours(h) => now_ms + i64::from(h) * 3_600_000,
        Due::WorkingDays(n) => {
            let cal = &s.scripts.calendar;
            let day = cal
                .add_working_days(s.clock.at(now_ms).today, n as i32)
                .date;
            reminders::deadline_moment(cal, &s.scripts.working_hours, day).timestamp_millis()
        }
    }
}

/// `at`, or the next working time after it when it falls outside working hours.
fn working(s: &Services, at_ms: i64) -> i64 {
    let at = DateTime::<Utc>::from_timestamp_millis(at_ms).unwrap_or_default();
    s.scripts
        .calendar
        .next_working_time(&at, &s.scripts.working_hours)
        .at
        .timestamp_millis()
}

pub(super) async fn open(
    s: &Services,
    d: &mut Draft,
    asked: Asked,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(def) = s.scripts.reposts.clone() else {
        return Ok(());
    };
    let accounts = accounts(s).await?;
    let reached = match reposts::select(&accounts, &asked.scope) {
        Ok(reached) => reached,
        Err(unknown) => {
            let ctx = minijinja::context! { names => unknown.join("、") };
            d.reply(say(s, "unknown_scope", ctx));
            return Ok(());
        }
    };
    if reached.is_empty() {
        let ctx = minijinja::context! { scope => &asked.scope_text };
        d.reply(say(s, "no_targets", ctx));
        return Ok(());
    }
    let number = numbers::next(&*s.store, reposts::TASK_PREFIX, s.clock.at(now_ms)).await?;
    let deadline_ms = deadline_ms(s, asked.due, now_ms);
    let targets = reached
        .iter()
        .map(|a| {
            let (admin, admin_name) = a.admin.clone().unwrap_or_default();
            let nonce: u64 = rand::thread_rng().r#gen();
            Target {
                account: a.register_number.clone(),
                account_name: a.name.clone(),
                platform: a.platform.clone(),
                unit: a.unit.clone(),
                unit_name: a.unit_name.clone(),
                admin,
                admin_name,
                card: format!("{number}_{}_{nonce:016x}", a.register_number),
                answer: Answer::Pending,
                answered_at_ms: None,
            }
        })
        .collect();
    let task = Task {
        number: number.clone(),
        link: asked.link,
        note: asked.note,
        by: d.user.clone(),
        by_name: s.name_of(&d.user).await?,
        scope: asked.scope_text,
        created_at_ms: now_ms,
        deadline_ms,
        deadline: s.local_time(deadline_ms),
        targets,
        closed: false,
    };
    tracing::info!(task = %number, accounts = task.targets.len(), "repost task opened");
    for target in &task.targets {
        d.send(Reply::Card {
            to: vec![target.admin.clone()],
            card: card(s, &task, target),
        });
    }
    let ctx = minijinja::context! {
        number => &number, link => &task.link, note => &task.note, deadline => &task.deadline,
        count => task.targets.len(), by => &task.by_name,
    };
    if s.scripts.work_circle.is_some() {
        let mut admins: Vec<String> = Vec::new();
        for t in &task.targets {
            if !admins.contains(&t.admin) {
                admins.push(t.admin.clone());
            }
        }
        d.send(Reply::Group {
            group: WORK_CIRCLE.to_owned(),
            markdown: say(s, "announcement", ctx.clone()),
            mentions: admins,
            link: None,
        });
    }
    d.reply(say(s, "created", ctx));
    let remind_ms = deadline_ms - i64::from(def.remind_before_hours) * 3_600_000;
    if remind_ms > now_ms {
        let at = Some(working(s, remind_ms)).filter(|at| *at < deadline_ms);
        schedule(d, &number, 0, at.unwrap_or(remind_ms));
    }
    schedule(d, &number, 1, working(s, deadline_ms));
    d.write_case(CaseWrite {
        number: number.clone(),
        expected_version: Some(0),
        body: Some(serde_json::to_string(&task).expect("a task serializes")),
        add_to: vec![reposts::ALL_TASKS.to_owned()],
        ..CaseWrite::default()
    });
    Ok(())
}

fn schedule(d: &mut Draft, number: &str, stage: u8, at_ms: i64) {
    let job = TimerJob::Repost {
        task: number.to_owned(),
        stage,
    };
    d.schedule(format!("repost-{number}-{stage}"), at_ms, &job);
}

/// The card of one account of a task, to its administrator.
fn card(s: &Services, task: &Task, target: &Target) -> Card {
    let ctx = minijinja::context! {
        number => &task.number, deadline => &task.deadline, account => &target.account_name,
    };
    let text = |key: &str| say(s, key, ctx.clone());
    let row = |label: &str, value: String| CardRow {
        label: text(label),
        value,
        member: None,
    };
    let key = |action: &str| format!("{action}:{}/{}", task.number, target.account);
    Card {
        source: text("card_title"),
        title: text("card_title"),
        title_note: text("card_description"),
        note: Some(format!("{}\n{}", task.note, task.link)),
        rows: vec![
            row("card_row_task", task.note.clone()),
            row("card_row_account", target.account_name.clone()),
            row("card_row_deadline", task.deadline.clone()),
        ],
        task_id: target.card.clone(),
        buttons: vec![
            CardButton {
                text: text("button_done"),
                key: key(DONE),
                primary: true,
            },
            CardButton {
                text: text("button_unable"),
                key: key(UNABLE),
                primary: false,
            },
        ],
        link: None,
    }
}
