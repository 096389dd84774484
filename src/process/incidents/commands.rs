//! The incident commands after the report: `舆情 列表` (the department: open incidents with
//! their age and who has them), `口径`/`处置要求 <编号> <内容>` (the department's instruction to
//! the unit, in one step), `处置 <编号> <内容>` (the reporter or the unit's leader says what was
//! done) and `办结 <编号>` (the department closes it; the ladder, if still running, stops).

use minijinja::context;

use super::escalation::{recipients, timer_id};
use super::{in_department, is_incident_number, load, say, settings, write};
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::incidents::{self, Command, Incident};
use crate::domain::reply::DeskPage;

/// Runs an incident command other than the start.
pub(super) async fn run(
    s: &Services,
    d: &mut Draft,
    command: Command,
    now_ms: i64,
) -> Result<(), DispatchError> {
    match command {
        Command::Start => {}
        Command::Usage => {
            let text = say(s, "usage", &context! {});
            d.reply(text);
        }
        Command::List => list(s, d, now_ms).await?,
        Command::Instruct { number, text } => instruct(s, d, &number, &text, now_ms).await?,
        Command::Report { number, text } => report(s, d, &number, &text, now_ms).await?,
        Command::Close { number } => close(s, d, &number, now_ms).await?,
    }
    Ok(())
}

/// The incident `number`, or the user is told it is unknown.
async fn find(
    s: &Services,
    d: &mut Draft,
    number: &str,
) -> Result<Option<(Incident, u64)>, DispatchError> {
    let found = match is_incident_number(s, number) {
        true => load(s, number).await?,
        false => None,
    };
    if found.is_none() {
        let text = say(s, "unknown", &context! { number => number });
        d.reply(text);
    }
    Ok(found)
}

/// Refuses a department-only command to anyone else; `true` when refused.
async fn refused(s: &Services, d: &mut Draft) -> Result<bool, DispatchError> {
    if in_department(s, &d.user).await? {
        return Ok(false);
    }
    let text = say(s, "refused", &context! {});
    d.reply(text);
    Ok(true)
}

async fn list(s: &Services, d: &mut Draft, now_ms: i64) -> Result<(), DispatchError> {
    if refused(s, d).await? {
        return Ok(());
    }
    let mut items = Vec::new();
    for number in s.store.cases_in(incidents::OPEN).await? {
        let Some((incident, _)) = load(s, &number).await? else {
            continue;
        };
        let holder = match &incident.acknowledged_by {
            Some(userid) => s.name_of(userid).await?,
            None => String::new(),
        };
        items.push(say(
            s,
            "list_item",
            &context! {
                number => &incident.number,
                unit => &incident.unit_name,
                account => &incident.account,
                minutes => (now_ms - incident.reported_ms) / 60_000,
                holder => holder,
                status => incident.status.name(),
            },
        ));
    }
    match items.is_empty() {
        true => d.reply(say(s, "list_empty", &context! {})),
        false => {
            let ctx = context! { count => items.len(), items => items.join("\n") };
            d.reply_about(say(s, "list", &ctx), DeskPage::Incidents);
        }
    }
    Ok(())
}

async fn instruct(
    s: &Services,
    d: &mut Draft,
    number: &str,
    text: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if refused(s, d).await? {
        return Ok(());
    }
    let Some((incident, version)) = find(s, d, number).await? else {
        return Ok(());
    };
    let name = s.name_of(&d.user).await?;
    let ctx = context! { number => number, text => text, name => &name, unit => &incident.unit_name, account => &incident.account };
    let mut to = recipients(s, &incident, &["unit_leader".to_owned()]).await?;
    to.push(incident.reporter.clone());
    to.sort();
    to.dedup();
    for member in &to {
        d.say(member, say(s, "instruction", &ctx));
    }
    let line = say(s, "instruction", &ctx);
    write(d, &incident, version, &d.user.clone(), line, now_ms);
    d.reply(say(s, "instruction_sent", &ctx));
    Ok(())
}

async fn report(
    s: &Services,
    d: &mut Draft,
    number: &str,
    text: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((incident, version)) = find(s, d, number).await? else {
        return Ok(());
    };
    let leaders = recipients(s, &incident, &["unit_leader".to_owned()]).await?;
    if d.user != incident.reporter && !leaders.contains(&d.user) {
        let text = say(s, "refused", &context! {});
        d.reply(text);
        return Ok(());
    }
    let Some(cfg) = settings(s) else {
        return Ok(());
    };
    let name = s.name_of(&d.user).await?;
    let ctx = context! { number => number, text => text, name => &name, unit => &incident.unit_name, account => &incident.account };
    for member in s.directory.role_members(&cfg.department_role).await? {
        d.say(&member, say(s, "report", &ctx));
    }
    let line = say(s, "report", &ctx);
    write(d, &incident, version, &d.user.clone(), line, now_ms);
    d.reply(say(s, "report_sent", &ctx));
    Ok(())
}

async fn close(
    s: &Services,
    d: &mut Draft,
    number: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if refused(s, d).await? {
        return Ok(());
    }
    let Some((mut incident, version)) = find(s, d, number).await? else {
        return Ok(());
    };
    let name = s.name_of(&d.user).await?;
    if !incident.close(&d.user, now_ms) {
        let text = say(
            s,
            "already",
            &context! { status => incident.status.name(), number => number },
        );
        d.reply(text);
        return Ok(());
    }
    let rungs = settings(s).map_or(0, |c| c.rungs.len());
    d.commit
        .cancel_timers
        .extend((0..rungs).map(|r| timer_id(number, r)));
    let ctx = context! {
        number => number,
        name => &name,
        unit => &incident.unit_name,
        account => &incident.account,
        minutes_to_acknowledge => incident.minutes_to_acknowledge(),
        minutes_to_close => incident.minutes_to_close(),
    };
    d.say(&incident.reporter.clone(), say(s, "closed", &ctx));
    let line = say(s, "closed", &ctx);
    write(d, &incident, version, &d.user.clone(), line, now_ms);
    d.reply(say(s, "closed_done", &ctx));
    Ok(())
}
