//! A closure the propaganda department orders (责令注销, policy 3.1.2, 3.3.3): a member of the
//! department types `责令注销 <登记编号> <理由>`; the account is marked 注销中 and a duty of kind
//! `closure_order` opens, due from the account's administrator and the unit's leaders within
//! `[duties.closure_order] working_days`, chased by its ladder (the duty machinery of
//! [`crate::process::change_report::duties`]). `已注销 <登记编号> <链接>` from one of them, or
//! an approved 注销 report of the account, ends it: timers cancelled, the account 已注销, the
//! department member who ordered it told. Words: `[closure_order]` of bot.toml.

use crate::adapters::store::CaseWrite;
use crate::base::normalize;
use crate::base::scripts::{CLOSURE_ORDER, tpl};
use crate::dispatch::{DispatchError, Draft, LoadedCase, Services};
use crate::domain::engine::Answer;
use crate::domain::records::AccountStatus;
use crate::domain::reminders::duty::{self, Duty};
use crate::process::change_report::duties;

use super::set_status;

/// A text command of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `责令注销 DJ-… 理由`.
    Order {
        register_number: String,
        reason: String,
    },
    /// `已注销 DJ-… 链接`.
    Closed {
        register_number: String,
        link: String,
    },
    /// The command word without what it needs: its example.
    Usage { example: &'static str },
}

const ORDER_EXAMPLE: &str = "责令注销 DJ-2026-0001 账号长期停更且未按要求整改";
const CLOSED_EXAMPLE: &str = "已注销 DJ-2026-0001 https://pan.example.com/s/zhuxiao";

/// Reads a text as one of the commands.
pub fn parse(text: &str) -> Option<Command> {
    let text = normalize::normalize(text);
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, r.trim()),
        None => (text.as_str(), ""),
    };
    let (number, tail) = match rest.split_once(' ') {
        Some((n, t)) => (normalize::ascii(n).to_uppercase(), t.trim().to_owned()),
        None => (normalize::ascii(rest).to_uppercase(), String::new()),
    };
    let numbered = number.starts_with("DJ-");
    match word {
        "责令注销" if numbered && !tail.is_empty() => Some(Command::Order {
            register_number: number,
            reason: tail,
        }),
        "责令注销" => Some(Command::Usage {
            example: ORDER_EXAMPLE,
        }),
        "已注销" if numbered && (tail.starts_with("http://") || tail.starts_with("https://")) => {
            Some(Command::Closed {
                register_number: number,
                link: tail,
            })
        }
        "已注销" => Some(Command::Usage {
            example: CLOSED_EXAMPLE,
        }),
        _ => None,
    }
}

/// The kind of a command, as `[messages.commands]` names it (for the question a form asks when
/// one is typed at a free-text prompt).
pub fn kind(command: &Command) -> &'static str {
    match command {
        Command::Order { .. } => "order_closure",
        Command::Closed { .. } => "confirm_closed",
        Command::Usage { example } if example.starts_with("责令注销") => "order_closure",
        Command::Usage { .. } => "confirm_closed",
    }
}

fn say(s: &Services, key: &str, ctx: minijinja::Value) -> String {
    s.scripts.render(&tpl::closure_order(key), &ctx)
}

/// Runs a parsed command for the conversation's user.
pub async fn run(
    s: &Services,
    d: &mut Draft,
    command: Command,
    now_ms: i64,
) -> Result<(), DispatchError> {
    match command {
        Command::Usage { example } => {
            d.reply(say(s, "usage", minijinja::context! { example }));
            Ok(())
        }
        Command::Order {
            register_number,
            reason,
        } => order(s, d, &register_number, &reason, now_ms).await,
        Command::Closed {
            register_number,
            link,
        } => confirm(s, d, &register_number, &link, now_ms).await,
    }
}

/// The register entry of `register_number`, or the user is told it is unknown.
async fn entry(
    s: &Services,
    d: &mut Draft,
    register_number: &str,
) -> Result<Option<LoadedCase>, DispatchError> {
    let loaded = match s.case_number_of(register_number).await? {
        Some(number) => s.load_case(&number).await?,
        None => None,
    };
    if loaded.is_none() {
        let text = s.scripts.render(
            &tpl::approval("unknown_case"),
            &minijinja::context! { number => register_number },
        );
        d.reply(text);
    }
    Ok(loaded)
}

