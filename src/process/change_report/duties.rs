//! Duties: a contact change that removes an account's administrator or supervising leader
//! opens a change-report duty for the account's unit (policy 5.1 note 3); its ladder's timers
//! nudge the people due, the unit's leaders and, in a group digest with @mentions, the
//! propaganda department; confirming the change report closes it and cancels its timers.
//! [`start`] and the `Rung`/`Digest` handlers are generic over the duty's kind: a closure the
//! department orders (`process::deregistration::order`) is chased by the same machinery.

use chrono::{DateTime, Utc};

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::ContactChange;
use crate::base::scripts::ladders::Recipient;
use crate::base::scripts::{DutyDef, tpl};
use crate::dispatch::event::TimerJob;
use crate::dispatch::numbers;
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::engine::Answer;
use crate::domain::records::{self, Case};
use crate::domain::reminders;
use crate::domain::reminders::digest::{self, DigestItem};
use crate::domain::reminders::duty::{self, Duty};
use crate::domain::reply::{DeskPage, Reply};

/// The duty kind a departed administrator or leader opens.
const CHANGE_REPORT: &str = "change_report";
/// WeCom's limit for a robot's markdown message (4096 bytes), less room for the `<@userid>`
/// mentions the client appends.
pub(crate) const ROBOT_MARKDOWN_BYTES: usize = 4096 - 512;

