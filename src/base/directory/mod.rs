//! Who is in which unit, who leads a unit, who holds a role. Two sources: [`StaticDirectory`]
//! (`bot-scripts/directory.toml`, for the demo and tests) and [`ContactsDirectory`] (the WeCom
//! contacts, asked through the [`Contacts`] trait and cached with a TTL). The engine never calls a directory: the caller resolves what a step
//! needs and hands it a [`Snapshot`] inside the engine's context.

mod contacts;
mod static_dir;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use contacts::{Contacts, ContactsDirectory};
pub use static_dir::{StaticDirectory, parse_static};

/// A unit (department) as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
}

/// A unit with its leaders' userids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitInfo {
    pub id: String,
    pub name: String,
    pub leaders: Vec<String>,
}

/// A member of the company: userid, display name and unit ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub userid: String,
    pub name: String,
    pub units: Vec<String>,
}

/// Everything the engine may look up (member fields): all units and people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub units: Vec<UnitInfo>,
    pub people: Vec<Person>,
}

impl Snapshot {
    pub fn person(&self, userid: &str) -> Option<&Person> {
        self.people
            .iter()
            .find(|p| p.userid.eq_ignore_ascii_case(userid))
    }

    pub fn unit(&self, id: &str) -> Option<&UnitInfo> {
        self.units.iter().find(|u| u.id == id)
    }

    /// The units of a member, with names, in the member's order.
    pub fn units_of(&self, userid: &str) -> Vec<Unit> {
        self.person(userid)
            .map(|p| {
                p.units
                    .iter()
                    .filter_map(|id| self.unit(id))
                    .map(|u| Unit {
                        id: u.id.clone(),
                        name: u.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Userids of every member of a unit.
    pub fn members_of(&self, unit: &str) -> Vec<String> {
        self.people
            .iter()
            .filter(|p| p.units.iter().any(|u| u == unit))
            .map(|p| p.userid.clone())
            .collect()
    }
}

/// Who holds a role: the members of a directory unit, or only the unit's leaders (e.g. the
/// head of the propaganda department).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    pub unit: String,
    pub leaders_only: bool,
}

/// A unit id alone: every member of the unit holds the role.
impl From<String> for RoleDef {
    fn from(unit: String) -> RoleDef {
        RoleDef {
            unit,
            leaders_only: false,
        }
    }
}

/// Role name → who holds it (a unit's members or leaders), plus explicit overrides
/// (`FLOWBOT_PROPAGANDA_USERS`, read by the caller and passed in here).
#[derive(Debug, Clone, Default)]
pub struct Roles {
    units: BTreeMap<String, RoleDef>,
    overrides: BTreeMap<String, Vec<String>>,
}

impl Roles {
    /// From `Scripts::roles` (role → who holds it).
    pub fn new(units: BTreeMap<String, RoleDef>) -> Roles {
        Roles {
            units,
            overrides: BTreeMap::new(),
        }
    }

    /// Replaces a role's members by these userids (ignored when empty).
    pub fn with_override(mut self, role: &str, userids: Vec<String>) -> Roles {
        if !userids.is_empty() {
            self.overrides.insert(role.to_owned(), userids);
        }
        self
    }

    /// Parses a comma-separated userid list such as `FLOWBOT_PROPAGANDA_USERS`.
    pub fn parse_userids(list: &str) -> Vec<String> {
        list.split([',', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The override for a role, if any.
    pub fn overridden(&self, role: &str) -> Option<&[String]> {
        self.overrides.get(role).map(Vec::as_slice)
    }

    /// Who holds a role.
    pub fn holders(&self, role: &str) -> Option<&RoleDef> {
        self.units.get(role)
    }
}

/// A directory lookup that failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DirectoryError {
    /// A later try may succeed: the network, a rate limit, the access token, or a configuration
    /// an admin can fix (e.g. the server's IP not yet trusted).
    #[error("contacts lookup failed, retryable: {0}")]
    Retryable(String),
    /// The same lookup will fail again: the contacts API refused it or answered nonsense.
    #[error("contacts lookup failed: {0}")]
    Failed(String),
}

impl DirectoryError {
    /// Whether a later retry of the same lookup may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DirectoryError::Retryable(_))
    }
}

/// What the bot asks of a directory.
#[async_trait]
pub trait Directory: Send + Sync {
    /// A member by userid; `None` when unknown.
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError>;
    /// The units a member belongs to (empty for someone in no unit).
    async fn units_of(&self, userid: &str) -> Result<Vec<Unit>, DirectoryError>;
    /// Userids leading a unit.
    async fn leaders_of(&self, unit: &str) -> Result<Vec<String>, DirectoryError>;
    /// Userids holding a role (e.g. `propaganda`).
    async fn role_members(&self, role: &str) -> Result<Vec<String>, DirectoryError>;
    /// Every unit and member, for the engine's member lookups.
    async fn snapshot(&self) -> Result<Arc<Snapshot>, DirectoryError>;
}

#[cfg(test)]
mod tests;
