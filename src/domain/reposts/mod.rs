//! Repost tasks across the account matrix (转发任务, policy 3.3.5): the department asks every
//! account in use (or some platforms or units) to repost a post by a deadline; each account's
//! administrator answers 已转发 (with the repost's link, optionally) or 无法转发 (with a reason).
//! What a task is, the command that opens it, which accounts it reaches ([`select`]) and how
//! far it got ([`coverage`]). The work circle, the administrators' group chat, is [`circle`].
//! Pure: the process (`process::reposts`) loads the register and the clock.

pub mod circle;
pub mod coverage;
pub mod sheet;

use serde::{Deserialize, Serialize};

use crate::base::normalize;

pub use coverage::{Coverage, Tally};

/// The prefix of task numbers: 转发.
pub const TASK_PREFIX: &str = "ZF";
/// The index of every task, in opening order.
pub const ALL_TASKS: &str = "reposts";

/// A repost task, stored like a case under its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub number: String,
    /// The post to repost.
    pub link: String,
    pub note: String,
    /// Who asked (a department member) and their name.
    pub by: String,
    pub by_name: String,
    /// The scope as typed (全部, or platforms and units).
    pub scope: String,
    pub created_at_ms: i64,
    pub deadline_ms: i64,
    /// The deadline as said (`2026-12-01 17:30`, company time).
    pub deadline: String,
    pub targets: Vec<Target>,
    /// Whether the digests after the deadline went out.
    #[serde(default)]
    pub closed: bool,
}

/// One account the task reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Its register number, name and platform.
    pub account: String,
    pub account_name: String,
    pub platform: String,
    pub unit: String,
    pub unit_name: String,
    /// Its administrator (userid) and their name.
    pub admin: String,
    pub admin_name: String,
    /// The card's task id.
    pub card: String,
    #[serde(default)]
    pub answer: Answer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at_ms: Option<i64>,
}

/// An administrator's answer for one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "a", rename_all = "snake_case")]
pub enum Answer {
    #[default]
    Pending,
    /// 已转发, with the repost's link when they gave it.
    Done {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// 无法转发, and why.
    Unable { reason: String },
}

impl Answer {
    /// Its `[reposts.messages] status_*` key.
    pub fn key(&self) -> &'static str {
        match self {
            Answer::Pending => "status_pending",
            Answer::Done { .. } => "status_done",
            Answer::Unable { .. } => "status_unable",
        }
    }
}

/// What an administrator's next text is, after a tap on a task's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRepost {
    pub task: String,
    pub account: String,
    /// `true`: the reason of 无法转发 (required); `false`: the link of a repost (optional).
    pub reason: bool,
    /// The tapped card's response code, to grey it out once answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<String>,
}

/// When a task is due: hours from now, or the end of a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Hours(u32),
    WorkingDays(u32),
}

/// Who must repost: every account in use, or those of these platforms or units (as typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Named(Vec<String>),
}

/// A text command of repost tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `转发任务 链接 时限 范围 说明`.
    Open {
        link: String,
        due: Due,
        scope: Scope,
        scope_text: String,
        note: String,
    },
    /// `转发 进度 ZF-…`.
    Progress { task: String },
    /// `导出 转发 ZF-…`.
    Export { task: String },
    /// The command word without what it needs.
    Usage,
}

/// Reads a text as a repost command; `None` when it is none.
pub fn parse(text: &str) -> Option<Command> {
    let text = normalize::normalize(text);
    let mut words = text.split_whitespace();
    let first = words.next()?;
    let number = |w: Option<&str>| w.map(|n| normalize::ascii(n).to_uppercase());
    match first {
        "转发任务" => Some(open(words.collect()).unwrap_or(Command::Usage)),
        "转发进度" => Some(progress(number(words.next()))),
        "转发" if words.clone().next() == Some("进度") => {
            words.next();
            Some(progress(number(words.next())))
        }
        "导出" if words.clone().next() == Some("转发") => {
            words.next();
            Some(match number(words.next()) {
                Some(task) if is_task(&task) => Command::Export { task },
                _ => Command::Usage,
            })
        }
        _ => None,
    }
}

fn is_task(number: &str) -> bool {
    number.starts_with(&format!("{TASK_PREFIX}-"))
}

fn progress(number: Option<String>) -> Command {
    match number {
        Some(task) if is_task(&task) => Command::Progress { task },
        _ => Command::Usage,
    }
}

fn open(words: Vec<&str>) -> Option<Command> {
    let [link, due, scope, note @ ..] = words.as_slice() else {
        return None;
    };
    if !(link.starts_with("http://") || link.starts_with("https://")) || note.is_empty() {
        return None;
    }
    let scope_text = (*scope).to_owned();
    let scope = if matches!(*scope, "全部" | "所有" | "全部账号") {
        Scope::All
    } else {
        Scope::Named(
            scope
                .split(['、', ',', '，', '/'])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    Some(Command::Open {
        link: (*link).to_owned(),
        due: due_of(due)?,
        scope,
        scope_text,
        note: note.join(" "),
    })
}

/// `24小时`, `3个工作日`, `2工作日`.
fn due_of(text: &str) -> Option<Due> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok().filter(|n| *n > 0)?;
    match &text[digits.len()..] {
        "小时" | "h" => Some(Due::Hours(n)),
        "个工作日" | "工作日" => Some(Due::WorkingDays(n)),
        _ => None,
    }
}

/// An account of the register as a task sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub register_number: String,
    pub name: String,
    pub platform: String,
    pub unit: String,
    pub unit_name: String,
    /// Its administrator (userid, name), if the register names one.
    pub admin: Option<(String, String)>,
    /// Whether it is in use (not closed).
    pub in_use: bool,
}

/// The accounts in use that `scope` reaches and that have an administrator; `Err` with the
/// names that are neither a platform nor a unit of the register.
pub fn select<'a>(accounts: &'a [Account], scope: &Scope) -> Result<Vec<&'a Account>, Vec<String>> {
    let in_use = accounts.iter().filter(|a| a.in_use && a.admin.is_some());
    let Scope::Named(names) = scope else {
        return Ok(in_use.collect());
    };
    let same = |a: &str, b: &str| normalize::key(a) == normalize::key(b);
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| {
            !accounts
                .iter()
                .any(|a| same(&a.platform, n) || same(&a.unit_name, n))
        })
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    Ok(in_use
        .filter(|a| {
            names
                .iter()
                .any(|n| same(&a.platform, n) || same(&a.unit_name, n))
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests;
