//! The forms process: every flow of bot-scripts is a form started by its keywords or menu key.
//! Each text or menu click of a conversation with a form open (or that no other process took)
//! goes through the pure engine; a confirmed form is filed as a case — the flow's own process
//! may refuse it ([`Process::refuse_filing`], the form stays at its summary) and adds its rules
//! first ([`Process::on_filing`]) — and its approval chain opens; an edited, rejected or
//! withdrawn case is resubmitted under its number. A command typed in a form and meant as a
//! command ([`engine::Effect::RunCommand`]) runs as that process's command. An image or file
//! sent while a form is open answers a question that takes files. It is last in the
//! table: it answers anything (with the help text when nothing matches).

use async_trait::async_trait;

use super::approvals::{self, steps};
use crate::dispatch::numbers;
use crate::dispatch::{CaseWrites, DispatchError, Draft, Handled, LoadedCase, Process, Services};
use crate::domain::engine::{self, Answers, EngineInput, StepOutcome};
use crate::domain::evidence::EvidenceRef;
use crate::domain::records::Texts;
use crate::domain::records::{self, Case, CaseStatus, HistoryKind};

/// The forms process.
pub struct Forms;

#[async_trait]
impl Process for Forms {
    fn name(&self) -> &'static str {
        "forms"
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, now_ms: i64) -> Handled {
        form_step(s, d, EngineInput::Text(text.to_owned()), now_ms).await?;
        Ok(true)
    }

    async fn on_menu(&self, s: &Services, d: &mut Draft, key: &str, now_ms: i64) -> Handled {
        form_step(s, d, EngineInput::MenuClick(key.to_owned()), now_ms).await?;
        Ok(true)
    }

    /// An image or file sent while a form is open: the answer of a question that takes files.
    async fn on_evidence(
        &self,
        s: &Services,
        d: &mut Draft,
        evidence: &EvidenceRef,
        now_ms: i64,
    ) -> Handled {
        if d.conversation.form.is_idle() {
            return Ok(false);
        }
        form_step(s, d, EngineInput::File(evidence.clone()), now_ms).await?;
        Ok(true)
    }
}

/// What a confirmed form becomes.
struct Filing {
    flow: String,
    version: String,
    number: String,
    unit: String,
    answers: Answers,
    summary: String,
}

/// What the engine knows of the user: their units and the accounts registered for them.
async fn context(s: &Services, draft: &Draft) -> Result<engine::Context, DispatchError> {
    let mut ctx = crate::dispatch::engine_context(&*s.directory, &draft.user).await?;
    for unit in &ctx.units {
        for number in s
            .store
            .cases_in(&records::unit_register_index(&unit.id))
            .await?
        {
            let Some(LoadedCase { case, .. }) = s.load_case(&number).await? else {
                continue;
            };
            // A closed account stays in the register but is no longer offered.
            if case.account_status == records::AccountStatus::Closed {
                continue;
            }
            let Some(flow) = s.scripts.flows.get(&case.flow) else {
                continue;
            };
            let texts = Texts::new(&s.scripts, flow, &case);
            let name = case
                .answers
                .get("account_name")
                .map(|a| texts.answer(a))
                .unwrap_or_default();
            ctx.accounts.push(engine::Account {
                id: case.register_number.clone().unwrap_or(number),
                name,
            });
        }
    }
    Ok(ctx)
}

/// Goes on with the open form after its flow's process changed its answers: the next
/// unanswered question, or the summary.
pub(crate) async fn advance(
    s: &Services,
    draft: &mut Draft,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let ctx = context(s, draft).await?;
    let now = s.clock.at(now_ms);
    let state = draft.conversation.form.clone();
    if let StepOutcome::Next { state, effects } = engine::advance(&s.scripts, &state, &ctx, now) {
        draft.conversation.form = state;
        for effect in effects {
            if let engine::Effect::Say(text) = effect {
                draft.reply(text);
            }
        }
    }
    Ok(())
}

