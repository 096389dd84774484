//! The text commands of the approval workflow: `同意`/`驳回 <编号>` (decided in
//! [`super::approvals`]), `撤回`, `催办`, `修改 <编号>`, `状态`, `我的`, `待办`.

use super::{case_for, decide, refuse, say_about, steps};
use crate::base::scripts::tpl;
use crate::dispatch::{CaseWrites, DispatchError, Draft, LoadedCase, PendingReject, Services};
use crate::domain::approval::chain::{self, Refusal, Verdict, Via};
use crate::domain::approval::commands::{self, Command};
use crate::domain::approval::views;
use crate::domain::engine::{ConversationState, FormState, Phase};
use crate::domain::records::Texts;
use crate::domain::records::register_view;
use crate::domain::records::{self, Case, CaseStatus};
use crate::domain::reply::DeskPage;
use crate::process::incidents;

/// A text command outside a form; `false` when the text is not one.
pub(crate) async fn command(
    s: &Services,
    draft: &mut Draft,
    text: &str,
    now_ms: i64,
) -> Result<bool, DispatchError> {
    let Some(command) = commands::parse(text) else {
        return Ok(false);
    };
    if let Some(number) = numbered(&command)
        && incidents::case_command(s, draft, number, matches!(command, Command::Status { .. }))
            .await?
    {
        return Ok(true);
    }
    match command {
        Command::Usage { example } => usage(s, draft, example),
        Command::Approve { number } => {
            decide(s, draft, &number, Verdict::Approve, None, Via::Text, now_ms).await?
        }
        Command::Reject {
            number,
            reason: Some(reason),
        } => {
            let reason = Some(reason);
            decide(
                s,
                draft,
                &number,
                Verdict::Reject,
                reason,
                Via::Text,
                now_ms,
            )
            .await?
        }
        Command::Reject {
            number,
            reason: None,
        } => {
            if let Some((loaded, flow)) = case_for(s, draft, &number).await? {
                match chain::check(flow, &loaded.case, &draft.user, &Via::Text) {
                    Ok(()) => {
                        draft.conversation.awaiting_reason = Some(PendingReject {
                            case: number,
                            task_id: None,
                            response_code: None,
                            refuse: false,
                        });
                        say_about(s, draft, &loaded.case, "ask_reason");
                    }
                    Err(refusal) => refuse(s, draft, &loaded.case, &refusal, &Via::Text),
                }
            }
        }
        Command::Withdraw { number } => withdraw(s, draft, &number, now_ms).await?,
        Command::Urge { number } => urge(s, draft, &number, now_ms).await?,
        Command::Edit { number } => edit(s, draft, &number, now_ms).await?,
        Command::Status { number } => status(s, draft, &number).await?,
        Command::Mine => mine(s, draft).await?,
        Command::Todo { cards } => todo(s, draft, cards, now_ms).await?,
    }
    Ok(true)
}

/// The number a command names, if any.
fn numbered(command: &Command) -> Option<&str> {
    match command {
        Command::Approve { number }
        | Command::Reject { number, .. }
        | Command::Withdraw { number }
        | Command::Urge { number }
        | Command::Edit { number }
        | Command::Status { number } => Some(number),
        Command::Mine | Command::Todo { .. } | Command::Usage { .. } => None,
    }
}

/// How a command is typed, after a malformed one.
pub(crate) fn usage(s: &Services, draft: &mut Draft, example: &str) {
    let text = s.scripts.render(
        &tpl::approval("usage"),
        &minijinja::context! { example => example },
    );
    draft.reply(text);
}

pub(crate) async fn withdraw(
    s: &Services,
    draft: &mut Draft,
    number: &str,
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
    let before = case.clone();
    match chain::withdraw(&s.scripts, flow, &mut case, &draft.user, now_ms) {
        Ok(change) => {
            let write = case.update(version);
            s.apply(draft, write, change, now_ms).await?;
            if let Some(process) = s.processes.for_flow(flow) {
                process.on_ended(s, draft, flow, &case, now_ms).await?;
            }
        }
        Err(Refusal::Closed) => say_about(s, draft, &before, "cannot_withdraw"),
        Err(refusal) => refuse(s, draft, &before, &refusal, &Via::Text),
    }
    Ok(())
}

