//! The incident text commands: `舆情`/`上报` (start), `舆情 列表`, `口径 <编号> <内容>` or
//! `处置要求 <编号> <内容>` (the department's instruction), `处置 <编号> <内容>` (what the unit
//! did), `办结 <编号>` (the department closes it).

use crate::base::normalize;
use crate::domain::approval::commands::case_number;

/// An incident command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    List,
    Instruct {
        number: String,
        text: String,
    },
    Report {
        number: String,
        text: String,
    },
    Close {
        number: String,
    },
    /// A command word with a missing or malformed argument.
    Usage,
}

/// The command in `text`, given the normalised start keywords.
pub fn parse(text: &str, keywords: &[String]) -> Option<Command> {
    let text = normalize::normalize(text);
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, r.trim()),
        None => (text.as_str(), ""),
    };
    let numbered = |rest: &str| {
        let (number, text) = rest.split_once(' ').unwrap_or((rest, ""));
        case_number(&normalize::ascii(number)).map(|n| (n, text.trim().to_owned()))
    };
    if keywords.iter().any(|k| *k == normalize::key(word)) {
        return Some(match rest {
            "" => Command::Start,
            "列表" => Command::List,
            _ => Command::Usage,
        });
    }
    match word {
        "口径" | "处置要求" => Some(match numbered(rest) {
            Some((number, text)) if !text.is_empty() => Command::Instruct { number, text },
            _ => Command::Usage,
        }),
        "处置" => Some(match numbered(rest) {
            Some((number, text)) if !text.is_empty() => Command::Report { number, text },
            _ => Command::Usage,
        }),
        "办结" => Some(match numbered(rest) {
            Some((number, _)) => Command::Close { number },
            None => Command::Usage,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read() {
        let k = vec!["舆情".to_owned(), "上报".to_owned()];
        assert_eq!(parse("舆情", &k), Some(Command::Start));
        assert_eq!(parse(" 上报 ", &k), Some(Command::Start));
        assert_eq!(parse("舆情 列表", &k), Some(Command::List));
        assert_eq!(
            parse("口径 yq-2026-0001 统一回复：已核实", &k),
            Some(Command::Instruct {
                number: "YQ-2026-0001".into(),
                text: "统一回复：已核实".into()
            })
        );
        assert_eq!(parse("处置 YQ-2026-0001", &k), Some(Command::Usage));
        assert_eq!(
            parse("办结 YQ-2026-0001", &k),
            Some(Command::Close {
                number: "YQ-2026-0001".into()
            })
        );
        assert_eq!(parse("你好", &k), None);
    }
}
