//! Form steps: the pure engine over the user's conversation, then filing a confirmed form as a
//! case and opening its approval chain (or resubmitting an edited, rejected case).

use rand::Rng;

use super::CaseWrites;
use super::{DispatchError, Dispatcher, Draft, LoadedCase, numbers};
use crate::domain::approval::Texts;
use crate::domain::approval::chain;
use crate::domain::engine::{self, Answers, EngineInput, StepOutcome};
use crate::domain::records::{self, Case, CaseStatus, HistoryKind};
use crate::scripts::{Assignment, FlowDef};
use crate::store::CaseWrite;
use crate::wecom::message::{Inbound, InboundKind};

/// What a confirmed form becomes.
struct Filing {
    flow: String,
    version: String,
    number: String,
    unit: String,
    answers: Answers,
    summary: String,
}

impl Dispatcher {
    pub(super) async fn form_step(
        &self,
        draft: &mut Draft,
        inbound: &Inbound,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(input) = engine_input(inbound) else {
            return Ok(());
        };
        let mut ctx = super::engine_context(&*self.directory, &draft.user).await?;
        for unit in &ctx.units {
            for number in self
                .store
                .cases_in(&records::unit_register_index(&unit.id))
                .await?
            {
                let Some(LoadedCase { case, .. }) = self.load_case(&number).await? else {
                    continue;
                };
                let Some(flow) = self.flow(&case) else {
                    continue;
                };
                let texts = Texts::new(&self.scripts, flow, &case);
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
        // Editing a rejected case keeps its number.
        ctx.case_number = draft.conversation.editing.clone();
        let now = self.clock.at(now_ms);
        let state = draft.conversation.form.clone();
        let mut outcome = engine::step(&self.scripts, &state, &input, &ctx, now);
        if let StepOutcome::NeedsCaseNumber { prefix, .. } = &outcome {
            ctx.case_number = Some(numbers::next(&*self.store, prefix, now).await?);
            outcome = engine::step(&self.scripts, &state, &input, &ctx, now);
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
                    match self.load_case(&filing.number).await? {
                        Some(existing) => self.resubmit(draft, existing, filing, now_ms).await?,
                        None => self.file(draft, &ctx, filing, now_ms).await?,
                    }
                }
            }
        }
        Ok(())
    }

    fn flow(&self, case: &Case) -> Option<&FlowDef> {
        self.scripts.flows.get(&case.flow)
    }

    /// Files a new case and opens its approval chain.
    async fn file(
        &self,
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
        };
        if let Some(flow) = self.scripts.flows.get(&case.flow) {
            self.check_deadline(draft, flow, &mut case, now_ms);
        }
        let mut write = case.filing();
        let change = self.open_chain(&mut case, now_ms).await?;
        self.chase_open_step(draft, &mut case, now_ms);
        write.body = Some(case.to_json());
        write.expected_version = Some(0);
        self.apply(draft, write, change);
        Ok(())
    }

    /// Policy 5.1 note 3: a report is due within N working days of the date it reports; the
    /// case records the deadline and whether it was late, and the applicant is told.
    fn check_deadline(&self, draft: &mut Draft, flow: &FlowDef, case: &mut Case, now_ms: i64) {
        let Some(deadline) = &flow.deadline else {
            return;
        };
        let Some(engine::Answer::Date(from)) = case.answers.get(&deadline.from) else {
            return;
        };
        let Ok(from_date) = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d") else {
            return;
        };
        let calendar = &self.scripts.calendar;
        let due = calendar
            .add_working_days(from_date, deadline.working_days as i32)
            .date;
        let late = self.clock.at(now_ms).today > due;
        let due = due.format("%Y-%m-%d").to_string();
        let vars = minijinja::context! { changed_on => from, deadline => &due, late => late };
        draft.reply(
            self.scripts
                .render(&crate::scripts::tpl::flow(&flow.id, "deadline_note"), &vars),
        );
        case.due_date = Some(due);
        case.late = Some(late);
    }

    /// The applicant confirmed the edited form of a rejected case: record what changed and
    /// restart the chain.
    async fn resubmit(
        &self,
        draft: &mut Draft,
        loaded: LoadedCase,
        filing: Filing,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let LoadedCase {
            mut case, version, ..
        } = loaded;
        let Some(flow) = self.scripts.flows.get(&case.flow).cloned() else {
            return Ok(());
        };
        if case.applicant != draft.user || case.status != CaseStatus::Rejected {
            self.say_about(draft, &case, "cannot_edit");
            return Ok(());
        }
        let texts = Texts::new(&self.scripts, &flow, &case);
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
        let mut change = self.open_chain(&mut case, now_ms).await?;
        self.chase_open_step(draft, &mut case, now_ms);
        history.append(&mut change.history);
        change.history = history;
        let texts = Texts::new(&self.scripts, &flow, &case);
        draft.reply(texts.say("resubmitted"));
        let write = case.update(version);
        self.apply(draft, write, change);
        Ok(())
    }

    /// Resolves each step's assignees and opens the chain with fresh task ids.
    async fn open_chain(
        &self,
        case: &mut Case,
        now_ms: i64,
    ) -> Result<chain::Change, DispatchError> {
        let Some(flow) = self.scripts.flows.get(&case.flow).cloned() else {
            return Ok(chain::Change::default());
        };
        let mut assignees = Vec::new();
        let mut task_ids = Vec::new();
        for (i, step) in flow.approval.iter().enumerate() {
            assignees.push(match &step.assignment {
                Assignment::Role(role) if role == "unit_leader" => {
                    self.directory.leaders_of(&case.unit).await?
                }
                Assignment::Role(role) => self.directory.role_members(role).await?,
                Assignment::Users(users) => users.clone(),
            });
            task_ids.push(task_id(&case.number, case.round, i));
        }
        Ok(chain::open(
            &self.scripts,
            &flow,
            case,
            assignees,
            task_ids,
            now_ms,
        ))
    }

    /// Adds a case write and everything its change implies to the draft.
    pub(super) fn apply(&self, draft: &mut Draft, mut write: CaseWrite, change: chain::Change) {
        write.history.extend(change.history);
        write.add_to.extend(change.add_to);
        write.remove_from.extend(change.remove_from);
        draft.write_case(write);
        for message in change.messages {
            draft.send(message);
        }
    }
}

/// What the form engine sees of a WeCom message: texts and menu clicks; anything else is not
/// for the engine.
pub fn engine_input(inbound: &Inbound) -> Option<EngineInput> {
    match &inbound.kind {
        InboundKind::Text { content, .. } => Some(EngineInput::Text(content.clone())),
        InboundKind::MenuClick { key } => Some(EngineInput::MenuClick(key.clone())),
        _ => None,
    }
}

/// A card task id: unique for the app's whole life and unguessable, in WeCom's charset
/// (`[0-9A-Za-z_-@]`, ≤ 128 bytes).
pub(super) fn task_id(number: &str, round: u32, step: usize) -> String {
    let nonce: u64 = rand::thread_rng().r#gen();
    format!("{number}_r{round}_s{step}_{nonce:016x}")
}