/// A moment as stored: milliseconds since the epoch.
pub(crate) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn day(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A `change_contact` event: who left or moved, and which registered accounts name them.
pub(crate) async fn contact_change(
    s: &Services,
    draft: &mut Draft,
    change: &ContactChange,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let (userid, departments, event) = match change {
        ContactChange::DeleteUser { user_id } => (user_id.clone(), Vec::new(), "left"),
        ContactChange::UpdateUser(fields) if !fields.departments.is_empty() => {
            (fields.user_id.clone(), fields.departments.clone(), "moved")
        }
        _ => return Ok(()),
    };
    let Some(def) = s.scripts.duties.get(CHANGE_REPORT).cloned() else {
        return Ok(());
    };
    for number in s.store.cases_in(records::REGISTER).await? {
        let Some(loaded) = s.load_case(&number).await? else {
            continue;
        };
        let account = loaded.case;
        // A move counts only when the account's unit is a WeCom department the person left.
        let left_unit = event == "left"
            || account
                .unit
                .parse::<u64>()
                .is_ok_and(|unit| !departments.contains(&unit));
        for role in ["admin", "leader"] {
            let named = matches!(account.answers.get(role), Some(Answer::Member { userid: u, .. }) if *u == userid);
            if named && left_unit {
                open_duty(s, draft, &def, &account, role, event, now_ms).await?;
                break;
            }
        }
    }
    Ok(())
}

pub(crate) async fn open_duty(
    s: &Services,
    draft: &mut Draft,
    def: &DutyDef,
    account: &Case,
    role: &str,
    event: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(register_number) = account.register_number.clone() else {
        return Ok(());
    };
    if !s
        .store
        .cases_in(&duty::open_index(&register_number))
        .await?
        .is_empty()
    {
        return Ok(()); // already being chased
    }
    let person = match account.answers.get(role) {
        Some(Answer::Member { name, .. }) => name.clone(),
        _ => String::new(),
    };
    let duty = Duty {
        number: String::new(),
        kind: CHANGE_REPORT.into(),
        unit: account.unit.clone(),
        unit_name: account.unit_name.clone(),
        account: register_number.clone(),
        account_name: account_name(s, account),
        person,
        role: role.into(),
        event: event.into(),
        due: s.directory.leaders_of(&account.unit).await?,
        deadline: String::new(),
        opened_at_ms: now_ms,
        done: false,
        timers: Vec::new(),
        ordered_by: None,
        evidence: None,
        campaign: None,
    };
    let open = vec![duty::open_index(&register_number)];
    start(s, draft, def, duty, open, now_ms).await?;
    Ok(())
}

/// Opens `duty`: the people due are told (`opened`), its ladder's timers are scheduled, and it
/// is written (as new: a second opening of the same number conflicts) with the indexes `open`
/// that find it. Its number and deadline are given here (a new `RW-` number, `def.working_days`
/// from today) unless the duty comes with them (a campaign's task). Returns it as written.
pub(crate) async fn start(
    s: &Services,
    draft: &mut Draft,
    def: &DutyDef,
    mut duty: Duty,
    open: Vec<String>,
    now_ms: i64,
) -> Result<Duty, DispatchError> {
    let now = s.clock.at(now_ms);
    let deadline = match chrono::NaiveDate::parse_from_str(&duty.deadline, "%Y-%m-%d") {
        Ok(given) => given,
        Err(_) => {
            let n = def.working_days as i32;
            s.scripts.calendar.add_working_days(now.today, n).date
        }
    };
    if duty.number.is_empty() {
        duty.number = numbers::next(&*s.store, duty::DUTY_PREFIX, now).await?;
    }
    let number = duty.number.clone();
    duty.deadline = day(deadline);
    tracing::info!(duty = %number, kind = %duty.kind, account = %duty.account, "duty opened");
    // An empty `opened` says nothing (the process that opens the duty says it itself).
    let opened = duty_text(s, &duty, "opened", false);
    for person in duty.due.iter().filter(|_| !opened.trim().is_empty()) {
        draft.say(person, opened.clone());
    }
    let mut add_to = open;
    add_to.push(duty::ALL_DUTIES.to_owned());
    for (rung, at) in reminders::plan(
        &s.scripts.calendar,
        &s.scripts.working_hours,
        &def.ladder,
        deadline,
        now.instant(),
    ) {
        let has_group = |g: &str| s.scripts.groups.contains_key(g);
        match def.ladder.rungs[rung].group_for(&duty.unit, has_group) {
            Some(group) => {
                add_to.push(duty::digest_index(group, ms(at)));
                draft.schedule(
                    duty::digest_timer_id(group, ms(at)),
                    ms(at),
                    &TimerJob::Digest {
                        group: group.to_owned(),
                        slot_ms: ms(at),
                    },
                );
            }
            None => {
                let id = duty::rung_timer_id(&number, rung, 0);
                duty.timers.push(id.clone());
                draft.schedule(
                    id,
                    ms(at),
                    &TimerJob::Rung {
                        duty: number.clone(),
                        rung,
                        occurrence: 0,
                    },
                );
            }
        }
    }
    draft.write_case(CaseWrite {
        number,
        expected_version: Some(0),
        body: Some(serde_json::to_string(&duty).expect("a duty serializes")),
        add_to,
        ..CaseWrite::default()
    });
    Ok(duty)
}

pub(crate) fn account_name(s: &Services, account: &Case) -> String {
    let Some(flow) = s.scripts.flows.get(&account.flow) else {
        return String::new();
    };
    let texts = crate::domain::records::Texts::new(&s.scripts, flow, account);
    account
        .answers
        .get("account_name")
        .map(|a| texts.answer(a))
        .unwrap_or_default()
}

pub(crate) fn duty_text(s: &Services, duty: &Duty, part: &str, overdue: bool) -> String {
    let vars = minijinja::context! {
        unit => &duty.unit_name, account => &duty.account_name, person => &duty.person,
        role => &duty.role, event => &duty.event, deadline => &duty.deadline, overdue => overdue,
        register_number => &duty.account, number => &duty.number,
    };
    s.scripts.render(&tpl::duty(&duty.kind, part), &vars)
}

pub(crate) async fn load_duty(
    s: &Services,
    number: &str,
) -> Result<Option<(Duty, u64)>, DispatchError> {
    s.load_body(number).await
}

pub(crate) async fn recipients(
    s: &Services,
    duty: &Duty,
    to: &[Recipient],
) -> Result<Vec<String>, DispatchError> {
    let mut people = Vec::new();
    for who in to {
        let found = match who {
            Recipient::Due => duty.due.clone(),
            Recipient::UnitLeader => s.directory.leaders_of(&duty.unit).await?,
            Recipient::Propaganda => s.directory.role_members("propaganda").await?,
        };
        for p in found {
            if !people.contains(&p) {
                people.push(p);
            }
        }
    }
    Ok(people)
}

pub(crate) fn overdue(s: &Services, duty: &Duty, now_ms: i64) -> bool {
    day(s.clock.at(now_ms).today) > duty.deadline
}

pub(crate) async fn rung(
    s: &Services,
    draft: &mut Draft,
    number: &str,
    rung: usize,
    occurrence: u32,
    due_ms: i64,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((mut duty, version)) = load_duty(s, number).await? else {
        return Ok(());
    };
    let Some(def) = s.scripts.duties.get(&duty.kind).cloned() else {
        return Ok(());
    };
    let Some(step) = def.ladder.rungs.get(rung) else {
        return Ok(());
    };
    if duty.done {
        return Ok(());
    }
    // After downtime several rungs can be due at once: only the latest one speaks.
    let superseded =
        chrono::NaiveDate::parse_from_str(&duty.deadline, "%Y-%m-%d").is_ok_and(|deadline| {
            def.ladder.rungs.iter().enumerate().any(|(j, other)| {
                let at = ms(reminders::fire_time(
                    &s.scripts.calendar,
                    &s.scripts.working_hours,
                    &def.ladder,
                    other,
                    deadline,
                ));
                j != rung && other.group.is_none() && at > due_ms && at <= now_ms
            })
        });
    if !superseded {
        let text = duty_text(s, &duty, "nudge", overdue(s, &duty, now_ms));
        for person in recipients(s, &duty, &step.to).await? {
            draft.say(&person, text.clone());
        }
    }
    duty.timers
        .retain(|t| *t != duty::rung_timer_id(number, rung, occurrence));
    let fired = s.clock.at(due_ms).instant();
    if let Some(next) =
        reminders::repeat_time(&s.scripts.calendar, &s.scripts.working_hours, step, fired)
    {
        let id = duty::rung_timer_id(number, rung, occurrence + 1);
        duty.timers.push(id.clone());
        draft.schedule(
            id,
            ms(next),
            &TimerJob::Rung {
                duty: number.to_owned(),
                rung,
                occurrence: occurrence + 1,
            },
        );
    }
    draft.write_case(CaseWrite {
        number: number.to_owned(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&duty).expect("a duty serializes")),
        ..CaseWrite::default()
    });
    Ok(())
}

