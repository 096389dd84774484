//! The approval chain as a pure state machine over a [`Case`]: open it, decide a step (or-sign
//! or all-sign), withdraw, urge, resubmit. Each function returns what changes (the case,
//! history lines, messages, index moves) or why nothing may change ([`Refusal`]).

use super::card::approval_card;
use super::separation;
use crate::base::scripts::{FlowDef, Scripts, SignMode};
use crate::domain::engine::Answer;
use crate::domain::records::Texts;
use crate::domain::records::{
    self, ApprovalStep, Case, CaseStatus, Decision, HistoryKind, pending_index,
};
use crate::domain::reply::Reply;

/// Why an action changes nothing; each is told to the actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotAssignee,
    /// The actor filed the case or is its subject (separation of duties).
    Recused,
    AlreadyDecided,
    Closed,
    CardExpired,
    NoPermission,
    UrgeLimit,
    /// Final approval of a registration: the caller allocates a register number and retries.
    NeedsRegisterNumber,
}

impl Refusal {
    /// The `[approvals]` message telling the actor.
    pub fn message(&self) -> &'static str {
        match self {
            Refusal::NotAssignee => "not_assignee",
            Refusal::Recused => "recused",
            Refusal::AlreadyDecided => "already_decided",
            Refusal::Closed => "case_closed",
            Refusal::CardExpired => "card_expired",
            Refusal::NoPermission => "no_permission",
            Refusal::UrgeLimit => "urge_limit",
            Refusal::NeedsRegisterNumber => "case_closed",
        }
    }
}

/// What an action changes.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub history: Vec<String>,
    pub messages: Vec<Reply>,
    pub add_to: Vec<String>,
    pub remove_from: Vec<String>,
    /// Cards of a step that closed some other way than by a tap on them: the caller greys out
    /// those whose response codes it knows.
    pub spent_cards: Option<SpentCards>,
}

/// Cards to grey out: their task ids, who got them, and the label to show instead of buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentCards {
    pub task_ids: Vec<String>,
    pub members: Vec<String>,
    pub label: String,
}

impl Change {
    fn say(&mut self, to: &str, content: String) {
        self.messages.push(Reply::text(to, content));
    }
}

/// Builds the chain of a freshly filed (or resubmitted) case and opens its first step that is
/// not skipped. `assignees[i]` are the resolved userids of step `i`; `task_ids[i]` fresh,
/// unguessable ids; `skip[i]` whether the flow's process leaves step `i` out of this round.
pub fn open(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &mut Case,
    (assignees, task_ids, skip): (Vec<Vec<String>>, Vec<String>, Vec<bool>),
    now_ms: i64,
) -> Change {
    case.chain = flow
        .approval
        .iter()
        .zip(assignees)
        .zip(task_ids)
        .map(|((def, people), task_id)| ApprovalStep {
            label: def.label.clone(),
            role: match &def.assignment {
                crate::base::scripts::Assignment::Role(r) => r.clone(),
                crate::base::scripts::Assignment::Users(_) => "users".into(),
            },
            mode: def.mode,
            assignees: people,
            task_ids: vec![task_id],
            opened_at_ms: None,
            deadline_ms: None,
            decisions: Vec::new(),
            last_urged_ms: None,
            skipped: false,
        })
        .collect();
    for (step, skip) in case.chain.iter_mut().zip(skip) {
        step.skipped = skip;
    }
    case.current_step = next_step(case, 0).unwrap_or(0);
    case.status = CaseStatus::Pending;
    let mut change = Change::default();
    open_step(scripts, flow, case, now_ms, &mut change);
    change
}

/// The first step at or after `from` that is not skipped.
fn next_step(case: &Case, from: usize) -> Option<usize> {
    (from..case.chain.len()).find(|i| !case.chain[*i].skipped)
}