/// One engine step of the user's conversation, and what a confirmed form files.
pub(crate) async fn form_step(
    s: &Services,
    draft: &mut Draft,
    input: EngineInput,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let mut ctx = context(s, draft).await?;
    // Editing a rejected or withdrawn case keeps its number.
    ctx.case_number = draft.conversation.editing.clone();
    if let EngineInput::Text(text) = &input {
        ctx.command = s.processes.iter().find_map(|p| p.command_in_form(s, text));
    }
    let now = s.clock.at(now_ms);
    let state = draft.conversation.form.clone();
    let mut outcome = engine::step(&s.scripts, &state, &input, &ctx, now);
    if submits(&outcome)
        && let Some(text) = refusal(s, &state, ctx.case_number.as_deref()).await?
    {
        // The form stays at its summary: the user fixes an answer or cancels.
        draft.reply(text);
        return Ok(());
    }
    if let StepOutcome::NeedsCaseNumber { prefix, .. } = &outcome {
        ctx.case_number = Some(numbers::next(&*s.store, prefix, now).await?);
        outcome = engine::step(&s.scripts, &state, &input, &ctx, now);
    }
    let StepOutcome::Next {
        state: next,
        effects,
    } = outcome
    else {
        return Err(DispatchError::NumberLoop);
    };
    draft.conversation.form = next;
    if draft.conversation.form.is_idle() {
        draft.conversation.editing = None;
    }
    for effect in effects {
        match effect {
            engine::Effect::Say(text) => draft.reply(text),
            engine::Effect::RunCommand(text) => run_aside(s, draft, &text, now_ms).await?,
            engine::Effect::SubmitCase {
                flow,
                version,
                case_number,
                unit,
                answers,
                summary,
            } => {
                let filing = Filing {
                    flow,
                    version,
                    number: case_number,
                    unit,
                    answers,
                    summary,
                };
                match s.load_case(&filing.number).await? {
                    Some(existing) => resubmit(s, draft, existing, filing, now_ms).await?,
                    None => file(s, draft, &ctx, filing, now_ms).await?,
                }
            }
        }
    }
    // The flow's process sees the step of a form still open (e.g. to offer earlier answers).
    let open = draft
        .conversation
        .form
        .form
        .as_ref()
        .map(|f| f.flow.clone());
    if let Some(flow) = open.and_then(|f| s.scripts.flows.get(&f))
        && let Some(process) = s.processes.for_flow(flow)
    {
        process.on_form_step(s, draft, flow, &state, now_ms).await?;
    }
    Ok(())
}

/// Runs a command typed in a form as the other processes would with no form open; the (paused)
/// form is kept as it is.
async fn run_aside(
    s: &Services,
    draft: &mut Draft,
    text: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let form = std::mem::take(&mut draft.conversation.form);
    let editing = draft.conversation.editing.take();
    for p in s.processes.iter().filter(|p| p.name() != Forms.name()) {
        if p.on_text(s, draft, text, now_ms).await? {
            break;
        }
    }
    draft.conversation.form = form;
    draft.conversation.editing = editing;
    Ok(())
}

/// Whether this step confirms the form (a number to allocate, or a case to file).
fn submits(outcome: &StepOutcome) -> bool {
    match outcome {
        StepOutcome::NeedsCaseNumber { .. } => true,
        StepOutcome::Next { effects, .. } => effects
            .iter()
            .any(|e| matches!(e, engine::Effect::SubmitCase { .. })),
    }
}

/// Why the flow's process refuses to file the confirmed form in `state` (e.g. a duplicate
/// registration), if it does.
async fn refusal(
    s: &Services,
    state: &engine::ConversationState,
    editing: Option<&str>,
) -> Result<Option<String>, DispatchError> {
    let Some(form) = &state.form else {
        return Ok(None);
    };
    let Some(flow) = s.scripts.flows.get(&form.flow) else {
        return Ok(None);
    };
    let Some(process) = s.processes.for_flow(flow) else {
        return Ok(None);
    };
    process.refuse_filing(s, flow, &form.answers, editing).await
}

