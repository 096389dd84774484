//! The repost tasks' spreadsheet (`flowbot export --what reposts`, `导出 转发 ZF-…`): one row per
//! account of each task, with its answer. Headers and answers are `[reposts.messages]` words.

use chrono_tz::Tz;

use super::{Answer, Task};
use crate::base::calendar::local_datetime;
use crate::base::scripts::{Scripts, tpl};
use crate::domain::records::export::{Cell, Table};

const COLUMNS: &[&str] = &[
    "column_task",
    "column_account",
    "column_unit",
    "column_platform",
    "column_admin",
    "column_status",
    "column_link",
    "column_reason",
    "column_answered_at",
];

/// The sheet of `tasks`.
pub fn table(scripts: &Scripts, tz: Tz, tasks: &[Task]) -> Table {
    let word = |key: &str| scripts.render(&tpl::reposts(key), &minijinja::Value::UNDEFINED);
    let text = |s: &str| Cell::Text(s.to_owned());
    let mut rows = Vec::new();
    for task in tasks {
        for t in &task.targets {
            let (link, reason) = match &t.answer {
                Answer::Done { link } => (link.clone().unwrap_or_default(), String::new()),
                Answer::Unable { reason } => (String::new(), reason.clone()),
                Answer::Pending => (String::new(), String::new()),
            };
            rows.push(vec![
                text(&task.number),
                text(&t.account_name),
                text(&t.unit_name),
                text(&t.platform),
                text(&t.admin_name),
                text(&word(t.answer.key())),
                text(&link),
                text(&reason),
                t.answered_at_ms
                    .map_or_else(|| text(""), |ms| Cell::Time(local_datetime(tz, ms))),
            ]);
        }
    }
    Table {
        sheet: word("sheet"),
        headers: COLUMNS.iter().map(|c| word(c)).collect(),
        rows,
    }
}
