//! A task's chase and views: the reminder before the deadline (one message per administrator
//! with the accounts they have not answered for), the digests at the deadline (per unit to its
//! group — the `[groups]` entry named by the unit's id — and the whole list to the department's
//! group and to who asked; built like the duty digests), `转发 进度` and `导出 转发`.

use super::{load, load_or_say, save, say};
use crate::dispatch::{DispatchError, Draft, Services};
use crate::domain::records::export::{Export, What};
use crate::domain::reminders::digest::{self, DigestItem};
use crate::domain::reply::{DeskPage, Reply};
use crate::domain::reposts::coverage::{self, Tally};
use crate::domain::reposts::{Target, Task};
use crate::process::change_report::duties::ROBOT_MARKDOWN_BYTES;

/// A task's timer fired: 0 the reminder, 1 the deadline.
pub(super) async fn fired(
    s: &Services,
    d: &mut Draft,
    number: &str,
    stage: u8,
    _now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((mut task, version)) = load(s, number).await? else {
        return Ok(());
    };
    if task.closed {
        return Ok(());
    }
    if stage == 0 {
        remind(s, d, &task);
        return Ok(());
    }
    task.closed = true;
    save(d, &task, version);
    digests(s, d, &task);
    Ok(())
}

fn remind(s: &Services, d: &mut Draft, task: &Task) {
    let mut admins: Vec<(&str, Vec<&str>)> = Vec::new();
    for t in coverage::stragglers(task) {
        match admins.iter_mut().find(|(a, _)| *a == t.admin) {
            Some((_, accounts)) => accounts.push(&t.account_name),
            None => admins.push((&t.admin, vec![&t.account_name])),
        }
    }
    for (admin, accounts) in admins {
        let ctx = minijinja::context! {
            number => &task.number, deadline => &task.deadline, accounts => accounts.join("、"),
        };
        d.say(admin, say(s, "reminder", ctx));
    }
}

fn tally(t: &Tally) -> minijinja::Value {
    minijinja::context! {
        label => &t.label, total => t.total, done => t.done, unable => t.unable,
        pending => t.pending, percent => t.percent(),
    }
}

fn item(s: &Services, t: &Target) -> DigestItem {
    let ctx = minijinja::context! {
        account => &t.account_name, platform => &t.platform, admin => &t.admin_name,
        unit => &t.unit_name,
    };
    DigestItem {
        unit: t.unit_name.clone(),
        line: say(s, "digest_item", ctx),
        mention: vec![t.admin.clone()],
    }
}

fn digests(s: &Services, d: &mut Draft, task: &Task) {
    let ctx = minijinja::context! {
        number => &task.number, deadline => &task.deadline,
        total => tally(&coverage::coverage(task).total),
    };
    let stragglers: Vec<&Target> = coverage::stragglers(task).collect();
    if stragglers.is_empty() {
        d.say(&task.by, say(s, "all_done", ctx));
        return;
    }
    let heading = |unit: &str| say(s, "digest_unit", minijinja::context! { unit });
    let mut units: Vec<&str> = Vec::new();
    for t in &stragglers {
        if !units.contains(&t.unit.as_str()) {
            units.push(&t.unit);
        }
    }
    let header = say(s, "digest_header", ctx.clone());
    for unit in units {
        if !s.scripts.groups.contains_key(unit) {
            continue;
        }
        let items: Vec<DigestItem> = stragglers
            .iter()
            .filter(|t| t.unit == unit)
            .map(|t| item(s, t))
            .collect();
        for part in digest::build(&header, heading, &items, ROBOT_MARKDOWN_BYTES) {
            d.send(Reply::Group {
                group: unit.to_owned(),
                markdown: part.content,
                mentions: part.mention,
                link: Some(DeskPage::Reposts),
            });
        }
    }
    let items: Vec<DigestItem> = stragglers.iter().map(|t| item(s, t)).collect();
    let header = say(s, "department_header", ctx);
    for part in digest::build(&header, heading, &items, ROBOT_MARKDOWN_BYTES) {
        d.say(&task.by, part.content.clone());
        if let Some(group) = s
            .scripts
            .reposts
            .as_ref()
            .and_then(|r| r.department_group.clone())
        {
            d.send(Reply::Group {
                group,
                markdown: part.content,
                mentions: part.mention,
                link: Some(DeskPage::Reposts),
            });
        }
    }
}

/// `转发 进度 ZF-…`: the coverage per unit and platform.
pub(super) async fn progress(
    s: &Services,
    d: &mut Draft,
    number: &str,
) -> Result<(), DispatchError> {
    let Some((task, _)) = load_or_say(s, d, number).await? else {
        return Ok(());
    };
    let c = coverage::coverage(&task);
    let ctx = minijinja::context! {
        number, deadline => &task.deadline, total => tally(&c.total),
        units => c.by_unit.iter().map(tally).collect::<Vec<_>>(),
        platforms => c.by_platform.iter().map(tally).collect::<Vec<_>>(),
    };
    d.reply_about(say(s, "progress", ctx), DeskPage::Reposts);
    Ok(())
}

/// `导出 转发 ZF-…`: the task's sheet as a file.
pub(super) async fn export(s: &Services, d: &mut Draft, number: &str) -> Result<(), DispatchError> {
    if load_or_say(s, d, number).await?.is_none() {
        return Ok(());
    }
    d.reply(say(s, "export_started", minijinja::context! { number }));
    d.send(Reply::File {
        to: d.user.clone(),
        export: Export {
            what: What::Reposts,
            units: None,
            year: None,
            task: Some(number.to_owned()),
        },
    });
    Ok(())
}