/// Files a new case and opens its approval chain.
async fn file(
    s: &Services,
    draft: &mut Draft,
    ctx: &engine::Context,
    filing: Filing,
    now_ms: i64,
) -> Result<(), DispatchError> {
    tracing::info!(case = %filing.number, flow = %filing.flow, "case filed");
    let unit_name = ctx
        .units
        .iter()
        .find(|u| u.id == filing.unit)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let mut case = Case {
        number: filing.number,
        flow: filing.flow,
        scripts_version: filing.version,
        applicant: draft.user.clone(),
        applicant_name: ctx.user.name.clone(),
        unit: filing.unit,
        unit_name,
        answers: filing.answers,
        summary: filing.summary,
        status: CaseStatus::Pending,
        submitted_at_ms: now_ms,
        chain: Vec::new(),
        current_step: 0,
        round: 1,
        register_number: None,
        decided_at_ms: None,
        due_date: None,
        late: None,
        last_changes: Vec::new(),
        card_notes: Vec::new(),
        account_status: Default::default(),
        signed_answers: None,
    };
    if let Some(flow) = s.scripts.flows.get(&case.flow)
        && let Some(process) = s.processes.for_flow(flow)
    {
        process.on_filing(s, draft, flow, &mut case, now_ms).await?;
    }
    let mut write = case.filing();
    let change = steps::open_chain(s, &mut case, now_ms).await?;
    steps::chase_open_step(s, draft, &mut case, now_ms);
    write.body = Some(case.to_json());
    write.expected_version = Some(0);
    s.apply(draft, write, change, now_ms).await?;
    Ok(())
}

/// The applicant confirmed the edited form of a rejected or withdrawn case: record what
/// changed and restart the chain.
async fn resubmit(
    s: &Services,
    draft: &mut Draft,
    loaded: LoadedCase,
    filing: Filing,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let LoadedCase {
        mut case, version, ..
    } = loaded;
    let Some(flow) = s.scripts.flows.get(&case.flow).cloned() else {
        return Ok(());
    };
    let editable = matches!(case.status, CaseStatus::Rejected | CaseStatus::Withdrawn);
    if case.applicant != draft.user || !editable {
        approvals::say_about(s, draft, &case, "cannot_edit");
        return Ok(());
    }
    let texts = Texts::new(&s.scripts, &flow, &case);
    let changes: Vec<String> = flow
        .fields
        .iter()
        .filter_map(|f| {
            let (old, new) = (case.answers.get(&f.id), filing.answers.get(&f.id));
            (old != new).then(|| {
                let show =
                    |a: Option<&engine::Answer>| a.map(|a| texts.answer(a)).unwrap_or_default();
                format!("{}：{} → {}", f.label, show(old), show(new))
            })
        })
        .collect();
    case.answers = filing.answers;
    case.summary = filing.summary;
    case.scripts_version = filing.version;
    case.round += 1;
    case.decided_at_ms = None;
    case.last_changes = changes.clone();
    let mut history = vec![
        records::history(
            now_ms,
            &draft.user,
            HistoryKind::Edited {
                changes: changes.clone(),
            },
        ),
        records::history(
            now_ms,
            &draft.user,
            HistoryKind::Resubmitted { round: case.round },
        ),
    ];
    // The flow's process applies its filing rules again to the edited case.
    if let Some(process) = s.processes.for_flow(&flow) {
        process
            .on_filing(s, draft, &flow, &mut case, now_ms)
            .await?;
    }
    let mut change = steps::open_chain(s, &mut case, now_ms).await?;
    steps::chase_open_step(s, draft, &mut case, now_ms);
    history.append(&mut change.history);
    change.history = history;
    let texts = Texts::new(&s.scripts, &flow, &case);
    draft.reply(texts.say("resubmitted"));
    let write = case.update(version);
    s.apply(draft, write, change, now_ms).await?;
    Ok(())
}
