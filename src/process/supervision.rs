//! The propaganda department's supervision in chat (policy 2.1): `台账` lists the registered
//! accounts by unit, platform and status a page at a time (`台账 2`, or `下一页`), `查询 <词>`
//! finds accounts by name, account ID, unit or person, `统计` counts them by unit, platform and
//! status with the cases waiting for a decision and the duties still open. The department sees
//! every unit, a unit leader only the units they lead; anyone else is politely refused.
//! `导出 台账` / `导出 事项` send the spreadsheet of what they supervise into the chat as an XLSX
//! file (built and uploaded by the outbox sender at delivery).
//! `详情 <编号>` (a case or register number) sends every answer of the case to whoever may see
//! it (its applicant, its unit's leaders, the department).
//!
//! Only when bot.toml has `[supervision]` and no form is being filled. Reads through
//! [`Services`]; the texts are [`crate::domain::records::register_view`].

use async_trait::async_trait;

use crate::base::directory::{Directory, DirectoryError};
use crate::base::normalize;
use crate::base::scripts::CLOSURE_ORDER;
use crate::base::scripts::tpl;
use crate::dispatch::{DispatchError, Draft, Handled, Process, Services};
use crate::domain::approval::commands::case_number;
use crate::domain::engine::CommandInput;
use crate::domain::records::export::{Export, What};
use crate::domain::records::register_view::{self, Entry, Scope};
use crate::domain::records::{self, Case, CaseStatus};
use crate::domain::reminders::duty::{ALL_DUTIES, Duty};
use crate::domain::reply::Reply;

use super::approvals::commands::{may_view, usage};

/// The supervision process.
pub struct Supervision;

/// A supervision command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `台账` / `台账 <页>`.
    Ledger { page: usize },
    /// `下一页` after a `台账` page.
    NextPage,
    /// `查询 <词>`.
    Search { word: String },
    /// `统计`.
    Stats,
    /// `详情 <编号>`.
    Details { number: String },
    /// `导出 台账` / `导出 事项`: the spreadsheet as a file in the chat.
    Export { what: What },
    /// A command word with a missing or malformed argument.
    Usage { example: &'static str },
}

/// The command in `text`, if it is one.
pub fn parse(text: &str) -> Option<Command> {
    let text = normalize::normalize(text);
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, r.trim()),
        None => (text.as_str(), ""),
    };
    match word {
        "台账" if rest.is_empty() => Some(Command::Ledger { page: 1 }),
        "台账" => Some(match normalize::ascii(rest).parse::<usize>() {
            Ok(page) if page > 0 => Command::Ledger { page },
            _ => Command::Usage {
                example: "台账 2"
            },
        }),
        "下一页" if rest.is_empty() => Some(Command::NextPage),
        "查询" if rest.is_empty() => Some(Command::Usage {
            example: "查询 账号名称",
        }),
        "查询" => Some(Command::Search {
            word: rest.to_owned(),
        }),
        "统计" if rest.is_empty() => Some(Command::Stats),
        "导出" => Some(match rest {
            "台账" | "登记册" => Command::Export {
                what: What::Register,
            },
            "事项" => Command::Export { what: What::Cases },
            _ => Command::Usage {
                example: "导出 台账",
            },
        }),
        "详情" => Some(match case_number(&normalize::ascii(rest)) {
            Some(number) => Command::Details { number },
            None => Command::Usage {
                example: "详情 DJ-2026-0001",
            },
        }),
        _ => None,
    }
}

impl Command {
    /// What kind of command it is, as `[messages.commands]` in bot.toml names it.
    fn kind(&self) -> &'static str {
        match self {
            Command::Ledger { .. } | Command::NextPage => "ledger",
            Command::Search { .. } => "search",
            Command::Stats => "stats",
            Command::Details { .. } => "details",
            Command::Export { .. } => "export",
            Command::Usage { example } => match example.split(' ').next() {
                Some("查询") => "search",
                Some("详情") => "details",
                Some("导出") => "export",
                _ => "ledger",
            },
        }
    }
}

