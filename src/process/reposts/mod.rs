//! Repost tasks (转发任务, policy 3.3.5), when bot.toml has `[reposts]`: a member of the
//! propaganda department opens one with `转发任务 链接 时限 范围 说明` ([`open`]); every
//! administrator of an account in scope gets a card (已转发 / 无法转发, [`answer`]) and the work
//! circle an announcement with @mentions. Stragglers are reminded before the deadline, and at
//! the deadline each unit's group and the department get the list of accounts that did not
//! answer ([`chase`], with the duty digests' builder). `转发 进度 ZF-…` shows the coverage per
//! unit and platform, `导出 转发 ZF-…` sends it as a spreadsheet; [`coverage_by_unit`] gives
//! the coverage over every task to the assessment. Words: `[reposts.messages]` of bot.toml.

mod answer;
mod chase;
mod open;

use async_trait::async_trait;

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::CardEvent;
use crate::base::scripts::tpl;
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Handled, Process, Services};
use crate::domain::engine::CommandInput;
use crate::domain::reposts::{self, Command, Tally, Task};

/// Card button key prefixes: `repost_done:<task>/<account>`, `repost_unable:<task>/<account>`.
pub const DONE: &str = "repost_done";
pub const UNABLE: &str = "repost_unable";

/// The repost tasks process.
pub struct Reposts;

#[async_trait]
impl Process for Reposts {
    fn name(&self) -> &'static str {
        "reposts"
    }

    fn card_actions(&self) -> &'static [&'static str] {
        &[DONE, UNABLE]
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::Repost { .. })
    }

    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        s.scripts.reposts.as_ref()?;
        reposts::parse(text)?;
        s.command_in_form("reposts")
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        if s.scripts.reposts.is_none() {
            return Ok(false);
        }
        if let Some(pending) = d.conversation.awaiting_repost.clone() {
            return answer::pending_text(s, d, pending, text, now_ms).await;
        }
        if !d.conversation.form.is_idle() {
            return Ok(false);
        }
        let Some(command) = reposts::parse(text) else {
            return Ok(false);
        };
        if !s
            .directory
            .role_members("propaganda")
            .await?
            .contains(&d.user)
        {
            d.reply(say(s, "refused", minijinja::Value::UNDEFINED));
            return Ok(true);
        }
        match command {
            Command::Usage => d.reply(say(s, "usage", minijinja::context! { example => EXAMPLE })),
            Command::Open {
                link,
                due,
                scope,
                scope_text,
                note,
            } => {
                open::open(
                    s,
                    d,
                    open::Asked {
                        link,
                        due,
                        scope,
                        scope_text,
                        note,
                    },
                    now_ms,
                )
                .await?
            }
            Command::Progress { task } => chase::progress(s, d, &task).await?,
            Command::Export { task } => chase::export(s, d, &task).await?,
        }
        Ok(true)
    }

    async fn on_card(
        &self,
        s: &Services,
        d: &mut Draft,
        tap: &CardEvent,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        answer::tap(s, d, tap, now_ms).await
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        _due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        if let TimerJob::Repost { task, stage } = job {
            chase::fired(s, d, task, *stage, now_ms).await?;
        }
        Ok(())
    }
}

const EXAMPLE: &str =
    "转发任务 https://mp.weixin.qq.com/s/abc 24小时 全部 请各账号转发公司年度工作会议报道";

pub(crate) fn say(s: &Services, key: &str, ctx: minijinja::Value) -> String {
    s.scripts.render(&tpl::reposts(key), &ctx)
}

/// A task with its version; `None` when there is no such task.
pub(crate) async fn load(s: &Services, number: &str) -> Result<Option<(Task, u64)>, DispatchError> {
    s.load_body(number).await
}

/// The task of `number`, or the user is told it is unknown.
pub(crate) async fn load_or_say(
    s: &Services,
    d: &mut Draft,
    number: &str,
) -> Result<Option<(Task, u64)>, DispatchError> {
    let found = load(s, number).await?;
    if found.is_none() {
        d.reply(say(s, "unknown_task", minijinja::context! { number }));
    }
    Ok(found)
}

/// The task's new body, written at the version it was read at.
pub(crate) fn save(d: &mut Draft, task: &Task, version: u64) {
    d.write_case(CaseWrite {
        number: task.number.clone(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(task).expect("a task serializes")),
        ..CaseWrite::default()
    });
}

/// Every task in opening order.
pub async fn all_tasks(s: &Services) -> Result<Vec<Task>, DispatchError> {
    let mut tasks = Vec::new();
    for number in s.store.cases_in(reposts::ALL_TASKS).await? {
        if let Some((task, _)) = load(s, &number).await? {
            tasks.push(task);
        }
    }
    Ok(tasks)
}

/// The coverage of every repost task per unit (by unit id): what the assessment counts.
pub async fn coverage_by_unit(
    s: &Services,
) -> Result<std::collections::BTreeMap<String, Tally>, DispatchError> {
    Ok(reposts::coverage::by_unit(&all_tasks(s).await?))
}
