//! The `wecom` directory source: the company's contacts, asked through the [`Contacts`] trait
//! (which the WeCom API client implements, with its token policy and errcodes) and cached for a
//! TTL, because these calls count toward the corp's per-API limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Directory, DirectoryError, Person, Roles, Snapshot, Unit};
use crate::base::locks::lock;

/// The contacts calls the directory needs. Implemented by the WeCom API client.
#[async_trait]
pub trait Contacts: Send + Sync {
    /// A member by userid; `None` when the company has no such member.
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError>;
    /// Userids leading a unit.
    async fn leaders(&self, unit: &str) -> Result<Vec<String>, DirectoryError>;
    /// Every unit (with its leaders) and every member.
    async fn everyone(&self) -> Result<Snapshot, DirectoryError>;
}

#[derive(Default)]
struct Cache {
    users: HashMap<String, (Instant, Option<Person>)>,
    leaders: HashMap<String, (Instant, Vec<String>)>,
    snapshot: Option<(Instant, Arc<Snapshot>)>,
}

/// A [`Directory`] over [`Contacts`], each answer kept for a TTL.
pub struct ContactsDirectory {
    contacts: Arc<dyn Contacts>,
    roles: Roles,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl ContactsDirectory {
    pub fn new(contacts: Arc<dyn Contacts>, roles: Roles, ttl: Duration) -> ContactsDirectory {
        ContactsDirectory {
            contacts,
            roles,
            ttl,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// A fresh cached value, if any.
    fn cached<T: Clone>(&self, pick: impl FnOnce(&Cache) -> Option<&(Instant, T)>) -> Option<T> {
        let cache = lock(&self.cache);
        pick(&cache)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    fn remember(&self, put: impl FnOnce(&mut Cache)) {
        put(&mut lock(&self.cache));
    }
}

#[async_trait]
impl Directory for ContactsDirectory {
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError> {
        if let Some(person) = self.cached(|c| c.users.get(userid)) {
            return Ok(person);
        }
        let person = self.contacts.person(userid).await?;
        self.remember(|c| {
            c.users
                .insert(userid.to_owned(), (Instant::now(), person.clone()));
        });
        Ok(person)
    }

    async fn units_of(&self, userid: &str) -> Result<Vec<Unit>, DirectoryError> {
        let Some(person) = self.person(userid).await? else {
            return Ok(Vec::new());
        };
        let snap = self.snapshot().await?;
        Ok(person
            .units
            .iter()
            .map(|id| Unit {
                id: id.clone(),
                name: snap.unit(id).map(|u| u.name.clone()).unwrap_or_default(),
            })
            .collect())
    }

    async fn leaders_of(&self, unit: &str) -> Result<Vec<String>, DirectoryError> {
        if let Some(leaders) = self.cached(|c| c.leaders.get(unit)) {
            return Ok(leaders);
        }
        let leaders = self.contacts.leaders(unit).await?;
        self.remember(|c| {
            c.leaders
                .insert(unit.to_owned(), (Instant::now(), leaders.clone()));
        });
        Ok(leaders)
    }

    async fn role_members(&self, role: &str) -> Result<Vec<String>, DirectoryError> {
        if let Some(users) = self.roles.overridden(role) {
            return Ok(users.to_vec());
        }
        let Some(def) = self.roles.holders(role).cloned() else {
            return Ok(Vec::new());
        };
        if def.leaders_only {
            return self.leaders_of(&def.unit).await;
        }
        Ok(self.snapshot().await?.members_of(&def.unit))
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>, DirectoryError> {
        if let Some(snap) = self.cached(|c| c.snapshot.as_ref()) {
            return Ok(snap);
        }
        let snap = Arc::new(self.contacts.everyone().await?);
        self.remember(|c| c.snapshot = Some((Instant::now(), snap.clone())));
        Ok(snap)
    }
}