#[async_trait]
impl Process for Supervision {
    fn name(&self) -> &'static str {
        "supervision"
    }

    fn command_in_form(&self, s: &Services, text: &str) -> Option<CommandInput> {
        let command = parse(text).filter(|c| s.scripts.supervision && *c != Command::NextPage)?;
        Some(CommandInput {
            kind: command.kind().to_owned(),
            opens_form: false,
        })
    }

    async fn on_text(&self, s: &Services, d: &mut Draft, text: &str, _now_ms: i64) -> Handled {
        if !s.scripts.supervision || !d.conversation.form.is_idle() {
            return Ok(false);
        }
        let Some(command) = parse(text) else {
            return Ok(false);
        };
        if command == Command::NextPage && d.conversation.ledger_page.is_none() {
            // Not after a 台账 page: not ours.
            return Ok(false);
        }
        match command {
            Command::Usage { example } => usage(s, d, example),
            Command::Details { number } => details(s, d, &number).await?,
            command => {
                let Some(scope) = scope_of(s, &d.user).await? else {
                    refuse(s, d);
                    return Ok(true);
                };
                match command {
                    Command::Ledger { page } => ledger(s, d, &scope, page).await?,
                    Command::NextPage => {
                        let page = d.conversation.ledger_page.unwrap_or_default() + 1;
                        ledger(s, d, &scope, page).await?;
                    }
                    Command::Search { word } => {
                        let entries = entries(s, &scope).await?;
                        d.reply(register_view::search(&s.scripts, &entries, &word));
                    }
                    Command::Stats => stats(s, d, &scope).await?,
                    Command::Export { what } => export(s, d, &scope, what),
                    _ => {}
                }
            }
        }
        Ok(true)
    }
}

fn refuse(s: &Services, d: &mut Draft) {
    let text = s
        .scripts
        .render(&tpl::supervision("refused"), &minijinja::Value::UNDEFINED);
    d.reply(text);
}

/// Policy 2.1: the propaganda department supervises every unit; a unit's leader their own
/// units; anyone else nothing (`None`).
pub(crate) async fn scope_of(s: &Services, user: &str) -> Result<Option<Scope>, DispatchError> {
    Ok(scope_in(&*s.directory, user).await?)
}

/// [`scope_of`] from the directory alone, for readers outside an event (the web desk).
pub async fn scope_in(
    directory: &dyn Directory,
    user: &str,
) -> Result<Option<Scope>, DirectoryError> {
    let propaganda = directory.role_members("propaganda").await?;
    if propaganda.iter().any(|p| p == user) {
        return Ok(Some(Scope::All));
    }
    let snapshot = directory.snapshot().await?;
    let led: Vec<(String, String)> = snapshot
        .units
        .iter()
        .filter(|u| u.leaders.iter().any(|l| l == user))
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    Ok((!led.is_empty()).then_some(Scope::Units(led)))
}

/// The stored cases of `index` (unreadable ones skipped).
async fn load(s: &Services, index: &str) -> Result<Vec<Case>, DispatchError> {
    let mut cases = Vec::new();
    for number in s.store.cases_in(index).await? {
        cases.extend(s.load_case(&number).await?.map(|l| l.case));
    }
    Ok(cases)
}

/// Every case filed, for the counts and the accounts being changed.
async fn all_cases(s: &Services) -> Result<Vec<Case>, DispatchError> {
    load(s, records::ALL_CASES).await
}

/// The register entries in `scope`, with their status.
async fn entries(s: &Services, scope: &Scope) -> Result<Vec<Entry>, DispatchError> {
    let register = load(s, records::REGISTER).await?;
    let pending: Vec<Case> = all_cases(s)
        .await?
        .into_iter()
        .filter(|c| c.status == CaseStatus::Pending)
        .collect();
    let changing = register_view::accounts_changing(&s.scripts, &pending);
    Ok(register_view::entries(
        &s.scripts, &register, scope, &changing,
    ))
}

async fn ledger(
    s: &Services,
    d: &mut Draft,
    scope: &Scope,
    page: usize,
) -> Result<(), DispatchError> {
    let entries = entries(s, scope).await?;
    let pages = register_view::pages(&entries);
    if page > pages {
        d.conversation.ledger_page = None;
        d.reply(register_view::no_more_pages(&s.scripts));
        return Ok(());
    }
    d.conversation.ledger_page = (page < pages).then_some(page);
    d.reply(register_view::ledger(&s.scripts, &entries, scope, page));
    Ok(())
}

