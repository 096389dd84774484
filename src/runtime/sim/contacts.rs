//! The contacts API from the demo directory: `user/get`, `department/get`,
//! `department/list` and `user/simplelist`. WeCom numbers departments: the root is 1 and the
//! directory's units are 2, 3, … in file order.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::api::{check_token, error};
use crate::base::directory::Person;

type Params = Query<HashMap<String, String>>;

/// The root department's id and name.
const ROOT: u64 = 1;
const ROOT_NAME: &str = "演示公司";

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/cgi-bin/user/get", get(user_get))
        .route("/cgi-bin/department/get", get(department_get))
        .route("/cgi-bin/department/list", get(department_list))
        .route("/cgi-bin/user/simplelist", get(user_simplelist))
}

impl Shared {
    /// The WeCom department id of a directory unit.
    fn dept_id(&self, unit: &str) -> Option<u64> {
        let i = self.directory.units.iter().position(|u| u.id == unit)?;
        Some(i as u64 + 2)
    }

    fn departments(&self) -> Vec<Value> {
        let mut list = vec![json!({
            "id": ROOT, "name": ROOT_NAME, "parentid": 0, "order": 100000000,
            "department_leader": [],
        })];
        list.extend(self.directory.units.iter().enumerate().map(|(i, u)| {
            json!({
                "id": i as u64 + 2, "name": u.name, "parentid": ROOT, "order": 1000 - i as u64,
                "department_leader": u.leaders,
            })
        }));
        list
    }

    fn dept_ids_of(&self, person: &Person) -> Vec<u64> {
        person
            .units
            .iter()
            .filter_map(|u| self.dept_id(u))
            .collect()
    }

    fn authorized(&self, q: &HashMap<String, String>) -> Result<(), Json<Value>> {
        check_token(&self.world(), q)
    }
}

async fn user_get(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    if let Err(e) = sim.authorized(&q) {
        return e;
    }
    let userid = q.get("userid").map(String::as_str).unwrap_or("");
    let Some(person) = sim.directory.person(userid) else {
        return error(60111, "userid not found");
    };
    let departments = sim.dept_ids_of(person);
    let leader_in: Vec<u8> = person
        .units
        .iter()
        .filter_map(|u| sim.directory.unit(u))
        .map(|u| u8::from(u.leaders.iter().any(|l| l == &person.userid)))
        .collect();
    Json(json!({
        "errcode": 0, "errmsg": "ok",
        "userid": person.userid, "name": person.name,
        "department": departments,
        "main_department": departments.first().copied().unwrap_or(ROOT),
        "is_leader_in_dept": leader_in,
        "direct_leader": [],
        "status": 1,
    }))
}

async fn department_get(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    if let Err(e) = sim.authorized(&q) {
        return e;
    }
    let id: Option<u64> = q.get("id").and_then(|v| v.parse().ok());
    match sim
        .departments()
        .into_iter()
        .find(|d| d["id"].as_u64() == id)
    {
        Some(department) => Json(json!({"errcode": 0, "errmsg": "ok", "department": department})),
        None => error(60123, "invalid party id"),
    }
}

async fn department_list(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    if let Err(e) = sim.authorized(&q) {
        return e;
    }
    Json(json!({"errcode": 0, "errmsg": "ok", "department": sim.departments()}))
}

async fn user_simplelist(State(sim): State<Arc<Shared>>, Query(q): Params) -> Json<Value> {
    if let Err(e) = sim.authorized(&q) {
        return e;
    }
    let dept: u64 = q
        .get("department_id")
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROOT);
    let fetch_child = q.get("fetch_child").map(String::as_str) == Some("1");
    let users: Vec<Value> = sim
        .directory
        .people
        .iter()
        .filter(|p| {
            let ids = sim.dept_ids_of(p);
            (dept == ROOT && (fetch_child || ids.is_empty())) || ids.contains(&dept)
        })
        // A member of no unit (赵六) keeps an empty list, as in `user/get`: policy 1.4 refuses them.
        .map(|p| json!({"userid": p.userid, "name": p.name, "department": sim.dept_ids_of(p)}))
        .collect();
    Json(json!({"errcode": 0, "errmsg": "ok", "userlist": users}))
}
