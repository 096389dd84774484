//! Approval events: a tap on a card, a rejection reason typed in chat, and the text commands
//! (`同意`, `驳回`, `撤回`, `催办`, `修改 <编号>`, `状态`, `我的`, `待办`). Each decision is checked
//! against the stored case and written with the version it read.

use super::CaseWrites;
use super::{DispatchError, Dispatcher, Draft, LoadedCase, PendingReject, numbers};
use crate::domain::approval::Texts;
use crate::domain::approval::card;
use crate::domain::approval::chain::{self, Refusal, Via};
use crate::domain::records::{self, Case, CaseStatus};
use crate::normalize;
use crate::scripts::{FlowDef, tpl};
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
        let Some((loaded, _)) = self.case_for(draft, number).await? else {
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

    /// Loads a case the user acts on, with its flow; tells them when there is no such case or
    /// when its flow is gone from bot-scripts (see [`Self::flow_of`]).
    pub(super) async fn case_for(
        &self,
        draft: &mut Draft,
        number: &str,
    ) -> Result<Option<(LoadedCase, &FlowDef)>, DispatchError> {
        let Some(loaded) = self.load_case(number).await? else {
            let text = self.scripts.render(
                &tpl::approval("unknown_case"),
                &minijinja::context! { number => number },
            );
            draft.reply(text);
            return Ok(None);
        };
        Ok(self.flow_of(draft, &loaded.case).map(|flow| (loaded, flow)))
    }

    /// The flow of a stored case. When bot-scripts no longer define it, the user is told that
    /// the flow is retired (nothing changes) and the answer is `None`.
    pub(super) fn flow_of(&self, draft: &mut Draft, case: &Case) -> Option<&FlowDef> {
        let flow = self.scripts.flows.get(&case.flow);
        if flow.is_none() {
            tracing::warn!(case = %case.number, flow = %case.flow, "case of a flow gone from bot-scripts");
            let text = self.scripts.render(
                &tpl::approval("flow_retired"),
                &minijinja::context! { number => &case.number },
            );
            draft.reply(text);
        }
        flow
    }

    /// Decides the open step of a case, exactly once.
    pub(super) async fn decide(
        &self,
        draft: &mut Draft,
        number: &str,
        approve: bool,
        reason: Option<String>,
        via: Via,
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
        let name = self.name_of(&draft.user).await?;
        let mut register_number = None;
        let result = loop {
            let mut attempt = case.clone();
            match chain::decide(
                &self.scripts,
                flow,
                &mut attempt,
                (&draft.user, &name),
                approve,
                reason.clone(),
                &via,
                register_number.as_deref(),
                now_ms,
            ) {
                Err(Refusal::NeedsRegisterNumber) if register_number.is_none() => {
                    let now = self.clock.at(now_ms);
                    let number = numbers::next(&*self.store, records::REGISTER_PREFIX, now);
                    register_number = Some(number.await?);
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
            chain::announce_approval(&self.scripts, flow, &decided, &leaders, &mut change);
        }
        if decided.status == CaseStatus::Approved && !flow.registers_account {
            let texts = Texts::new(&self.scripts, flow, &decided).with("name", name.clone());
            draft.say(&decided.applicant, texts.say("confirmed_to_applicant"));
        }
        if decided.status == CaseStatus::Approved && !flow.register_updates.is_empty() {
            self.update_register(draft, flow, &decided, now_ms).await?;
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
    pub(super) async fn update_register(
        &self,
        draft: &mut Draft,
        flow: &crate::scripts::FlowDef,
        report: &Case,
        now_ms: i64,
    ) -> Result<(), DispatchError> {
        let Some(crate::domain::engine::Answer::Ref {
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
    pub(super) fn refuse(&self, draft: &mut Draft, case: &Case, refusal: &Refusal) {
        self.say_about(draft, case, refusal.message());
    }

    pub(super) fn say_about(&self, draft: &mut Draft, case: &Case, key: &str) {
        if let Some(flow) = self.flow_of(draft, case) {
            draft.reply(Texts::new(&self.scripts, flow, case).say(key));
        }
    }

    pub(super) fn generic(&self, key: &str) -> String {
        self.scripts
            .render(&tpl::approval(key), &minijinja::Value::UNDEFINED)
    }
}
