//! Approval events: a tap on a card, a rejection reason typed in chat, and the text commands
//! (`同意`, `驳回`, `撤回`, `催办`, `修改 <编号>`, `状态`, `我的`, `待办`). Each decision is checked
//! against the stored case and written with the version it read.

use super::{DispatchError, Dispatcher, Draft, LoadedCase, PendingReject, local_time};
use crate::approval::card;
use crate::approval::chain::{self, Refusal, Texts, Via};
use crate::approval::commands::{self, Command};
use crate::approval::views;
use crate::engine::normalize;
use crate::engine::{ConversationState, FormState, Phase};
use crate::records::{self, Case, CaseStatus};
use crate::scripts::tpl;
use crate::store::CaseWrite;
use crate::wecom::message::CardEvent;

impl Dispatcher {
    /// A tap on an approval card.
    pub(super) async fn card_tap(
        &self,
        draft: &mut Draft,
        tap: &CardEvent,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some((approve, number)) = card::parse_key(&tap.event_key) else {
            tracing::warn!(key = %tap.event_key, "card tap with an unknown key refused");
            draft.reply(self.generic("card_expired"));
            return Ok(());
        };
        let via = Via::Card {
            task_id: tap.task_id.clone(),
            response_code: tap.response_code.clone(),
        };
        if approve {
            return self.decide(draft, number, true, None, via, now_ms).await;
        }
        // 驳回: ask for the reason first (if the tapper may decide at all).
        let Some(loaded) = self.case_for(draft, number).await? else {
            return Ok(());
        };
        if let Err(refusal) = chain::check(&loaded.case, &draft.user, &via) {
            self.refuse(draft, &loaded.case, &refusal);
            return Ok(());
        }
        draft.conversation.awaiting_reason = Some(PendingReject {
            case: number.to_owned(),
            task_id: Some(tap.task_id.clone()),
            response_code: Some(tap.response_code.clone()),
        });
        self.say_about(draft, &loaded.case, "ask_reason");
        Ok(())
    }

