//! The `static` directory: a small company described in `bot-scripts/directory.toml`
//! (units with leaders, people with their units). Validated like the other scripts.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use toml::Spanned;

use super::{Directory, DirectoryError, Person, Roles, Snapshot, Unit, UnitInfo};
use crate::base::diagnostics::{Diagnostic, Source};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    units: Vec<RawUnit>,
    people: Vec<RawPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    leaders: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    userid: Spanned<String>,
    name: String,
    #[serde(default)]
    units: Vec<Spanned<String>>,
}

/// Parses and checks `directory.toml`: unique ids, every unit and leader reference known.
pub fn parse_static(src: &Source) -> Result<Snapshot, Vec<Diagnostic>> {
    let raw: RawDirectory = toml::from_str(&src.text).map_err(|e| vec![src.parse_error(&e)])?;
    let mut errors = Vec::new();
    let mut unit_ids = HashSet::new();
    for u in &raw.units {
        if !unit_ids.insert(u.id.get_ref().as_str()) {
            errors.push(src.at(
                u.id.span(),
                format!("duplicate unit id `{}`", u.id.get_ref()),
            ));
        }
    }
    let mut userids = HashSet::new();
    for p in &raw.people {
        if !userids.insert(p.userid.get_ref().to_ascii_lowercase()) {
            let msg = format!("duplicate userid `{}`", p.userid.get_ref());
            errors.push(src.at(p.userid.span(), msg));
        }
        for u in &p.units {
            if !unit_ids.contains(u.get_ref().as_str()) {
                errors.push(src.at(u.span(), format!("unknown unit `{}`", u.get_ref())));
            }
        }
    }
    for u in &raw.units {
        for l in &u.leaders {
            if !userids.contains(&l.get_ref().to_ascii_lowercase()) {
                errors.push(src.at(l.span(), format!("unknown leader `{}`", l.get_ref())));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Snapshot {
        units: raw
            .units
            .into_iter()
            .map(|u| UnitInfo {
                id: u.id.into_inner(),
                name: u.name,
                leaders: u.leaders.into_iter().map(Spanned::into_inner).collect(),
            })
            .collect(),
        people: raw
            .people
            .into_iter()
            .map(|p| Person {
                userid: p.userid.into_inner(),
                name: p.name,
                units: p.units.into_iter().map(Spanned::into_inner).collect(),
            })
            .collect(),
    })
}

/// A directory held in memory, loaded from a file or built by tests.
#[derive(Debug, Clone)]
pub struct StaticDirectory {
    snapshot: Arc<Snapshot>,
    roles: Roles,
}

impl StaticDirectory {
    pub fn new(snapshot: Snapshot, roles: Roles) -> StaticDirectory {
        StaticDirectory {
            snapshot: Arc::new(snapshot),
            roles,
        }
    }

    /// Reads `directory.toml` (usually `bot-scripts/directory.toml`).
    pub fn load(path: &Path, roles: Roles) -> Result<StaticDirectory, Vec<Diagnostic>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![Diagnostic {
                path: path.to_path_buf(),
                line: 1,
                message: format!("cannot read: {e}"),
            }]
        })?;
        let snap = parse_static(&Source::new(path, text))?;
        Ok(StaticDirectory::new(snap, roles))
    }
}

#[async_trait]
impl Directory for StaticDirectory {
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError> {
        Ok(self.snapshot.person(userid).cloned())
    }

    async fn units_of(&self, userid: &str) -> Result<Vec<Unit>, DirectoryError> {
        Ok(self.snapshot.units_of(userid))
    }

    async fn leaders_of(&self, unit: &str) -> Result<Vec<String>, DirectoryError> {
        Ok(self
            .snapshot
            .unit(unit)
            .map(|u| u.leaders.clone())
            .unwrap_or_default())
    }

    async fn role_members(&self, role: &str) -> Result<Vec<String>, DirectoryError> {
        if let Some(users) = self.roles.overridden(role) {
            return Ok(users.to_vec());
        }
        Ok(match self.roles.holders(role) {
            Some(def) if def.leaders_only => self.leaders_of(&def.unit).await?,
            Some(def) => self.snapshot.members_of(&def.unit),
            None => Vec::new(),
        })
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>, DirectoryError> {
        Ok(self.snapshot.clone())
    }
}
