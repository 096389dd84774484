//! The text commands of the approval workflow, as the issue names them: `同意 <编号>`,
//! `驳回 <编号> <理由>`, `撤回 <编号>`, `催办 <编号>`, `修改 <编号>`, `状态 <编号>`, `我的`,
//! `待办` (and `待办 卡片` for fresh cards). They are the fallback for clients where cards do not
//! work. Parsed only outside a form, so `修改 <字段>` inside a form keeps its meaning.

use crate::base::normalize;
use crate::domain::engine::CommandInput;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Approve {
        number: String,
    },
    Reject {
        number: String,
        reason: Option<String>,
    },
    Withdraw {
        number: String,
    },
    Urge {
        number: String,
    },
    Edit {
        number: String,
    },
    Status {
        number: String,
    },
    Mine,
    Todo {
        cards: bool,
    },
    /// A command word with a missing or malformed number: show the usage.
    Usage {
        example: &'static str,
    },
}

/// The text as the form engine sees a command typed inside a form (`None`: not a command).
pub fn in_form(text: &str) -> Option<CommandInput> {
    parse(text).map(|c| CommandInput {
        kind: c.kind().to_owned(),
        opens_form: matches!(c, Command::Edit { .. }),
    })
}

impl Command {
    /// What kind of command it is, as `[messages.commands]` in bot.toml names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::Withdraw { .. } => "withdraw",
            Command::Urge { .. } => "urge",
            Command::Edit { .. } => "edit",
            Command::Status { .. } => "status",
            Command::Mine => "mine",
            Command::Todo { .. } => "todo",
            Command::Usage { example } => match example.split(' ').next() {
                Some("同意") => "approve",
                Some("驳回") => "reject",
                Some("撤回") => "withdraw",
                Some("催办") => "urge",
                _ => "status",
            },
        }
    }
}

/// A case number as printed: `BA-2026-0001` (case-insensitive, full width tolerated).
pub fn case_number(word: &str) -> Option<String> {
    let w = word.to_ascii_uppercase();
    let mut parts = w.split('-');
    let (prefix, year, seq) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && !seq.is_empty()
        && seq.chars().all(|c| c.is_ascii_digit());
    ok.then_some(w)
}

pub fn parse(text: &str) -> Option<Command> {
    let text = normalize::normalize(text);
    let text = text.as_str();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (text, ""),
    };
    let (number_word, tail) = match rest.split_once(char::is_whitespace) {
        Some((n, t)) => (n, t.trim()),
        None => (rest, ""),
    };
    let number = case_number(&normalize::ascii(number_word));
    let with_number = |make: fn(String) -> Command, example: &'static str| {
        Some(match number.clone() {
            Some(n) if tail.is_empty() => make(n),
            _ => Command::Usage { example },
        })
    };
    match word {
        "同意" => with_number(|number| Command::Approve { number }, "同意 BA-2026-0001"),
        "驳回" => Some(match number {
            Some(number) => Command::Reject {
                number,
                reason: (!tail.is_empty()).then(|| tail.to_owned()),
            },
            None => Command::Usage {
                example: "驳回 BA-2026-0001 理由",
            },
        }),
        "撤回" => with_number(|number| Command::Withdraw { number }, "撤回 BA-2026-0001"),
        "催办" => with_number(|number| Command::Urge { number }, "催办 BA-2026-0001"),
        "状态" => with_number(|number| Command::Status { number }, "状态 BA-2026-0001"),
        // `修改 <字段>` belongs to forms: only a case number makes it a command.
        "修改" => number
            .filter(|_| tail.is_empty())
            .map(|number| Command::Edit { number }),
        "我的" if rest.is_empty() => Some(Command::Mine),
        "待办" if rest.is_empty() => Some(Command::Todo { cards: false }),
        "待办" if rest == "卡片" => Some(Command::Todo { cards: true }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_with_numbers_and_reasons() {
        assert_eq!(
            parse("同意 BA-2026-0001"),
            Some(Command::Approve {
                number: "BA-2026-0001".into()
            })
        );
        assert_eq!(
            parse("  同意　ba-2026-0001 "),
            Some(Command::Approve {
                number: "BA-2026-0001".into()
            })
        );
        assert_eq!(
            parse("驳回 BA-2026-0002 账号名称 不规范"),
            Some(Command::Reject {
                number: "BA-2026-0002".into(),
                reason: Some("账号名称 不规范".into())
            })
        );
        assert_eq!(
            parse("驳回 BA-2026-0002"),
            Some(Command::Reject {
                number: "BA-2026-0002".into(),
                reason: None
            })
        );
        assert_eq!(parse("我的"), Some(Command::Mine));
        assert_eq!(parse("待办 卡片"), Some(Command::Todo { cards: true }));
        assert_eq!(
            parse("修改 BA-2026-0003"),
            Some(Command::Edit {
                number: "BA-2026-0003".into()
            })
        );
    }

    #[test]
    fn malformed_commands_get_their_usage_and_other_text_is_not_a_command() {
        assert!(matches!(parse("同意"), Some(Command::Usage { .. })));
        assert!(matches!(parse("催办 123"), Some(Command::Usage { .. })));
        assert_eq!(parse("修改 账号名称"), None);
        assert_eq!(parse("你好"), None);
        assert_eq!(parse("我的账号"), None);
    }
}