async fn stats(s: &Services, d: &mut Draft, scope: &Scope) -> Result<(), DispatchError> {
    let entries = entries(s, scope).await?;
    let pending = all_cases(s)
        .await?
        .iter()
        .filter(|c| c.status == CaseStatus::Pending && scope.covers(&c.unit))
        .count();
    let mut open_duties = 0;
    for number in s.store.cases_in(ALL_DUTIES).await? {
        let Some(record) = s.store.get_case(&number).await? else {
            continue;
        };
        match serde_json::from_str::<Duty>(&record.body) {
            // Closure orders show as 注销中 accounts, campaign tasks in `年审 进度`, not as
            // change-report duties.
            Ok(duty) if duty.kind == CLOSURE_ORDER || duty.campaign.is_some() => {}
            Ok(duty) if !duty.done && scope.covers(&duty.unit) => open_duties += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(duty = %number, error = %e, "unreadable duty skipped"),
        }
    }
    d.reply(register_view::stats(
        &s.scripts,
        &entries,
        scope,
        pending,
        open_duties,
    ));
    Ok(())
}

/// `导出 台账|事项`: the spreadsheet of the scope, sent as a file once the sender has built it.
fn export(s: &Services, d: &mut Draft, scope: &Scope, what: What) {
    let sheet = s.scripts.export.as_ref().map(|x| match what {
        What::Register => x.register_sheet.clone(),
        What::Cases | What::Reposts => x.cases_sheet.clone(),
        What::AnnualReview | What::Assessment { .. } => String::new(),
    });
    let text = s.scripts.render(
        &tpl::supervision("export_started"),
        &minijinja::context! { sheet => sheet },
    );
    d.reply(text);
    let units = match scope {
        Scope::All => None,
        Scope::Units(units) => Some(units.iter().map(|(id, _)| id.clone()).collect()),
    };
    let to = d.user.clone();
    d.send(Reply::File {
        to,
        export: Export {
            what,
            units,
            year: None,
            task: None,
        },
    });
}

/// `详情 <编号>`: every answer, to whoever may see the case.
async fn details(s: &Services, d: &mut Draft, number: &str) -> Result<(), DispatchError> {
    let unknown = |s: &Services, d: &mut Draft| {
        let text = s.scripts.render(
            &tpl::approval("unknown_case"),
            &minijinja::context! { number => number },
        );
        d.reply(text);
    };
    let Some(case_number) = s.case_number_of(number).await? else {
        unknown(s, d);
        return Ok(());
    };
    let Some(loaded) = s.load_case(&case_number).await? else {
        unknown(s, d);
        return Ok(());
    };
    if !may_view(s, &loaded.case, &d.user).await? {
        let text = s.scripts.render(
            &tpl::approval("no_permission"),
            &minijinja::context! { number => number },
        );
        d.reply(text);
        return Ok(());
    }
    if s.flow_of(d, &loaded.case).is_some() {
        d.reply(register_view::details(&s.scripts, &loaded.case));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_their_usage() {
        assert_eq!(parse("台账"), Some(Command::Ledger { page: 1 }));
        assert_eq!(parse(" 台账　２ "), Some(Command::Ledger { page: 2 }));
        assert!(matches!(parse("台账 下"), Some(Command::Usage { .. })));
        assert_eq!(parse("下一页"), Some(Command::NextPage));
        assert_eq!(
            parse("查询 团委 青年"),
            Some(Command::Search {
                word: "团委 青年".into()
            })
        );
        assert!(matches!(parse("查询"), Some(Command::Usage { .. })));
        assert_eq!(parse("统计"), Some(Command::Stats));
        assert_eq!(
            parse("详情 dj-2026-0001"),
            Some(Command::Details {
                number: "DJ-2026-0001".into()
            })
        );
        assert!(matches!(parse("详情"), Some(Command::Usage { .. })));
        assert_eq!(
            parse("导出 台账"),
            Some(Command::Export {
                what: What::Register
            })
        );
        assert_eq!(
            parse("导出 事项"),
            Some(Command::Export { what: What::Cases })
        );
        assert!(matches!(parse("导出 全部"), Some(Command::Usage { .. })));
        assert_eq!(parse("台账管理办法是什么"), None);
        assert_eq!(parse("统计 一下"), None);
    }
}