pub(crate) async fn urge(
    s: &Services,
    draft: &mut Draft,
    number: &str,
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
    let mut names = std::collections::HashMap::new();
    if let Some(step) = case.chain.get(case.current_step) {
        for person in &step.assignees {
            names.insert(person.clone(), s.name_of(person).await?);
        }
    }
    let name_of = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_owned());
    // "Once per working day": a weekend or holiday counts as the next working day.
    let calendar = &s.scripts.calendar;
    let working_day = |ms: i64| {
        let date = s.clock.at(ms).today;
        let day = if calendar.is_working_day(date) {
            date
        } else {
            calendar.add_working_days(date, 1).date
        };
        i64::from(chrono::Datelike::num_days_from_ce(&day))
    };
    let before = case.clone();
    match chain::urge(
        &s.scripts,
        flow,
        &mut case,
        &draft.user,
        (&working_day, &name_of),
        now_ms,
    ) {
        Ok(change) => {
            let write = case.update(version);
            s.apply(draft, write, change, now_ms).await?;
        }
        Err(refusal) => refuse(s, draft, &before, &refusal, &Via::Text),
    }
    Ok(())
}

/// `修改 <编号>`: reopens a rejected or withdrawn case's form at its summary, keeping the number.
pub(crate) async fn edit(
    s: &Services,
    draft: &mut Draft,
    number: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((LoadedCase { case, .. }, flow)) = case_for(s, draft, number).await? else {
        return Ok(());
    };
    let texts = Texts::new(&s.scripts, flow, &case);
    if case.applicant != draft.user {
        draft.reply(texts.say("no_permission"));
        return Ok(());
    }
    if !matches!(case.status, CaseStatus::Rejected | CaseStatus::Withdrawn) {
        draft.reply(texts.say("cannot_edit"));
        return Ok(());
    }
    draft.conversation.form = ConversationState {
        form: Some(FormState {
            flow: case.flow.clone(),
            version: s.scripts.version.clone(),
            phase: Phase::Confirm,
            answers: case.answers.clone(),
            strikes: 0,
            paused: false,
            pending: None,
            revising: false,
            last_active_ms: now_ms,
        }),
    };
    draft.conversation.editing = Some(case.number.clone());
    draft.reply(texts.say("edit_started"));
    Ok(())
}

/// Who may see a case: its applicant, its unit's leaders, the propaganda department.
pub(crate) async fn may_view(
    s: &Services,
    case: &Case,
    viewer: &str,
) -> Result<bool, DispatchError> {
    let leaders = s.directory.leaders_of(&case.unit).await?;
    let propaganda = s.directory.role_members("propaganda").await?;
    Ok(views::may_view(case, viewer, &leaders, &propaganda))
}

pub(crate) async fn status(
    s: &Services,
    draft: &mut Draft,
    number: &str,
) -> Result<(), DispatchError> {
    // A register number (DJ-…) names the registration that holds it.
    let held = s.case_number_of(number).await?;
    let Some((LoadedCase { case, history, .. }, _)) =
        case_for(s, draft, held.as_deref().unwrap_or(number)).await?
    else {
        return Ok(());
    };
    if !may_view(s, &case, &draft.user).await? {
        let text = s.scripts.render(
            &tpl::approval("no_permission"),
            &minijinja::context! { number => number },
        );
        draft.reply(text);
        return Ok(());
    }
    let mut names = std::collections::HashMap::new();
    for entry in &history {
        if !names.contains_key(&entry.by) {
            names.insert(entry.by.clone(), s.name_of(&entry.by).await?);
        }
    }
    let name_of = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_owned());
    draft.reply(views::status(
        &s.scripts,
        &case,
        &history,
        &name_of,
        &|ms| s.local_time(ms),
    ));
    // Then every answer, as `详情` shows them: who reads the history reads what it is about.
    draft.reply(register_view::details(&s.scripts, &case));
    Ok(())
}

