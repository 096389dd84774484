//! The bot-scripts folder: what the bot says, declared in TOML so the propaganda department can
//! change it without a release. For now `bot.toml` holds the help text; flows come next.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ScriptsError {
    #[error("{path}: {problem}")]
    Read { path: String, problem: String },
    #[error("{path}:{line}: {problem}")]
    Invalid {
        path: String,
        line: usize,
        problem: String,
    },
}

/// `bot.toml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BotFile {
    help: HelpSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HelpSection {
    text: String,
}

/// The validated scripts the bot runs with.
#[derive(Debug, Clone)]
pub struct Scripts {
    /// Sent to anyone who writes to the bot when no flow applies.
    pub help_text: String,
}

impl Scripts {
    /// Reads and validates `<dir>/bot.toml`.
    pub fn load(dir: &Path) -> Result<Self, ScriptsError> {
        let path = dir.join("bot.toml");
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ScriptsError::Read {
            path: shown.clone(),
            problem: e.to_string(),
        })?;
        Self::parse(&shown, &text)
    }

    /// Parses `bot.toml` text; errors name the file and line.
    pub fn parse(path: &str, text: &str) -> Result<Self, ScriptsError> {
        let file: BotFile = toml::from_str(text).map_err(|e| ScriptsError::Invalid {
            path: path.to_owned(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            problem: e.message().to_owned(),
        })?;
        let help_text = file.help.text.trim().to_owned();
        if help_text.is_empty() {
            return Err(ScriptsError::Invalid {
                path: path.to_owned(),
                line: text.find("[help]").map(|at| line_of(text, at)).unwrap_or(1),
                problem: "help.text must not be empty".into(),
            });
        }
        Ok(Self { help_text })
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_scripts_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts");
        let scripts = Scripts::load(&dir).unwrap();
        assert!(scripts.help_text.contains("备案"));
    }

    #[test]
    fn unknown_key_is_reported_with_its_line() {
        let err = Scripts::parse("bot.toml", "[help]\ntext = \"hi\"\ncolour = 1\n").unwrap_err();
        assert_eq!(err.to_string().split(": ").next().unwrap(), "bot.toml:3");
    }

    #[test]
    fn empty_help_is_refused() {
        assert!(Scripts::parse("bot.toml", "[help]\ntext = \"  \"\n").is_err());
    }
}