/// Opens `case.current_step`: stamps it and sends its card to the assignees, followed by the
/// files answered in the form (a screenshot, a draft), so that they decide on what was sent.
fn open_step(scripts: &Scripts, flow: &FlowDef, case: &mut Case, now_ms: i64, change: &mut Change) {
    let Some(step) = case.chain.get_mut(case.current_step) else {
        return;
    };
    step.opened_at_ms = Some(now_ms);
    let step = step.clone();
    send_card(scripts, flow, case, &step, change);
    for person in &step.assignees {
        change.add_to.push(pending_index(person));
        for (_, answer) in &case.answers.0 {
            if let Answer::File(evidence) = answer {
                change.messages.push(Reply::Evidence {
                    to: person.clone(),
                    evidence: evidence.clone(),
                });
            }
        }
    }
}

/// One card message to every assignee who has not decided yet.
pub fn send_card(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &Case,
    step: &ApprovalStep,
    change: &mut Change,
) {
    let waiting: Vec<&str> = step
        .assignees
        .iter()
        .filter(|p| !step.decisions.iter().any(|d| &d.by == *p))
        .map(String::as_str)
        .collect();
    if waiting.is_empty() {
        return;
    }
    let texts = Texts::new(scripts, flow, case);
    change.messages.push(Reply::Card {
        to: waiting.into_iter().map(str::to_owned).collect(),
        card: approval_card(&texts, flow, case, step),
    });
}

/// What a decider says: approve, send back for changes (驳回; the applicant may edit and
/// resubmit), or refuse for good (only in a `refusable` flow, e.g. 不得发布).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
    Refuse,
}

impl Verdict {
    /// The `[approvals]` messages naming it: the decision word and the card's closing label.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Verdict::Approve => ("decision_approve", "card_approved"),
            Verdict::Reject => ("decision_reject", "card_rejected"),
            Verdict::Refuse => ("decision_refuse", "card_refused"),
        }
    }
}

/// How a decision arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A tap on a card: its task id and the single-use response code to update the card with.
    Card {
        task_id: String,
        response_code: String,
    },
    /// A text command (`同意 <编号>`): no card to update, so the others get a message instead.
    Text,
}

/// Whether `actor` may decide the open step now (and, for a card, whether the card is the
/// step's): never someone [`separation::recused`] from the case, even on a card or a chain
/// opened before. Used before asking for a rejection reason, and by [`decide`].
pub fn check(flow: &FlowDef, case: &Case, actor: &str, via: &Via) -> Result<(), Refusal> {
    if let Via::Card { task_id, .. } = via {
        let known = case.chain.iter().any(|s| s.task_ids.contains(task_id));
        if !known {
            return Err(Refusal::CardExpired);
        }
        let current = case
            .chain
            .get(case.current_step)
            .is_some_and(|s| s.task_ids.contains(task_id));
        if !current && case.status == CaseStatus::Pending {
            return Err(Refusal::AlreadyDecided);
        }
    }
    if case.status != CaseStatus::Pending {
        return Err(Refusal::Closed);
    }
    let step = case.chain.get(case.current_step).ok_or(Refusal::Closed)?;
    if separation::is_recused(&separation::recused(flow, case), actor) {
        return Err(Refusal::Recused);
    }
    if !step.assignees.iter().any(|p| p == actor) {
        return Err(Refusal::NotAssignee);
    }
    if step.decisions.iter().any(|d| d.by == actor) {
        return Err(Refusal::AlreadyDecided);
    }
    Ok(())
}

