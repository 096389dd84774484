//! The campaign's chat commands: `年审 开始 2026`, `年审 进度 [2026]`, `年审 结束 [2026]`,
//! `年审 不合格 NB-2026-0001 理由` and `导出 年审 [2026]`.

use crate::base::normalize;
use crate::domain::approval::commands::case_number;

/// A campaign command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `年审 开始 2026`: asks to confirm, then opens.
    Open { year: i32 },
    /// `年审 进度 [年份]` (the open campaign when no year is given).
    Progress { year: Option<i32> },
    /// `年审 结束 [年份]`.
    Close { year: Option<i32> },
    /// `年审 不合格 NB-… 理由`.
    Fail { report: String, reason: String },
    /// `导出 年审 [年份]`.
    Export { year: Option<i32> },
    /// The command word without what it needs: its example.
    Usage { example: &'static str },
}

const OPEN_EXAMPLE: &str = "年审 开始 2026";
const FAIL_EXAMPLE: &str = "年审 不合格 NB-2027-0001 未落实24小时值守且整改后仍不符合要求";

fn year(word: &str) -> Option<i32> {
    let w = normalize::ascii(word);
    (w.len() == 4)
        .then(|| w.parse::<i32>().ok())
        .flatten()
        .filter(|y| *y >= 2000)
}

/// An optional year: `Ok(None)` when absent, `Err` when something else is there.
fn maybe_year(rest: &str) -> Result<Option<i32>, ()> {
    if rest.is_empty() {
        return Ok(None);
    }
    year(rest).map(Some).ok_or(())
}

/// Reads a text as one of the commands.
pub fn parse(text: &str) -> Option<Command> {
    let text = normalize::normalize(text);
    let mut words = text.splitn(3, ' ');
    let (first, second, rest) = (
        words.next().unwrap_or(""),
        words.next().unwrap_or(""),
        words.next().unwrap_or("").trim(),
    );
    if first == "导出" {
        return (second == "年审").then(|| match maybe_year(rest) {
            Ok(year) => Command::Export { year },
            Err(()) => Command::Usage {
                example: "导出 年审 2026",
            },
        });
    }
    if first != "年审" {
        return None;
    }
    Some(match second {
        "开始" => match year(rest) {
            Some(year) => Command::Open { year },
            None => Command::Usage {
                example: OPEN_EXAMPLE,
            },
        },
        "进度" => match maybe_year(rest) {
            Ok(year) => Command::Progress { year },
            Err(()) => Command::Usage {
                example: "年审 进度 2026",
            },
        },
        "结束" => match maybe_year(rest) {
            Ok(year) => Command::Close { year },
            Err(()) => Command::Usage {
                example: "年审 结束 2026",
            },
        },
        "不合格" => {
            let (number, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            match case_number(&normalize::ascii(number)) {
                Some(report) if !reason.trim().is_empty() => Command::Fail {
                    report,
                    reason: reason.trim().to_owned(),
                },
                _ => Command::Usage {
                    example: FAIL_EXAMPLE,
                },
            }
        }
        _ => Command::Usage {
            example: OPEN_EXAMPLE,
        },
    })
}

impl Command {
    /// Its kind as `[messages.commands]` names it (`annual_review`).
    pub fn kind(&self) -> &'static str {
        "annual_review"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_their_usage() {
        assert_eq!(parse("年审 开始 2026"), Some(Command::Open { year: 2026 }));
        assert_eq!(
            parse("年审  开始 ２０２６"),
            Some(Command::Open { year: 2026 })
        );
        assert!(matches!(parse("年审 开始"), Some(Command::Usage { .. })));
        assert_eq!(parse("年审 进度"), Some(Command::Progress { year: None }));
        assert_eq!(
            parse("年审 结束 2026"),
            Some(Command::Close { year: Some(2026) })
        );
        assert_eq!(
            parse("年审 不合格 nb-2027-0003 内容违规"),
            Some(Command::Fail {
                report: "NB-2027-0003".into(),
                reason: "内容违规".into()
            })
        );
        assert!(matches!(
            parse("年审 不合格 NB-2027-0003"),
            Some(Command::Usage { .. })
        ));
        assert!(matches!(parse("年审"), Some(Command::Usage { .. })));
        assert_eq!(
            parse("导出 年审 2026"),
            Some(Command::Export { year: Some(2026) })
        );
        assert_eq!(parse("导出 台账"), None);
        assert_eq!(parse("年审核"), None);
    }
}
