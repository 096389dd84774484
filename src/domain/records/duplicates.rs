//! Whether two registrations name the same account (policy 3.1.1: one filing per account):
//! the same platform and account ID, or the same link. Compared after normalisation — trimmed,
//! full width folded, case and spaces ignored; a link also without its scheme, `www.` and
//! trailing slashes. Missing or skipped answers never match.

use crate::base::normalize::key;
use crate::domain::engine::{Answer, Answers};

/// The registration fields that identify an account.
pub const PLATFORM: &str = "platform";
pub const ACCOUNT_ID: &str = "account_id";
pub const LINK: &str = "link";

/// Whether the answers `a` and `b` name the same account.
pub fn same_account(a: &Answers, b: &Answers) -> bool {
    let both = |field: &str, norm: fn(&str) -> String| -> bool {
        match (value(a, field, norm), value(b, field, norm)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    };
    (both(PLATFORM, key) && both(ACCOUNT_ID, key)) || both(LINK, link)
}

/// A field's answer, normalised; `None` when missing, skipped or blank.
fn value(answers: &Answers, field: &str, norm: fn(&str) -> String) -> Option<String> {
    let shown = match answers.get(field)? {
        Answer::Skipped => return None,
        Answer::Choice { value, other } => format!("{value}{}", other.as_deref().unwrap_or("")),
        other => other.display("", ""),
    };
    Some(norm(&shown)).filter(|v| !v.is_empty())
}

/// A link as a key: [`key`] without `http://`/`https://`, `www.` and trailing slashes.
fn link(s: &str) -> String {
    let k = key(s);
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(&k);
    let k = k.strip_prefix("www.").unwrap_or(k);
    k.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Answer {
        Answer::Text(s.into())
    }

    fn platform(value: &str, other: Option<&str>) -> Answer {
        Answer::Choice {
            value: value.into(),
            other: other.map(Into::into),
        }
    }

    fn answers(items: &[(&str, Answer)]) -> Answers {
        let mut a = Answers::default();
        for (k, v) in items {
            a.set(k, v.clone());
        }
        a
    }

    #[test]
    fn platform_and_id_match_after_normalisation() {
        let a = answers(&[
            (PLATFORM, platform("官方微信", None)),
            (ACCOUNT_ID, text("gh_TW2026")),
        ]);
        let b = answers(&[
            (PLATFORM, platform("官方微信", None)),
            (ACCOUNT_ID, text("  ｇｈ＿ｔｗ２０２６ ")),
        ]);
        assert!(same_account(&a, &b));
    }

    #[test]
    fn the_same_id_on_another_platform_is_another_account() {
        let a = answers(&[
            (PLATFORM, platform("官方微信", None)),
            (ACCOUNT_ID, text("tw2026")),
        ]);
        let b = answers(&[
            (PLATFORM, platform("官方微博", None)),
            (ACCOUNT_ID, text("tw2026")),
        ]);
        assert!(!same_account(&a, &b));
        let douyin = answers(&[
            (PLATFORM, platform("其他", Some("抖音"))),
            (ACCOUNT_ID, text("tw2026")),
        ]);
        let kuaishou = answers(&[
            (PLATFORM, platform("其他", Some("快手"))),
            (ACCOUNT_ID, text("tw2026")),
        ]);
        assert!(!same_account(&douyin, &kuaishou));
        assert!(same_account(&douyin, &douyin.clone()));
    }

    #[test]
    fn the_same_link_matches_whatever_the_id() {
        let a = answers(&[
            (PLATFORM, platform("官方微博", None)),
            (ACCOUNT_ID, text("one")),
            (LINK, text("https://www.Weibo.com/u/123/")),
        ]);
        let b = answers(&[
            (PLATFORM, platform("官方微博", None)),
            (ACCOUNT_ID, text("two")),
            (LINK, text("http://weibo.com/u/123")),
        ]);
        assert!(same_account(&a, &b));
    }

    #[test]
    fn missing_or_skipped_answers_never_match() {
        let a = answers(&[
            (PLATFORM, platform("官方微信", None)),
            (LINK, Answer::Skipped),
        ]);
        let b = answers(&[
            (PLATFORM, platform("官方微信", None)),
            (LINK, Answer::Skipped),
        ]);
        assert!(!same_account(&a, &b));
        assert!(!same_account(&Answers::default(), &Answers::default()));
        let blank = answers(&[
            (ACCOUNT_ID, text("  ")),
            (PLATFORM, platform("官方微信", None)),
        ]);
        assert!(!same_account(&blank, &blank.clone()));
    }
}