/// Applies one decision exactly once: updates cards, moves the chain, tells the people.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &mut Case,
    actor: (&str, &str),
    verdict: Verdict,
    reason: Option<String>,
    via: &Via,
    register_number: Option<&str>,
    now_ms: i64,
) -> Result<Change, Refusal> {
    let (actor, actor_name) = actor;
    if verdict == Verdict::Refuse && !flow.refusable {
        return Err(Refusal::CardExpired);
    }
    check(flow, case, actor, via)?;
    let approve = verdict == Verdict::Approve;
    let index = case.current_step;
    let step = case.chain.get(index).ok_or(Refusal::Closed)?;
    let closes = !approve
        || step.mode == SignMode::Any
        || step
            .assignees
            .iter()
            .all(|p| p == actor || step.decisions.iter().any(|d| &d.by == p));
    let next = next_step(case, index + 1);
    let last_step = next.is_none();
    if approve && closes && last_step && flow.registers_account && register_number.is_none() {
        return Err(Refusal::NeedsRegisterNumber);
    }
    let mut change = Change::default();
    let step = case.chain.get_mut(index).ok_or(Refusal::Closed)?;
    step.decisions.push(Decision {
        by: actor.to_owned(),
        by_name: actor_name.to_owned(),
        approve,
        reason: reason.clone(),
        at_ms: now_ms,
    });
    let step = step.clone();
    let label = step.label.clone();
    let kind = match verdict {
        Verdict::Approve => HistoryKind::Approved { step: label },
        Verdict::Reject => HistoryKind::Rejected {
            step: label,
            reason: reason.clone(),
        },
        Verdict::Refuse => HistoryKind::Refused {
            step: label,
            reason: reason.clone(),
        },
    };
    change.history.push(records::history(now_ms, actor, kind));

    let mut texts = Texts::new(scripts, flow, case).with("name", actor_name.to_owned());
    let (decision_word, card_word) = verdict.words();
    let decision = texts.say(decision_word);
    texts.set("decision", decision.clone());
    // The cards: greyed out with the decision for everyone the card went to (or-sign, or a
    // closing decision), else only for the decider. Without a response code (text command),
    // the others get a message instead.
    let label = texts.say(card_word);
    let (card_people, others): (Vec<String>, Vec<String>) = if closes {
        (
            step.assignees.clone(),
            step.assignees
                .iter()
                .filter(|p| *p != actor)
                .cloned()
                .collect(),
        )
    } else {
        (vec![actor.to_owned()], Vec::new())
    };
    // Every other card of the step that closes (fresh cards from `待办 卡片`, or all of them
    // after a text decision) is greyed out too, where its response code is known.
    let tapped = match via {
        Via::Card { task_id, .. } => Some(task_id),
        Via::Text => None,
    };
    if closes {
        change.spent_cards = Some(SpentCards {
            task_ids: step
                .task_ids
                .iter()
                .filter(|t| Some(*t) != tapped)
                .cloned()
                .collect(),
            members: step.assignees.clone(),
            label: label.clone(),
        });
    }
    match via {
        Via::Card { response_code, .. } => change.messages.push(Reply::CloseCard {
            members: card_people,
            response_code: response_code.clone(),
            label,
            fallback: Some(texts.say("decided_elsewhere")),
        }),
        Via::Text => {
            for other in &others {
                change.say(other, texts.say("decided_elsewhere"));
            }
        }
    }
    change.say(actor, texts.say("decision_recorded"));
    change.remove_from.push(pending_index(actor));
    if !closes {
        return Ok(change);
    }
    for person in &step.assignees {
        change.remove_from.push(pending_index(person));
    }
    if !approve {
        let (status, notice) = match verdict {
            Verdict::Refuse => (CaseStatus::Refused, "refused_to_applicant"),
            _ => (CaseStatus::Rejected, "rejected_to_applicant"),
        };
        case.status = status;
        case.decided_at_ms = Some(now_ms);
        let texts = texts.with("reason", reason.unwrap_or_default());
        change.say(&case.applicant, texts.say(notice));
        return Ok(change);
    }
    if let Some(next) = next {
        case.current_step = next;
        let next = case
            .chain
            .get(case.current_step)
            .map(|s| s.label.clone())
            .unwrap_or_default();
        change.say(&case.applicant, texts.with("next", next).say("step_passed"));
        open_step(scripts, flow, case, now_ms, &mut change);
        return Ok(change);
    }
    case.status = CaseStatus::Approved;
    case.decided_at_ms = Some(now_ms);
    case.signed_answers = Some(case.answers.clone());
    if let Some(number) = register_number {
        case.register_number = Some(number.to_owned());
        change.history.push(records::history(
            now_ms,
            actor,
            HistoryKind::Registered {
                register_number: number.to_owned(),
            },
        ));
        change.add_to.push(records::REGISTER.to_owned());
        change.add_to.push(records::register_number_index(number));
        change.add_to.push(records::unit_register_index(&case.unit));
    }
    Ok(change)
}

