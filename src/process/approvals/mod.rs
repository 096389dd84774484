//! The approvals process (policy 3.1.1): the chain every filed case goes through. It owns the
//! card actions 同意 / 驳回, the rejection reason typed in chat, the text commands
//! ([`commands`]: `同意`, `驳回`, `撤回`, `催办`, `修改 <编号>`, `状态`, `我的`, `待办`) and the
//! timers that chase overdue steps ([`steps`]). Each decision is checked against the stored case
//! and written with the version it read; what a final approval means is left to the process
//! that owns the case's flow ([`Process::on_approved`]).

pub mod commands;
pub mod steps;

use crate::base::log_safe::log_safe;
use async_trait::async_trait;

use crate::adapters::wecom::message::CardEvent;
use crate::base::normalize;
use crate::base::scripts::{FlowDef, tpl};
use crate::dispatch::event::TimerJob;
use crate::dispatch::numbers;
use crate::dispatch::{
    CaseWrites, DispatchError, Draft, Handled, LoadedCase, PendingReject, Process, Services,
};
use crate::domain::approval::card;
use crate::domain::approval::chain::{self, Refusal, Verdict, Via};
use crate::domain::engine::CommandInput;
use crate::domain::records::Texts;
use crate::domain::records::{self, Case, CaseStatus};
use crate::domain::reply::Reply;

/// The approvals process.
pub struct Approvals;

#[async_trait]
impl Process for Approvals {
    fn name(&self) -> &'static str {
        "approvals"
    }

    fn card_actions(&self) -> &'static [&'static str] {
        &[card::APPROVE, card::REJECT, card::REFUSE, card::DETAILS]
    }

    fn owns_timer(&self, job: &TimerJob) -> bool {
        matches!(job, TimerJob::ApprovalDue { .. })
    }

    fn command_in_form(&self, _s: &Services, text: &str) -> Option<CommandInput> {
        crate::domain::approval::commands::in_form(text)
    }

    /// A rejection reason when one is awaited; else a command when no form is being filled.
    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        if d.conversation.awaiting_reason.is_some() {
            reason(s, d, text, now_ms).await?;
            return Ok(true);
        }
        if !d.conversation.form.is_idle() {
            return Ok(false);
        }
        commands::command(s, d, text, now_ms).await
    }

    async fn on_card(
        &self,
        s: &Services,
        d: &mut Draft,
        tap: &CardEvent,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        card_tap(s, d, tap, now_ms).await
    }

    async fn on_timer(
        &self,
        s: &Services,
        d: &mut Draft,
        job: &TimerJob,
        _due_ms: i64,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        if let TimerJob::ApprovalDue {
            case,
            round,
            step,
            occurrence,
        } = job
        {
            steps::approval_due(s, d, case, (*round, *step, *occurrence), now_ms).await?;
        }
        Ok(())
    }
}

/// A tap on an approval card.
pub(crate) async fn card_tap(
    s: &Services,
    draft: &mut Draft,
    tap: &CardEvent,
    now_ms: i64,
) -> Result<(), DispatchError> {
    if let Some(number) = tap
        .event_key
        .strip_prefix(card::DETAILS)
        .and_then(|rest| rest.strip_prefix(':'))
    {
        return commands::details(s, draft, number).await;
    }
    let Some((verdict, number)) = card::parse_key(&tap.event_key) else {
        tracing::warn!(key = %log_safe(&tap.event_key), "card tap with an unknown key refused");
        draft.reply(generic(s, "card_expired"));
        return Ok(());
    };
    let via = Via::Card {
        task_id: tap.task_id.clone(),
        response_code: tap.response_code.clone(),
    };
    if verdict == Verdict::Approve {
        return decide(s, draft, number, Verdict::Approve, None, via, now_ms).await;
    }
    // 驳回 or 不得发布: ask for the reason first (if the tapper may decide at all).
    let Some((loaded, flow)) = case_for(s, draft, number).await? else {
        return Ok(());
    };
    let offered = flow.refusable || verdict != Verdict::Refuse;
    let allowed = if offered {
        chain::check(flow, &loaded.case, &draft.user, &via)
    } else {
        Err(Refusal::CardExpired)
    };
    if let Err(refusal) = allowed {
        refuse(s, draft, &loaded.case, &refusal, &via);
        return Ok(());
    }
    let refusing = verdict == Verdict::Refuse;
    draft.conversation.awaiting_reason = Some(PendingReject {
        case: number.to_owned(),
        task_id: Some(tap.task_id.clone()),
        response_code: Some(tap.response_code.clone()),
        refuse: refusing,
    });
    let ask = if refusing {
        "ask_refuse_reason"
    } else {
        "ask_reason"
    };
    say_about(s, draft, &loaded.case, ask);
    Ok(())
}

