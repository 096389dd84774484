//! Reloading the calendar folder while the bot runs: a new year's `cn-YYYY.toml` dropped into
//! `bot-scripts/calendar/` takes effect without a release. [`Reloader::poll`] reads the folder,
//! and when any `*.toml` in it changed (added, edited, removed) loads it again: a valid folder
//! replaces the calendar's data (every clone of it sees the new data), a broken one is refused
//! with its `file:line` errors and the calendar is kept as it was.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use super::{Calendar, file};
use crate::base::diagnostics::Diagnostic;

/// What one [`Reloader::poll`] did.
#[derive(Debug)]
pub enum Reload {
    /// No calendar file changed since the last poll.
    Unchanged,
    /// The folder changed and was loaded: the years it has now, and its warnings.
    Reloaded {
        years: Vec<i32>,
        warnings: Vec<Diagnostic>,
    },
    /// The folder changed but has errors: the calendar is unchanged.
    Refused(Vec<Diagnostic>),
}

/// Watches one calendar folder for one calendar (by polling: the folder is a few small files).
#[derive(Debug)]
pub struct Reloader {
    dir: PathBuf,
    calendar: Calendar,
    /// The folder's contents when last looked at.
    seen: u64,
}

impl Reloader {
    /// Watches `dir` for `calendar`, taken as loaded from the folder as it is now.
    pub fn new(dir: impl Into<PathBuf>, calendar: Calendar) -> Reloader {
        let dir = dir.into();
        let seen = fingerprint(&dir);
        Reloader {
            dir,
            calendar,
            seen,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Looks at the folder once; reloads it if a file changed. A refused folder is not read
    /// again until it changes once more.
    pub fn poll(&mut self) -> Reload {
        let now = fingerprint(&self.dir);
        if now == self.seen {
            return Reload::Unchanged;
        }
        self.seen = now;
        match file::load_with_warnings(&self.dir) {
            Ok((loaded, warnings)) => {
                self.calendar.replace_data(&loaded);
                Reload::Reloaded {
                    years: loaded.years().collect(),
                    warnings,
                }
            }
            Err(errors) => Reload::Refused(errors),
        }
    }
}

/// A hash of the names and contents of the folder's `*.toml` files (0 files: a missing folder).
fn fingerprint(dir: &Path) -> u64 {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            (
                name.unwrap_or_default(),
                std::fs::read(&p).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    let mut hasher = DefaultHasher::new();
    files.hash(&mut hasher);
    hasher.finish()
}
