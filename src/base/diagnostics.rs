//! Diagnostics for `bot-scripts/`: a path, a 1-based line and a message, printed as
//! `path:line: message`. Byte spans from `toml` are turned into lines here.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem found in a scripts folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// A file's text, kept to turn spans into line numbers.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(path: &Path, text: String) -> Source {
        Source {
            path: path.to_path_buf(),
            text,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: self.path.clone(),
            line: self.line_of(span.start),
            message: message.into(),
        }
    }

    /// A serde/TOML parse error, located by its span (line 1 when it has none).
    pub fn parse_error(&self, err: &toml::de::Error) -> Diagnostic {
        let line = err.span().map(|s| self.line_of(s.start)).unwrap_or(1);
        Diagnostic {
            path: self.path.clone(),
            line,
            message: err.message().trim().to_owned(),
        }
    }
}

/// Collected diagnostics, split into errors and warnings.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    pub fn warn(&mut self, d: Diagnostic) {
        self.warnings.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_from_one() {
        let s = Source::new(Path::new("a.toml"), "a\nb\nc".into());
        assert_eq!(s.line_of(0), 1);
        assert_eq!(s.line_of(2), 2);
        assert_eq!(s.line_of(4), 3);
        assert_eq!(s.at(4..5, "x").to_string(), "a.toml:3: x");
    }
}