/// Every answer of a case, to whoever may see it (the card's 详情 button).
pub(crate) async fn details(
    s: &Services,
    draft: &mut Draft,
    number: &str,
) -> Result<(), DispatchError> {
    let Some((LoadedCase { case, .. }, _)) = case_for(s, draft, number).await? else {
        return Ok(());
    };
    if !may_view(s, &case, &draft.user).await? {
        let text = s.scripts.render(
            &tpl::approval("no_permission"),
            &minijinja::context! { number => number },
        );
        draft.reply(text);
        return Ok(());
    }
    draft.reply(register_view::details(&s.scripts, &case));
    Ok(())
}

pub(crate) async fn mine(s: &Services, draft: &mut Draft) -> Result<(), DispatchError> {
    let mut mine = Vec::new();
    for number in s
        .store
        .cases_in(&records::applicant_index(&draft.user))
        .await?
    {
        mine.extend(s.load_case(&number).await?.map(|l| l.case));
    }
    let mut accounts = Vec::new();
    for unit in s.directory.units_of(&draft.user).await? {
        for number in s
            .store
            .cases_in(&records::unit_register_index(&unit.id))
            .await?
        {
            accounts.extend(s.load_case(&number).await?.map(|l| l.case));
        }
    }
    // The propaganda department acts on every unit's cases: it sees what waits for it.
    let propaganda = s.directory.role_members("propaganda").await?;
    let supervisor = propaganda.contains(&draft.user);
    let mut waiting = Vec::new();
    if supervisor {
        let loaded = waiting_for(s, &draft.user).await?;
        waiting.extend(loaded.into_iter().map(|l| l.case));
    }
    let supervision = supervisor.then_some(views::Supervisor { waiting: &waiting });
    draft.reply(views::mine(&s.scripts, &mine, &accounts, supervision));
    Ok(())
}

/// The cases whose open step waits for `user`'s decision.
async fn waiting_for(s: &Services, user: &str) -> Result<Vec<LoadedCase>, DispatchError> {
    let mut waiting = Vec::new();
    for number in s.store.cases_in(&records::pending_index(user)).await? {
        let Some(loaded) = s.load_case(&number).await? else {
            continue;
        };
        let open = match s.scripts.flows.get(&loaded.case.flow) {
            Some(flow) => chain::check(flow, &loaded.case, user, &Via::Text).is_ok(),
            // A retired flow: listed, so that acting on it says the flow is retired.
            None => true,
        };
        if open {
            waiting.push(loaded);
        }
    }
    Ok(waiting)
}

/// `待办`: the list, or (`待办 卡片`) a fresh card per waiting case.
pub(crate) async fn todo(
    s: &Services,
    draft: &mut Draft,
    cards: bool,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let mut waiting = Vec::new();
    for loaded in waiting_for(s, &draft.user).await? {
        if let Some(flow) = s.flow_of(draft, &loaded.case) {
            waiting.push((loaded, flow));
        }
    }
    if !cards || waiting.is_empty() {
        let list: Vec<Case> = waiting.into_iter().map(|(l, _)| l.case).collect();
        let text = views::todo(&s.scripts, &list);
        match list.is_empty() {
            true => draft.reply(text),
            false => draft.reply_about(text, DeskPage::Todo),
        }
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
        let task_id = steps::task_id(&case.number, case.round, step_index);
        let Some(step) = case.chain.get_mut(step_index) else {
            continue;
        };
        step.task_ids.push(task_id);
        let mut fresh = step.clone();
        fresh.assignees = vec![draft.user.clone()];
        let mut change = chain::Change::default();
        chain::send_card(&s.scripts, flow, &case, &fresh, &mut change);
        let write = case.update(version);
        s.apply(draft, write, change, now_ms).await?;
    }
    Ok(())
}
