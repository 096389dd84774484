//! Values from outside (message text, keys, userids, XML fragments, errors that quote input) as
//! log fields that cannot forge a line: control characters (newlines included) are escaped as
//! `\n`, `\u{..}` and the like, and the value is cut at [`MAX_CHARS`] characters with a marker
//! saying how many were left out. Log such values as `field = %log_safe(value)`.

use std::fmt;

/// The most characters of a value that reach the log.
pub const MAX_CHARS: usize = 200;

/// `value`, escaped and capped, for a log field.
pub fn log_safe(value: &str) -> LogSafe<'_> {
    LogSafe(value)
}

/// See [`log_safe`].
#[derive(Debug, Clone, Copy)]
pub struct LogSafe<'a>(&'a str);

impl fmt::Display for LogSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(MAX_CHARS) {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        let rest = chars.count();
        if rest > 0 {
            write!(f, "…[{rest} more chars]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let forged =
            "</Encrypt>\n2026-01-01T00:00:00Z  INFO callback URL verified\r\t\u{1b}[31m\u{0}";
        let shown = log_safe(forged).to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(
            shown,
            "</Encrypt>\\n2026-01-01T00:00:00Z  INFO callback URL verified\\r\\t\\u{1b}[31m\\u{0}"
        );
        assert_eq!(log_safe("张伟 u01").to_string(), "张伟 u01");
    }

    #[test]
    fn long_values_are_capped_with_a_marker() {
        let long = "x".repeat(60_000);
        let shown = log_safe(&long).to_string();
        assert_eq!(
            shown,
            format!("{}…[59800 more chars]", "x".repeat(MAX_CHARS))
        );
        let exact = "好".repeat(MAX_CHARS);
        assert_eq!(log_safe(&exact).to_string(), exact);
    }
}