/// Every open duty due in `group` now, as one digest per duty kind (split only past WeCom's
/// size limit).
pub(crate) async fn digest(
    s: &Services,
    draft: &mut Draft,
    group: &str,
    slot_ms: i64,
    now_ms: i64,
) -> Result<(), DispatchError> {
    // Items by duty kind, in first-seen order: each kind is its own digest (its own header).
    let mut items: Vec<(String, Vec<DigestItem>)> = Vec::new();
    for number in s
        .store
        .cases_in(&duty::digest_index(group, slot_ms))
        .await?
    {
        let Some((duty, _)) = load_duty(s, &number).await? else {
            continue;
        };
        if duty.done {
            continue;
        }
        let mut names = Vec::new();
        for p in &duty.due {
            names.push(s.name_of(p).await?);
        }
        let vars = minijinja::context! {
            unit => &duty.unit_name, account => &duty.account_name, deadline => &duty.deadline,
            names => names.join("、"), overdue => overdue(s, &duty, now_ms),
        };
        let item = DigestItem {
            unit: duty.unit_name.clone(),
            line: s
                .scripts
                .render(&tpl::duty(&duty.kind, "digest_item"), &vars),
            mention: duty.due.clone(),
        };
        match items.iter_mut().find(|(k, _)| *k == duty.kind) {
            Some((_, of_kind)) => of_kind.push(item),
            None => items.push((duty.kind.clone(), vec![item])),
        }
        // Repeating rungs of this group chase the duty again later (the rung of this slot:
        // the group's latest rung due by then, when a ladder has several in one group).
        if let Some(def) = s.scripts.duties.get(&duty.kind)
            && let Some(step) = group_rung(s, def, &duty, group, slot_ms)
        {
            let fired = s.clock.at(slot_ms).instant();
            if let Some(next) =
                reminders::repeat_time(&s.scripts.calendar, &s.scripts.working_hours, step, fired)
            {
                draft.write_case(CaseWrite {
                    number: duty.number.clone(),
                    add_to: vec![duty::digest_index(group, ms(next))],
                    ..CaseWrite::default()
                });
                draft.schedule(
                    duty::digest_timer_id(group, ms(next)),
                    ms(next),
                    &TimerJob::Digest {
                        group: group.to_owned(),
                        slot_ms: ms(next),
                    },
                );
            }
        }
    }
    for (kind, items) in &items {
        let header = s.scripts.render(
            &tpl::duty(kind, "digest_header"),
            &minijinja::Value::UNDEFINED,
        );
        let heading = |unit: &str| {
            s.scripts.render(
                &tpl::duty(kind, "digest_unit"),
                &minijinja::context! { unit => unit },
            )
        };
        for part in digest::build(&header, heading, items, ROBOT_MARKDOWN_BYTES) {
            draft.send(Reply::Group {
                group: group.to_owned(),
                markdown: part.content,
                mentions: part.mention,
                link: Some(DeskPage::Todo),
            });
        }
    }
    Ok(())
}