/// The text after 驳回 or 不得发布: the reason (or a cancel word).
pub(crate) async fn reason(
    s: &Services,
    draft: &mut Draft,
    text: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some(pending) = draft.conversation.awaiting_reason.take() else {
        return Ok(());
    };
    if crate::base::scripts::Words::is(&s.scripts.words.cancel, &normalize::key(text)) {
        if let Some(loaded) = s.load_case(&pending.case).await? {
            say_about(s, draft, &loaded.case, "reason_cancelled");
        }
        return Ok(());
    }
    let via = match (pending.task_id, pending.response_code) {
        (Some(task_id), Some(response_code)) => Via::Card {
            task_id,
            response_code,
        },
        _ => Via::Text,
    };
    let verdict = if pending.refuse {
        Verdict::Refuse
    } else {
        Verdict::Reject
    };
    decide(
        s,
        draft,
        &pending.case,
        verdict,
        Some(text.trim().to_owned()),
        via,
        now_ms,
    )
    .await
}

/// Loads a case the user acts on, with its flow; tells them when there is no such case or
/// when its flow is gone from bot-scripts (see [`Self::flow_of`]).
pub(crate) async fn case_for<'a>(
    s: &'a Services,
    draft: &mut Draft,
    number: &str,
) -> Result<Option<(LoadedCase, &'a FlowDef)>, DispatchError> {
    let Some(loaded) = s.load_case(number).await? else {
        let text = s.scripts.render(
            &tpl::approval("unknown_case"),
            &minijinja::context! { number => number },
        );
        draft.reply(text);
        return Ok(None);
    };
    Ok(s.flow_of(draft, &loaded.case).map(|flow| (loaded, flow)))
}

/// Decides the open step of a case, exactly once.
pub(crate) async fn decide(
    s: &Services,
    draft: &mut Draft,
    number: &str,
    verdict: Verdict,
    reason: Option<String>,
    via: Via,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((
        LoadedCase {
            mut case, version, ..
        },
        flow,
    )) = case_for(s, draft, number).await?
    else {
        return Ok(());
    };
    let name = s.name_of(&draft.user).await?;
    let mut register_number = None;
    let result = loop {
        let mut attempt = case.clone();
        match chain::decide(
            &s.scripts,
            flow,
            &mut attempt,
            (&draft.user, &name),
            verdict,
            reason.clone(),
            &via,
            register_number.as_deref(),
            now_ms,
        ) {
            Err(Refusal::NeedsRegisterNumber) if register_number.is_none() => {
                let now = s.clock.at(now_ms);
                let number = numbers::next(&*s.store, records::REGISTER_PREFIX, now);
                register_number = Some(number.await?);
            }
            other => break other.map(|change| (attempt, change)),
        }
    };
    let (decided, change) = match result {
        Ok(done) => done,
        Err(refusal) => {
            tracing::info!(case = %number, user = %log_safe(&draft.user), ?refusal, "decision refused");
            refuse(s, draft, &case, &refusal, &via);
            return Ok(());
        }
    };
    if decided.status == CaseStatus::Approved && !flow.registers_account {
        let texts = Texts::new(&s.scripts, flow, &decided).with("name", name.clone());
        draft.say(&decided.applicant, texts.say("confirmed_to_applicant"));
    }
    tracing::info!(case = %number, user = %log_safe(&draft.user), ?verdict, status = decided.status.as_str(), "decision applied");
    case = decided;
    steps::chase_open_step(s, draft, &mut case, now_ms);
    let write = case.update(version);
    s.apply(draft, write, change, now_ms).await?;
    // What final approval means is the flow's process's business (a register entry, a
    // register update, ...).
    if let Some(process) = s.processes.for_flow(flow) {
        match case.status {
            CaseStatus::Approved => {
                process
                    .on_approved(s, draft, flow, &case, &name, now_ms)
                    .await?
            }
            CaseStatus::Rejected | CaseStatus::Refused => {
                process.on_ended(s, draft, flow, &case, now_ms).await?
            }
            _ => {}
        }
    }
    Ok(())
}

/// Tells the actor why nothing changed; a tapped card that is spent (its step decided, its case
/// closed, or a task id no longer the step's) is greyed out in place too, so it is not tapped
/// again.
pub(crate) fn refuse(s: &Services, draft: &mut Draft, case: &Case, refusal: &Refusal, via: &Via) {
    say_about(s, draft, case, refusal.message());
    let spent = matches!(
        refusal,
        Refusal::AlreadyDecided | Refusal::Closed | Refusal::CardExpired
    );
    if let (true, Via::Card { response_code, .. }) = (spent, via)
        && let Some(flow) = s.scripts.flows.get(&case.flow)
    {
        draft.send(Reply::CloseCard {
            members: vec![draft.user.clone()],
            response_code: response_code.clone(),
            label: Texts::new(&s.scripts, flow, case).say("card_stale"),
            fallback: None,
        });
    }
}

pub(crate) fn say_about(s: &Services, draft: &mut Draft, case: &Case, key: &str) {
    if let Some(flow) = s.flow_of(draft, case) {
        draft.reply(Texts::new(&s.scripts, flow, case).say(key));
    }
}

pub(crate) fn generic(s: &Services, key: &str) -> String {
    s.scripts
        .render(&tpl::approval(key), &minijinja::Value::UNDEFINED)
}
