//! The text commands of the approval workflow: `同意`/`驳回 <编号>` (decided in
//! [`super::approvals`]), `撤回`, `催办`, `修改 <编号>`, `状态`, `我的`, `待办`.

use super::CaseWrites;
use super::{DispatchError, Dispatcher, Draft, LoadedCase, PendingReject};
use crate::domain::approval::Texts;
use crate::domain::approval::chain::{self, Refusal, Via};
use crate::domain::approval::commands::{self, Command};
use crate::domain::approval::views;
use crate::domain::engine::{ConversationState, FormState, Phase};
use crate::domain::records::{self, Case, CaseStatus};
use crate::scripts::tpl;

impl Dispatcher {
    /// A text command outside a form; `false` when the text is not one.
    pub(super) async fn command(
        &self,
        draft: &mut Draft,
        text: &str,
        now_ms: i64,
    ) -> Result<bool, DispatchError> {
        let Some(command) = commands::parse(text) else {
            return Ok(false);
        };
        match command {
            Command::Usage { example } => {
                let text = self.scripts.render(
                    &tpl::approval("usage"),
                    &minijinja::context! { example => example },
                );
                draft.reply(text);
            }
            Command::Approve { number } => {
                self.decide(draft, &number, true, None, Via::Text, now_ms)
                    .await?
            }
            Command::Reject {
                number,
                reason: Some(reason),
            } => {
                self.decide(draft, &number, false, Some(reason), Via::Text, now_ms)
                    .await?
            }
            Command::Reject {
                number,
                reason: None,
            } => {
                if let Some((loaded, _)) = self.case_for(draft, &number).await? {
                    match chain::check(&loaded.case, &draft.user, &Via::Text) {
                        Ok(()) => {
                            draft.conversation.awaiting_reason = Some(PendingReject {
                                case: number,
                                task_id: None,
                                response_code: None,
                            });
                            self.say_about(draft, &loaded.case, "ask_reason");
                        }
                        Err(refusal) => self.refuse(draft, &loaded.case, &refusal),
                    }
                }
            }
            Command::Withdraw { number } => self.withdraw(draft, &number, now_ms).await?,
            Command::Urge { number } => self.urge(draft, &number, now_ms).await?,
            Command::Edit { number } => self.edit(draft, &number, now_ms).await?,
            Command::Status { number } => self.status(draft, &number).await?,
            Command::Mine => self.mine(draft).await?,
            Command::Todo { cards } => self.todo(draft, cards).await?,
        }
        Ok(true)
    }

    pub(super) async fn withdraw(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some((
            LoadedCase {
                mut case, version, ..
            },
            flow,
        )) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        let before = case.clone();
        match chain::withdraw(&self.scripts, flow, &mut case, &draft.user, now_ms) {
            Ok(change) => {
                let write = case.update(version);
                self.apply(draft, write, change);
            }
            Err(Refusal::Closed) => self.say_about(draft, &before, "cannot_withdraw"),
            Err(refusal) => self.refuse(draft, &before, &refusal),
        }
        Ok(())
    }