/// The rung of `group` a digest at `slot_ms` belongs to: the latest of the group's rungs due by
/// then (the first of them when the deadline does not read).
fn group_rung<'a>(
    s: &Services,
    def: &'a DutyDef,
    duty: &Duty,
    group: &str,
    slot_ms: i64,
) -> Option<&'a crate::base::scripts::ladders::Rung> {
    let has_group = |g: &str| s.scripts.groups.contains_key(g);
    let mut rungs = def
        .ladder
        .rungs
        .iter()
        .filter(|r| r.group_for(&duty.unit, has_group) == Some(group));
    let Ok(deadline) = chrono::NaiveDate::parse_from_str(&duty.deadline, "%Y-%m-%d") else {
        return rungs.next();
    };
    let at = |r| {
        let (cal, hours) = (&s.scripts.calendar, &s.scripts.working_hours);
        ms(reminders::fire_time(cal, hours, &def.ladder, r, deadline))
    };
    let first = rungs.clone().next();
    rungs
        .filter(|r| at(r) <= slot_ms)
        .max_by_key(|r| at(r))
        .or(first)
}

/// The open duty of an account, if one is being chased.
pub(crate) async fn open_duty_of(
    s: &Services,
    account: &str,
) -> Result<Option<Duty>, DispatchError> {
    for number in s.store.cases_in(&duty::open_index(account)).await? {
        if let Some((duty, _)) = load_duty(s, &number).await? {
            return Ok(Some(duty));
        }
    }
    Ok(None)
}

/// A confirmed change report of `account` that gives new values to `replaced` (entry field
/// ids) closes the account's open duty and cancels its timers — if it replaces the person the
/// duty is about (its role: `admin` or `leader`); otherwise the duty stays open.
pub(crate) async fn close_duty(
    s: &Services,
    draft: &mut Draft,
    account: &str,
    replaced: &[String],
) -> Result<(), DispatchError> {
    for number in s.store.cases_in(&duty::open_index(account)).await? {
        let Some((mut duty, version)) = load_duty(s, &number).await? else {
            continue;
        };
        if !replaced.contains(&duty.role) {
            tracing::info!(duty = %number, role = %duty.role, "the report does not replace the departed person; the duty stays open");
            continue;
        }
        duty.done = true;
        draft.commit.cancel_timers.append(&mut duty.timers);
        tracing::info!(duty = %number, "duty done");
        draft.write_case(CaseWrite {
            number: number.clone(),
            expected_version: Some(version),
            body: Some(serde_json::to_string(&duty).expect("a duty serializes")),
            remove_from: vec![duty::open_index(account)],
            ..CaseWrite::default()
        });
    }
    Ok(())
}