/// Who must hear of a final approval: the applicant and the unit's leaders.
pub fn announce_approval(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &Case,
    unit_leaders: &[String],
    change: &mut Change,
) {
    let account = case
        .answers
        .get("account_name")
        .map(|a| Texts::new(scripts, flow, case).answer(a))
        .unwrap_or_default();
    let texts = Texts::new(scripts, flow, case)
        .with(
            "register_number",
            case.register_number.clone().unwrap_or_default(),
        )
        .with("account", account);
    change.say(&case.applicant, texts.say("approved_to_applicant"));
    for leader in unit_leaders.iter().filter(|l| **l != case.applicant) {
        change.say(leader, texts.say("registered_to_leader"));
    }
}

/// The applicant withdraws a case before the final decision.
pub fn withdraw(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &mut Case,
    actor: &str,
    now_ms: i64,
) -> Result<Change, Refusal> {
    if actor != case.applicant {
        return Err(Refusal::NoPermission);
    }
    if case.status != CaseStatus::Pending && case.status != CaseStatus::Rejected {
        return Err(Refusal::Closed);
    }
    let mut change = Change::default();
    let was_pending = case.status == CaseStatus::Pending;
    let texts = Texts::new(scripts, flow, case);
    if let Some(step) = case
        .chain
        .get(case.current_step)
        .filter(|_| case.status == CaseStatus::Pending)
    {
        for person in &step.assignees {
            change.remove_from.push(pending_index(person));
            if !step.decisions.iter().any(|d| &d.by == person) {
                change.say(person, texts.say("withdrawn_to_approver"));
            }
        }
    }
    change.say(actor, texts.say("withdrawn"));
    change
        .history
        .push(records::history(now_ms, actor, HistoryKind::Withdrawn));
    case.status = CaseStatus::Withdrawn;
    case.decided_at_ms = Some(now_ms);
    if let Some(step) = case.chain.get(case.current_step).filter(|_| was_pending) {
        change.spent_cards = Some(SpentCards {
            task_ids: step.task_ids.clone(),
            members: step.assignees.clone(),
            label: Texts::new(scripts, flow, case).say("card_stale"),
        });
    }
    Ok(change)
}

/// How urging tells days apart and names people: `(day of a moment, name of a userid)`.
pub type UrgeHelpers<'a> = (&'a dyn Fn(i64) -> i64, &'a dyn Fn(&str) -> String);

/// The applicant urges the open step: a reminder to each assignee who has not decided, at most
/// once per `day` (the caller's working day number) per step.
pub fn urge(
    scripts: &Scripts,
    flow: &FlowDef,
    case: &mut Case,
    actor: &str,
    (day_of, name_of): UrgeHelpers<'_>,
    now_ms: i64,
) -> Result<Change, Refusal> {
    if actor != case.applicant {
        return Err(Refusal::NoPermission);
    }
    if case.status != CaseStatus::Pending {
        return Err(Refusal::Closed);
    }
    let step = case
        .chain
        .get_mut(case.current_step)
        .ok_or(Refusal::Closed)?;
    if step
        .last_urged_ms
        .is_some_and(|at| day_of(at) == day_of(now_ms))
    {
        return Err(Refusal::UrgeLimit);
    }
    step.last_urged_ms = Some(now_ms);
    let step = step.clone();
    let waiting: Vec<&String> = step
        .assignees
        .iter()
        .filter(|p| !step.decisions.iter().any(|d| &d.by == *p))
        .collect();
    let mut change = Change::default();
    let texts = Texts::new(scripts, flow, case);
    for person in &waiting {
        change.say(person, texts.say("urge_to_approver"));
    }
    change.history.push(records::history(
        now_ms,
        actor,
        HistoryKind::Urged {
            step: step.label.clone(),
        },
    ));
    let names: Vec<String> = waiting.iter().map(|p| name_of(p)).collect();
    change.say(actor, texts.with("names", names.join("、")).say("urged"));
    Ok(change)
}

#[cfg(test)]
mod tests;