    pub(super) async fn urge(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some((
            LoadedCase {
                mut case, version, ..
            },
            flow,
        )) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        let mut names = std::collections::HashMap::new();
        if let Some(step) = case.chain.get(case.current_step) {
            for person in &step.assignees {
                names.insert(person.clone(), self.name_of(person).await?);
            }
        }
        let name_of = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_owned());
        // "Once per working day": a weekend or holiday counts as the next working day.
        let calendar = &self.scripts.calendar;
        let working_day = |ms: i64| {
            let date = self.clock.at(ms).today;
            let day = if calendar.is_working_day(date) {
                date
            } else {
                calendar.add_working_days(date, 1).date
            };
            i64::from(chrono::Datelike::num_days_from_ce(&day))
        };
        let before = case.clone();
        match chain::urge(
            &self.scripts,
            flow,
            &mut case,
            &draft.user,
            (&working_day, &name_of),
            now_ms,
        ) {
            Ok(change) => {
                let write = case.update(version);
                self.apply(draft, write, change);
            }
            Err(refusal) => self.refuse(draft, &before, &refusal),
        }
        Ok(())
    }

    /// `修改 <编号>`: reopens a rejected case's form at its summary, keeping the number.
    pub(super) async fn edit(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some((LoadedCase { case, .. }, flow)) = self.case_for(draft, number).await? else {
            return Ok(());
        };
        let texts = Texts::new(&self.scripts, flow, &case);
        if case.applicant != draft.user {
            draft.reply(texts.say("no_permission"));
            return Ok(());
        }
        if case.status != CaseStatus::Rejected {
            draft.reply(texts.say("cannot_edit"));
            return Ok(());
        }
        draft.conversation.form = ConversationState {
            form: Some(FormState {
                flow: case.flow.clone(),
                version: self.scripts.version.clone(),
                phase: Phase::Confirm,
                answers: case.answers.clone(),
                strikes: 0,
                paused: false,
                last_active_ms: now_ms,
            }),
        };
        draft.conversation.editing = Some(case.number.clone());
        draft.reply(texts.say("edit_started"));
        Ok(())
    }

    /// Who may see a case: its applicant, its unit's leaders, the propaganda department.
    pub(super) async fn may_view(&self, case: &Case, viewer: &str) -> Result<bool, DispatchError> {
        let leaders = self.directory.leaders_of(&case.unit).await?;
        let propaganda = self.directory.role_members("propaganda").await?;
        Ok(views::may_view(case, viewer, &leaders, &propaganda))
    }

    pub(super) async fn status(
        &self,
        draft: &mut Draft,
        number: &str,
    ) -> Result<(), DispatchError> {
        let Some((LoadedCase { case, history, .. }, _)) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        if !self.may_view(&case, &draft.user).await? {
            let text = self.scripts.render(
                &tpl::approval("no_permission"),
                &minijinja::context! { number => number },
            );
            draft.reply(text);
            return Ok(());
        }
        let mut names = std::collections::HashMap::new();
        for entry in &history {
            if !names.contains_key(&entry.by) {
                names.insert(entry.by.clone(), self.name_of(&entry.by).await?);
            }
        }
        let name_of = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_owned());
        draft.reply(views::status(
            &self.scripts,
            &case,
            &history,
            &name_of,
            &|ms| self.local_time(ms),
        ));
        Ok(())
    }

    pub(super) async fn mine(&self, draft: &mut Draft) -> Result<(), DispatchError> {
        let mut mine = Vec::new();
        for number in self
            .store
            .cases_in(&records::applicant_index(&draft.user))
            .await?
        {
            mine.extend(self.load_case(&number).await?.map(|l| l.case));
        }
        let mut accounts = Vec::new();
        for unit in self.directory.units_of(&draft.user).await? {
            for number in self
                .store
                .cases_in(&records::unit_register_index(&unit.id))
                .await?
            {
                accounts.extend(self.load_case(&number).await?.map(|l| l.case));
            }
        }
        draft.reply(views::mine(&self.scripts, &mine, &accounts));
        Ok(())
    }

    /// `待办`: the list, or (`待办 卡片`) a fresh card per waiting case.
    pub(super) async fn todo(&self, draft: &mut Draft, cards: bool) -> Result<(), DispatchError> {
        let mut waiting = Vec::new();
        for number in self
            .store
            .cases_in(&records::pending_index(&draft.user))
            .await?
        {
            if let Some(loaded) = self.load_case(&number).await?
                && chain::check(&loaded.case, &draft.user, &Via::Text).is_ok()
                && let Some(flow) = self.flow_of(draft, &loaded.case)
            {
                waiting.push((loaded, flow));
            }
        }
        if !cards || waiting.is_empty() {
            let list: Vec<Case> = waiting.into_iter().map(|(l, _)| l.case).collect();
            draft.reply(views::todo(&self.scripts, &list));
            return Ok(());
        }
        for (
            LoadedCase {
                mut case, version, ..
            },
            flow,
        ) in waiting
        {
            let step_index = case.current_step;
            let task_id = super::forms::task_id(&case.number, case.round, step_index);
            let Some(step) = case.chain.get_mut(step_index) else {
                continue;
            };
            step.task_ids.push(task_id);
            let mut fresh = step.clone();
            fresh.assignees = vec![draft.user.clone()];
            let mut change = chain::Change::default();
            chain::send_card(&self.scripts, flow, &case, &fresh, &mut change);
            let write = case.update(version);
            self.apply(draft, write, change);
        }
        Ok(())
    }
}