    /// The text after 驳回: the reason (or a cancel word).
    pub(super) async fn reason(
        &self,
        draft: &mut Draft,
        text: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(pending) = draft.conversation.awaiting_reason.take() else {
            return Ok(());
        };
        if crate::scripts::Words::is(&self.scripts.words.cancel, &normalize::key(text)) {
            if let Some(loaded) = self.load_case(&pending.case).await? {
                self.say_about(draft, &loaded.case, "reason_cancelled");
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
        self.decide(
            draft,
            &pending.case,
            false,
            Some(text.trim().to_owned()),
            via,
            now_ms,
        )
        .await
    }

    /// Loads a case for the user, telling them when it does not exist.
    async fn case_for(
        &self,
        draft: &mut Draft,
        number: &str,
    ) -> Result<Option<LoadedCase>, DispatchError> {
        let loaded = self.load_case(number).await?;
        if loaded.is_none() {
            let text = self.scripts.render(
                &tpl::approval("unknown_case"),
                &minijinja::context! { number => number },
            );
            draft.reply(text);
        }
        Ok(loaded.filter(|l| self.scripts.flows.contains_key(&l.case.flow)))
    }

    /// Decides the open step of a case, exactly once.
    async fn decide(
        &self,
        draft: &mut Draft,
        number: &str,
        approve: bool,
        reason: Option<String>,
        via: Via,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(LoadedCase {
            mut case, version, ..
        }) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        let flow = self.scripts.flows[&case.flow].clone();
        let name = self.name_of(&draft.user).await?;
        let mut register_number = None;
        let result = loop {
            let mut attempt = case.clone();
            match chain::decide(
                &self.scripts,
                &flow,
                &mut attempt,
                (&draft.user, &name),
                approve,
                reason.clone(),
                &via,
                register_number.as_deref(),
                now_ms,
            ) {
                Err(Refusal::NeedsRegisterNumber) if register_number.is_none() => {
                    let series = format!(
                        "{}-{}",
                        records::REGISTER_PREFIX,
                        crate::engine::Now::shanghai(now_ms).today().y
                    );
                    let n = self.store.next_number(&series).await?;
                    register_number = Some(format!("{series}-{n:04}"));
                }
                other => break other.map(|change| (attempt, change)),
            }
        };
        let (decided, mut change) = match result {
            Ok(done) => done,
            Err(refusal) => {
                tracing::info!(case = %number, user = %draft.user, ?refusal, "decision refused");
                self.refuse(draft, &case, &refusal);
                return Ok(());
            }
        };
        if decided.status == CaseStatus::Approved && flow.registers_account {
            let leaders = self.directory.leaders_of(&decided.unit).await?;
            chain::announce_approval(&self.scripts, &flow, &decided, &leaders, &mut change);
        }
        if decided.status == CaseStatus::Approved && !flow.registers_account {
            let texts = Texts::new(&self.scripts, &flow, &decided).with("name", name.clone());
            draft.say(&decided.applicant, texts.say("confirmed_to_applicant"));
        }
        if decided.status == CaseStatus::Approved && !flow.register_updates.is_empty() {
            self.update_register(draft, &flow, &decided, now_ms).await?;
        }
        tracing::info!(case = %number, user = %draft.user, approve, status = decided.status.as_str(), "decision applied");
        case = decided;
        self.chase_open_step(draft, &mut case, now_ms);
        let write = case.update(version);
        self.apply(draft, write, change);
        Ok(())
    }

    /// A confirmed change report: the registered account takes the new values; its history
    /// keeps the old ones.
    async fn update_register(
        &self,
        draft: &mut Draft,
        flow: &crate::scripts::FlowDef,
        report: &Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(crate::engine::Answer::Ref {
            id: register_number,
            ..
        }) = report.answers.get("account")
        else {
            return Ok(());
        };
        let Some(number) = self
            .store
            .cases_in(&records::register_number_index(register_number))
            .await?
            .pop()
        else {
            tracing::warn!(%register_number, "change report for an account not in the register");
            return Ok(());
        };
        let Some(LoadedCase {
            mut case, version, ..
        }) = self.load_case(&number).await?
        else {
            return Ok(());
        };
        let Some(registration) = self.scripts.flows.get(&case.flow).cloned() else {
            return Ok(());
        };
        let texts = Texts::new(&self.scripts, &registration, &case);
        let mut changes = Vec::new();
        for (from, to) in &flow.register_updates {
            let Some(new) = report.answers.get(from) else {
                continue;
            };
            let label = registration
                .field(to)
                .map(|(_, f)| f.label.clone())
                .unwrap_or_else(|| to.clone());
            let old = case
                .answers
                .get(to)
                .map(|a| texts.answer(a))
                .unwrap_or_default();
            changes.push(format!("{label}：{old} → {}", texts.answer(new)));
            match case.answers.0.iter_mut().find(|(k, _)| k == to) {
                Some((_, answer)) => *answer = new.clone(),
                None => case.answers.0.push((to.clone(), new.clone())),
            }
        }
        self.close_duty(draft, register_number).await?;
        let history = records::history(
            now_ms,
            &draft.user,
            records::HistoryKind::Changed {
                report: report.number.clone(),
                changes,
            },
        );
        draft.write_case(CaseWrite {
            number: case.number.clone(),
            body: Some(case.to_json()),
            history: vec![history],
            expected_version: Some(version),
            ..CaseWrite::default()
        });
        Ok(())
    }

    /// Tells the actor why nothing changed; a tapped card that is spent gets greyed out too.
    fn refuse(&self, draft: &mut Draft, case: &Case, refusal: &Refusal) {
        let Some(flow) = self.scripts.flows.get(&case.flow) else {
            return;
        };
        let texts = Texts::new(&self.scripts, flow, case);
        let status = texts.status(case.status);
        draft.reply(texts.with("status", status).say(refusal.message()));
    }

    fn say_about(&self, draft: &mut Draft, case: &Case, key: &str) {
        if let Some(flow) = self.scripts.flows.get(&case.flow) {
            draft.reply(Texts::new(&self.scripts, flow, case).say(key));
        }
    }

    fn generic(&self, key: &str) -> String {
        self.scripts
            .render(&tpl::approval(key), &minijinja::Value::UNDEFINED)
    }

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
                if let Some(loaded) = self.case_for(draft, &number).await? {
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

    async fn withdraw(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(LoadedCase {
            mut case, version, ..
        }) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        let flow = self.scripts.flows[&case.flow].clone();
        let before = case.clone();
        match chain::withdraw(&self.scripts, &flow, &mut case, &draft.user, now_ms) {
            Ok(change) => {
                let write = case.update(version);
                self.apply(draft, write, change);
            }
            Err(Refusal::Closed) => {
                let texts = Texts::new(&self.scripts, &flow, &before);
                let status = texts.status(before.status);
                draft.reply(texts.with("status", status).say("cannot_withdraw"));
            }
            Err(refusal) => self.refuse(draft, &before, &refusal),
        }
        Ok(())
    }

    async fn urge(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(LoadedCase {
            mut case, version, ..
        }) = self.case_for(draft, number).await?
        else {
            return Ok(());
        };
        let flow = self.scripts.flows[&case.flow].clone();
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
            let date = calendar.date_at_ms(ms);
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
            &flow,
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
    async fn edit(
        &self,
        draft: &mut Draft,
        number: &str,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(LoadedCase { case, .. }) = self.case_for(draft, number).await? else {
            return Ok(());
        };
        let flow = &self.scripts.flows[&case.flow];
        let texts = Texts::new(&self.scripts, flow, &case);
        if case.applicant != draft.user {
            draft.reply(texts.say("no_permission"));
            return Ok(());
        }
        if case.status != CaseStatus::Rejected {
            let status = texts.status(case.status);
            draft.reply(texts.with("status", status).say("cannot_edit"));
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
    async fn may_view(&self, case: &Case, viewer: &str) -> Result<bool, DispatchError> {
        let leaders = self.directory.leaders_of(&case.unit).await?;
        let propaganda = self.directory.role_members("propaganda").await?;
        Ok(views::may_view(case, viewer, &leaders, &propaganda))
    }

    async fn status(&self, draft: &mut Draft, number: &str) -> Result<(), DispatchError> {
        let Some(LoadedCase { case, history, .. }) = self.case_for(draft, number).await? else {
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
            &local_time,
        ));
        Ok(())
    }

    async fn mine(&self, draft: &mut Draft) -> Result<(), DispatchError> {
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
    async fn todo(&self, draft: &mut Draft, cards: bool) -> Result<(), DispatchError> {
        let mut waiting = Vec::new();
        for number in self
            .store
            .cases_in(&records::pending_index(&draft.user))
            .await?
        {
            if let Some(loaded) = self.load_case(&number).await?
                && chain::check(&loaded.case, &draft.user, &Via::Text).is_ok()
            {
                waiting.push(loaded);
            }
        }
        if !cards || waiting.is_empty() {
            let list: Vec<Case> = waiting.into_iter().map(|l| l.case).collect();
            draft.reply(views::todo(&self.scripts, &list));
            return Ok(());
        }
        for LoadedCase {
            mut case, version, ..
        } in waiting
        {
            let flow = self.scripts.flows[&case.flow].clone();
            let step_index = case.current_step;
            let task_id = super::forms::task_id(&case.number, case.round, step_index);
            let step = &mut case.chain[step_index];
            step.task_ids.push(task_id);
            let mut fresh = step.clone();
            fresh.assignees = vec![draft.user.clone()];
            let mut change = chain::Change::default();
            chain::send_card(&self.scripts, &flow, &case, &fresh, &mut change);
            let write = case.update(version);
            self.apply(draft, write, change);
        }
        Ok(())
    }
}
