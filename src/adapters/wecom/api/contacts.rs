//! The contacts calls (`user/get`, `department/get`, `department/list`, `user/simplelist`)
//! behind the directory's [`Contacts`] trait: the same token policy and errcodes as every other
//! call of the client, and WeCom's answers read into the directory's types.

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ApiError, WeComClient};
use crate::base::directory::{Contacts, DirectoryError, Person, Snapshot, UnitInfo};

/// WeCom's "user not found" errcode for `user/get`.
const USER_NOT_FOUND: i64 = 60111;

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    userid: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    department: Vec<u64>,
}

impl From<User> for Person {
    fn from(u: User) -> Person {
        Person {
            userid: u.userid,
            name: u.name,
            units: u.department.iter().map(u64::to_string).collect(),
        }
    }
}

#[derive(Deserialize)]
struct Department {
    id: u64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    department_leader: Vec<String>,
}

#[derive(Deserialize)]
struct DepartmentGet {
    department: Department,
}

#[derive(Deserialize)]
struct DepartmentList {
    #[serde(default)]
    department: Vec<Department>,
}

#[derive(Deserialize)]
struct SimpleList {
    #[serde(default)]
    userlist: Vec<User>,
}

impl From<ApiError> for DirectoryError {
    fn from(e: ApiError) -> DirectoryError {
        match e.is_retryable() {
            true => DirectoryError::Retryable(e.to_string()),
            false => DirectoryError::Failed(e.to_string()),
        }
    }
}

impl WeComClient {
    /// GETs a contacts API `path` and reads its answer as `T`.
    async fn contacts<T: DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let answer = self
            .call_with_token(path, query, super::Payload::None)
            .await?;
        T::deserialize(&answer.json)
            .map_err(|e| ApiError::Invalid(format!("{path}: unexpected answer: {e}")))
    }
}

#[async_trait]
impl Contacts for WeComClient {
    async fn person(&self, userid: &str) -> Result<Option<Person>, DirectoryError> {
        let query = [("userid", userid)];
        match self.contacts::<User>("/cgi-bin/user/get", &query).await {
            Ok(user) => Ok(Some(user.into())),
            Err(e) if e.errcode() == Some(USER_NOT_FOUND) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn leaders(&self, unit: &str) -> Result<Vec<String>, DirectoryError> {
        let answer: DepartmentGet = self
            .contacts("/cgi-bin/department/get", &[("id", unit)])
            .await?;
        Ok(answer.department.department_leader)
    }

    async fn everyone(&self) -> Result<Snapshot, DirectoryError> {
        let units: DepartmentList = self.contacts("/cgi-bin/department/list", &[]).await?;
        let query = [("department_id", "1"), ("fetch_child", "1")];
        let people: SimpleList = self.contacts("/cgi-bin/user/simplelist", &query).await?;
        Ok(Snapshot {
            units: units
                .department
                .into_iter()
                .map(|d| UnitInfo {
                    id: d.id.to_string(),
                    name: d.name,
                    leaders: d.department_leader,
                })
                .collect(),
            people: people.userlist.into_iter().map(Person::from).collect(),
        })
    }
}
