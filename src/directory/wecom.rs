//! The `wecom` directory: the contacts API (`user/get`, `department/get`, `department/list`,
//! `user/simplelist`), each answer cached for a TTL because these calls count toward the corp's
//! per-API limit. The access token comes from a [`TokenSource`], so this module does not depend
//! on the API client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::{Directory, DirectoryError, Person, Roles, Snapshot, Unit, UnitInfo};

/// Supplies a valid access token (the API client's shared cache, or a fixed one in tests).
#[async_trait]
pub trait TokenSource: Send + Sync {
    async fn token(&self) -> Result<String, DirectoryError>;
}

/// WeCom's "user not found" errcode for `user/get`.
const USER_NOT_FOUND: i64 = 60111;

#[derive(Default)]
struct Cache {
    users: HashMap<String, (Instant, Option<Person>)>,
    leaders: HashMap<String, (Instant, Vec<String>)>,
    snapshot: Option<(Instant, Arc<Snapshot>)>,
}

pub struct WeComDirectory {
    http: reqwest::Client,
    base: String,
    token: Arc<dyn TokenSource>,
    roles: Roles,
    ttl: Duration,
    cache: Mutex<Cache>,
}

#[derive(Deserialize)]
struct UserGet {
    #[serde(default)]
    userid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    department: Vec<u64>,
}

#[derive(Deserialize)]
struct Dept {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    department_leader: Vec<String>,
}

#[derive(Deserialize)]
struct DeptGet {
    department: Dept,
}

#[derive(Deserialize)]
struct DeptList {
    #[serde(default)]
    department: Vec<Dept>,
}

#[derive(Deserialize)]
struct SimpleList {
    #[serde(default)]
    userlist: Vec<UserGet>,
}

impl WeComDirectory {
    /// `base` is the API base URL (e.g. `https://qyapi.weixin.qq.com`, or a fake in tests).
    pub fn new(
        http: reqwest::Client,
        base: &str,
        token: Arc<dyn TokenSource>,
        roles: Roles,
        ttl: Duration,
    ) -> WeComDirectory {
        WeComDirectory {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            roles,
            ttl,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }

    /// GETs `cgi-bin/<path>?access_token=..&<query>`; `Ok(None)` for `errcode == not_found`.
    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        not_found: Option<i64>,
    ) -> Result<Option<T>, DirectoryError> {
        let token = self.token.token().await?;
        let url = format!("{}/cgi-bin/{path}", self.base);
        let mut q: Vec<(&str, &str)> = vec![("access_token", &token)];
        q.extend_from_slice(query);
        let transport = |e: reqwest::Error| DirectoryError::Transport(e.without_url().to_string());
        let body: serde_json::Value = self
            .http
            .get(url)
            .query(&q)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(transport)?
            .json()
            .await
            .map_err(transport)?;
        let errcode = body.get("errcode").and_then(|c| c.as_i64()).unwrap_or(0);
        if errcode != 0 {
            if Some(errcode) == not_found {
                return Ok(None);
            }
            let errmsg = body.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
            return Err(DirectoryError::Api {
                errcode,
                errmsg: errmsg.to_owned(),
            });
        }
        serde_json::from_value(body)
            .map(Some)
            .map_err(|e| DirectoryError::Transport(e.to_string()))
    }
}

#[async_trait]
impl Directory for WeComDirectory {
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError> {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.users.get(userid).cloned());
        if let Some((_, p)) = cached.filter(|(at, _)| self.fresh(*at)) {
            return Ok(p);
        }
        let user: Option<UserGet> = self
            .get("user/get", &[("userid", userid)], Some(USER_NOT_FOUND))
            .await?;
        let person = user.map(|u| Person {
            userid: u.userid,
            name: u.name,
            units: u.department.iter().map(u64::to_string).collect(),
        });
        if let Ok(mut c) = self.cache.lock() {
            c.users
                .insert(userid.to_owned(), (Instant::now(), person.clone()));
        }
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
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.leaders.get(unit).cloned());
        if let Some((_, l)) = cached.filter(|(at, _)| self.fresh(*at)) {
            return Ok(l);
        }
        let dept: Option<DeptGet> = self.get("department/get", &[("id", unit)], None).await?;
        let leaders = dept
            .map(|d| d.department.department_leader)
            .unwrap_or_default();
        if let Ok(mut c) = self.cache.lock() {
            c.leaders
                .insert(unit.to_owned(), (Instant::now(), leaders.clone()));
        }
        Ok(leaders)
    }

    async fn role_members(&self, role: &str) -> Result<Vec<String>, DirectoryError> {
        if let Some(users) = self.roles.overridden(role) {
            return Ok(users.to_vec());
        }
        let Some(unit) = self.roles.unit_of(role) else {
            return Ok(Vec::new());
        };
        Ok(self.snapshot().await?.members_of(unit))
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>, DirectoryError> {
        let cached = self.cache.lock().ok().and_then(|c| c.snapshot.clone());
        if let Some((_, s)) = cached.filter(|(at, _)| self.fresh(*at)) {
            return Ok(s);
        }
        let depts: DeptList = self
            .get("department/list", &[], None)
            .await?
            .unwrap_or(DeptList { department: vec![] });
        let users: SimpleList = self
            .get(
                "user/simplelist",
                &[("department_id", "1"), ("fetch_child", "1")],
                None,
            )
            .await?
            .unwrap_or(SimpleList { userlist: vec![] });
        let snap = Arc::new(Snapshot {
            units: depts
                .department
                .into_iter()
                .map(|d| UnitInfo {
                    id: d.id.to_string(),
                    name: d.name,
                    leaders: d.department_leader,
                })
                .collect(),
            people: users
                .userlist
                .into_iter()
                .map(|u| Person {
                    userid: u.userid,
                    name: u.name,
                    units: u.department.iter().map(u64::to_string).collect(),
                })
                .collect(),
        });
        if let Ok(mut c) = self.cache.lock() {
            c.snapshot = Some((Instant::now(), snap.clone()));
        }
        Ok(snap)
    }
}
