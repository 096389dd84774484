//! The annual review campaign (年审, policy 3.1.2): every account in use files an annual report
//! each year, its unit's leader approves it and the propaganda department reviews it. Only when
//! bot.toml has `[campaigns.annual_review]`; words, the report flow, the self-check items and
//! the chasing ladder (`[duties.annual_review]`) are in bot-scripts.
//!
//! - [`open`]: `年审 开始 2026` (department; confirmed) opens one task per account, idempotent;
//! - [`review`]: the report's filing hooks and the department's verdicts — 同意 on the
//!   department's approval card is 合格, 驳回 with what to fix is 需整改 (the administrator
//!   resubmits by `修改`), `年审 不合格 <编号> <理由>` fails it and orders the account closed;
//! - [`rectify`]: 需整改 marks the account 整改中 and chases the resubmission; 合格 ends it;
//! - [`reuse`]: a new report may reuse the answers of an earlier one (是/否);
//! - [`progress`]: `年审 进度`, `年审 结束`, `导出 年审`;
//! - [`schedule`]: opening by schedule (`opens_on`), a `CampaignOpen` timer;
//! - [`results`]: the store reads of a campaign's results (also for exports and assessments).
//!
//! A task is a duty of kind `annual_review`: its `Rung`/`Digest` timers are chased by the duty
//! machinery of [`crate::process::change_report::duties`].

pub mod open;
pub mod progress;
pub mod rectify;
pub mod results;
pub mod reuse;
pub mod review;
pub mod schedule;

use async_trait::async_trait;

use crate::adapters::store::CaseWrite;
use crate::adapters::wecom::message::CardEvent;
use crate::base::normalize;
use crate::base::scripts::{FlowDef, Words, tpl};
use crate::dispatch::event::TimerJob;
use crate::dispatch::{DispatchError, Draft, Handled, Process, Services};
use crate::domain::annual::commands::{self, Command};
use crate::domain::annual::{self};
use crate::domain::engine::{Answers, CommandInput, ConversationState};
use crate::domain::records::Case;
use crate::domain::reminders::duty::Duty;
use crate::domain::reply::{DeskPage, Reply};

/// The annual review process.
pub struct AnnualReview;

pub(crate) fn say(s: &Services, key: &str, ctx: minijinja::Value) -> String {
    s.scripts.render(&tpl::campaign(key), &ctx)
}

/// Whether the conversation's user is a member of the propaganda department; else they are
/// told that the command is the department's.
pub(crate) async fn department(s: &Services, d: &mut Draft) -> Result<bool, DispatchError> {
    let member = s
        .directory
        .role_members("propaganda")
        .await?
        .contains(&d.user);
    if !member {
        tracing::info!(user = %d.user, "campaign command refused: not the department");
        d.reply(say(s, "refused", minijinja::Value::UNDEFINED));
    }
    Ok(member)
}

/// A task stops being chased (its report came, its account closed, the campaign closed): its
/// timers are cancelled, it leaves the waiting index and is written with `version`.
pub(crate) fn end_chase(d: &mut Draft, task: &mut Duty, version: u64, year: i32) {
    task.done = true;
    d.commit.cancel_timers.append(&mut task.timers);
    d.write_case(CaseWrite {
        number: task.number.clone(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&task).expect("a duty serializes")),
        remove_from: vec![annual::waiting_index(year)],
        ..CaseWrite::default()
    });
}

#[async_trait]
impl Process for AnnualReview {
    fn name(&self) -> &'static str {
        "annual_review"
    }

    fn card_actions(&self) -> &'static [&'static str] {
        &[open::FILL]
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::CampaignOpen { .. })
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        _due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        match job {
            TimerJob::CampaignOpen { year } => schedule::fired(s, d, *year, now_ms).await,
            _ => Ok(()),
        }
    }

    fn owns_flow(&self, flow: &FlowDef) -> bool {
        flow.campaign
    }

    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        s.scripts.annual_review.as_ref()?;
        s.command_in_form(commands::parse(text)?.kind())
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        let Some(def) = s.scripts.annual_review.clone() else {
            return Ok(false);
        };
        if reuse::answer(s, d, text, now_ms).await? {
            return Ok(true);
        }
        if !d.conversation.form.is_idle() {
            return Ok(false);
        }
        if let Some(year) = d.conversation.annual_open.take() {
            let word = normalize::key(text);
            if Words::is(&s.scripts.words.confirm, &word) {
                if department(s, d).await? {
                    let by = d.user.clone();
                    let opened = open::open(s, d, &def, year, &by, now_ms).await?;
                    let Some((campaign, accounts, units)) = opened else {
                        let ctx = minijinja::context! { year, closed => true };
                        d.reply(say(s, "already_open", ctx));
                        return Ok(true);
                    };
                    if accounts == 0 {
                        let ctx = minijinja::context! { year, closed => false };
                        d.reply(say(s, "already_open", ctx));
                        return Ok(true);
                    }
                    let ctx = minijinja::context! {
                        year, accounts, units, deadline => campaign.deadline,
                    };
                    // Said first: before the messages to every administrator.
                    let to = d.user.clone();
                    let opened =
                        Reply::text_about(&to, say(s, "opened", ctx), DeskPage::Annual(year));
                    d.replies.insert(0, opened);
                }
                return Ok(true);
            }
            if Words::is(&s.scripts.words.cancel, &word) {
                d.reply(say(s, "open_cancelled", minijinja::context! { year }));
                return Ok(true);
            }
        }
        let Some(command) = commands::parse(text) else {
            return Ok(false);
        };
        match command {
            Command::Usage { example } => {
                d.reply(say(s, "usage", minijinja::context! { example }));
            }
            Command::Open { year } => {
                if department(s, d).await? {
                    open::ask(s, d, &def, year, now_ms).await?;
                }
            }
            Command::Progress { year } => progress::progress(s, d, year).await?,
            Command::Close { year } => progress::close(s, d, year, now_ms).await?,
            Command::Export { year } => progress::export(s, d, year).await?,
            Command::Fail { report, reason } => {
                review::fail(s, d, &def, &report, &reason, now_ms).await?;
            }
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
        review::fill(s, d, tap, now_ms).await
    }

    async fn refuse_filing(
        &self,
        s: &Services,
        _flow: &FlowDef,
        answers: &Answers,
        editing: Option<&str>,
    ) -> Result<Option<String>, DispatchError> {
        review::refusal(s, answers, editing).await
    }

    async fn on_filing(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &mut Case,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        review::filed(s, d, case).await
    }

    async fn on_form_step(
        &self,
        s: &Services,
        d: &mut Draft,
        flow: &FlowDef,
        before: &ConversationState,
        _now_ms: i64,
    ) -> Result<(), DispatchError> {
        reuse::offer(s, d, flow, before).await
    }

    async fn on_ended(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        review::sent_back(s, d, case, now_ms).await
    }

    async fn on_approved(
        &self,
        s: &Services,
        d: &mut Draft,
        _flow: &FlowDef,
        case: &Case,
        _approver: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        rectify::passed(s, d, case, now_ms).await
    }
}