/// The open closure order of an account, with its version.
pub(crate) async fn open_order(
    s: &Services,
    register_number: &str,
) -> Result<Option<(Duty, u64)>, DispatchError> {
    for number in s
        .store
        .cases_in(&duty::order_index(register_number))
        .await?
    {
        if let Some(found) = duties::load_duty(s, &number).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// `责令注销`: only the propaganda department may; the order opens a chased duty.
async fn order(
    s: &Services,
    d: &mut Draft,
    register_number: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let propaganda = s.directory.role_members("propaganda").await?;
    if !propaganda.contains(&d.user) {
        tracing::info!(user = %d.user, "closure order refused: not the department");
        d.reply(say(s, "refused", minijinja::Value::UNDEFINED));
        return Ok(());
    }
    let Some(loaded) = entry(s, d, register_number).await? else {
        return Ok(());
    };
    let account = &loaded.case;
    let name = duties::account_name(s, account);
    if account.account_status == AccountStatus::Closed {
        let ctx = minijinja::context! { account => &name, register_number };
        d.reply(say(s, "already_closed", ctx));
        return Ok(());
    }
    if let Some((open, _)) = open_order(s, register_number).await? {
        let ctx = minijinja::context! {
            account => &name, register_number, number => &open.number, deadline => &open.deadline,
        };
        d.reply(say(s, "already_ordered", ctx));
        return Ok(());
    }
    let Some(order) = open(s, d, loaded, register_number, reason, now_ms).await? else {
        return Ok(());
    };
    let ctx = minijinja::context! {
        unit => &order.unit_name, account => &name, register_number,
        number => &order.number, deadline => &order.deadline,
    };
    d.reply(say(s, "ordered", ctx));
    Ok(())
}

/// Opens the closure order of the account `loaded` (`register_number`) for `reason`, ordered
/// by the conversation's user: the account is marked 注销中, its administrator and the unit's
/// leaders are told and chased. `None` when bot.toml has no `[duties.closure_order]`. The
/// caller has checked that the account is not closed and has no open order.
pub(crate) async fn open(
    s: &Services,
    d: &mut Draft,
    loaded: LoadedCase,
    register_number: &str,
    reason: &str,
    now_ms: i64,
) -> Result<Option<Duty>, DispatchError> {
    let Some(def) = s.scripts.duties.get(CLOSURE_ORDER).cloned() else {
        return Ok(None);
    };
    let account = &loaded.case;
    let mut due = Vec::new();
    if let Some(Answer::Member { userid, .. }) = account.answers.get("admin") {
        due.push(userid.clone());
    }
    for leader in s.directory.leaders_of(&account.unit).await? {
        if !due.contains(&leader) {
            due.push(leader);
        }
    }
    let order = Duty {
        number: String::new(),
        kind: CLOSURE_ORDER.into(),
        unit: account.unit.clone(),
        unit_name: account.unit_name.clone(),
        account: register_number.to_owned(),
        account_name: duties::account_name(s, account),
        person: s.name_of(&d.user).await?,
        role: CLOSURE_ORDER.into(),
        event: reason.to_owned(),
        due,
        deadline: String::new(),
        opened_at_ms: now_ms,
        done: false,
        timers: Vec::new(),
        ordered_by: Some(d.user.clone()),
        evidence: None,
        campaign: None,
    };
    let open = vec![duty::order_index(register_number)];
    let order = duties::start(s, d, &def, order, open, now_ms).await?;
    set_status(d, loaded, AccountStatus::Closing, &order.number, now_ms);
    Ok(Some(order))
}

/// `已注销`: one of the people due confirms the ordered closure with evidence.
async fn confirm(
    s: &Services,
    d: &mut Draft,
    register_number: &str,
    link: &str,
    now_ms: i64,
) -> Result<(), DispatchError> {
    let Some((order, version)) = open_order(s, register_number).await? else {
        d.reply(say(s, "no_order", minijinja::context! { register_number }));
        return Ok(());
    };
    let ctx = minijinja::context! {
        account => &order.account_name, register_number, unit => &order.unit_name,
        number => &order.number, link, name => s.name_of(&d.user).await?,
    };
    if !order.due.contains(&d.user) {
        d.reply(say(s, "not_due", ctx));
        return Ok(());
    }
    d.reply(say(s, "closed", ctx));
    let source = order.number.clone();
    end(s, d, order, version, link).await?;
    if let Some(loaded) = entry(s, d, register_number).await? {
        set_status(d, loaded, AccountStatus::Closed, &source, now_ms);
        s.register_changed(d, now_ms);
    }
    Ok(())
}

/// An approved 注销 report of `register_number` ends its open order, if any.
pub async fn end_by_report(
    s: &Services,
    d: &mut Draft,
    register_number: &str,
    report: &str,
) -> Result<(), DispatchError> {
    if let Some((order, version)) = open_order(s, register_number).await? {
        end(s, d, order, version, report).await?;
    }
    Ok(())
}

/// The order is done with `evidence` (a link, or the approved report's number): the member
/// who ordered it is told, its timers are cancelled and it leaves the open index.
async fn end(
    s: &Services,
    d: &mut Draft,
    mut order: Duty,
    version: u64,
    evidence: &str,
) -> Result<(), DispatchError> {
    if let Some(by) = &order.ordered_by {
        let ctx = minijinja::context! {
            account => &order.account_name, register_number => &order.account,
            unit => &order.unit_name, number => &order.number, link => evidence,
            name => s.name_of(&d.user).await?,
        };
        d.say(by, say(s, "closed_to_department", ctx));
    }
    order.done = true;
    order.evidence = Some(evidence.to_owned());
    d.commit.cancel_timers.append(&mut order.timers);
    tracing::info!(order = %order.number, "closure order done");
    d.write_case(CaseWrite {
        number: order.number.clone(),
        expected_version: Some(version),
        body: Some(serde_json::to_string(&order).expect("a duty serializes")),
        remove_from: vec![duty::order_index(&order.account)],
        ..CaseWrite::default()
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_need_a_register_number_and_a_reason_or_a_link() {
        assert_eq!(
            parse("责令注销 dj-2026-0001 长期停更"),
            Some(Command::Order {
                register_number: "DJ-2026-0001".into(),
                reason: "长期停更".into()
            })
        );
        assert!(matches!(
            parse("责令注销 DJ-2026-0001"),
            Some(Command::Usage { .. })
        ));
        assert_eq!(
            parse("已注销 DJ-2026-0001 https://x.example/1"),
            Some(Command::Closed {
                register_number: "DJ-2026-0001".into(),
                link: "https://x.example/1".into()
            })
        );
        assert!(matches!(
            parse("已注销 DJ-2026-0001 截图"),
            Some(Command::Usage { .. })
        ));
        assert_eq!(parse("注销"), None);
    }
}
