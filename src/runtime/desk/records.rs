//! An account's page (`/desk/account/DJ-…`: its current entry, its history with who approved
//! each step, the cases about it) and a case's page (`/desk/case/<number>`: every answer and
//! its history), each shown only to whoever may see the record; a number the viewer may not
//! see, or that does not exist, is refused alike (nothing to learn by guessing).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::Value;

use super::Desk;
use super::access::Viewer;
use crate::dispatch::LoadedCase;
use crate::domain::approval::views;
use crate::domain::engine::Answer;
use crate::domain::records::export::status_text;
use crate::domain::records::register_view::{self, Scope};
use crate::domain::records::{ALL_CASES, Case, REGISTER_PREFIX};
use crate::runtime::exports;

/// Refused: 403, or 404 for the department (who may see every record that exists).
fn missing(desk: &Desk, viewer: &Viewer) -> Response {
    match viewer.scope == Some(Scope::All) {
        true => desk.message(StatusCode::NOT_FOUND, Some(viewer), "not_found"),
        false => desk.forbidden(viewer),
    }
}

/// The register number a case is about (its `account` answer), if any.
fn account_of(case: &Case) -> Option<&str> {
    match case.answers.get("account") {
        Some(Answer::Ref { id, .. }) => Some(id),
        _ => None,
    }
}

/// A case's history as `状态` tells it in chat, with people's names.
async fn history(desk: &Desk, loaded: &LoadedCase) -> Result<String, Response> {
    let mut names = HashMap::new();
    for entry in &loaded.history {
        if !names.contains_key(&entry.by) {
            let name = desk.s.name_of(&entry.by).await;
            let name = name.map_err(|e| desk.unavailable(&e.to_string()))?;
            names.insert(entry.by.clone(), name);
        }
    }
    let name_of = |p: &str| names.get(p).cloned().unwrap_or_else(|| p.to_owned());
    Ok(views::status(
        &desk.s.scripts,
        &loaded.case,
        &loaded.history,
        &name_of,
        &|ms| desk.s.local_time(ms),
    ))
}

/// The registration holding register number `number`, when it exists.
async fn entry(desk: &Desk, number: &str) -> Result<Option<LoadedCase>, Response> {
    let s = &desk.s;
    let fail = |e: crate::dispatch::DispatchError| desk.unavailable(&e.to_string());
    if !number.starts_with(&format!("{REGISTER_PREFIX}-")) {
        return Ok(None);
    }
    let Some(case_number) = s.case_number_of(number).await.map_err(fail)? else {
        return Ok(None);
    };
    s.load_case(&case_number).await.map_err(fail)
}

/// `/desk/account/DJ-…`.
pub(super) async fn account(
    State(desk): State<Arc<Desk>>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Response {
    let loaded = match entry(&desk, &number).await {
        Ok(Some(l)) if viewer.sees(&l.case) => l,
        Ok(_) => return missing(&desk, &viewer),
        Err(r) => return r,
    };
    let history = match history(&desk, &loaded).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let cases = match exports::load(&*desk.s.store, ALL_CASES).await {
        Ok(c) => c,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    let scripts = &desk.s.scripts;
    let about: Vec<Value> = cases
        .iter()
        .filter(|c| c.number == loaded.case.number || account_of(c) == Some(number.as_str()))
        .map(|c| case_line(&desk, c))
        .collect();
    let case = &loaded.case;
    let ctx = minijinja::context! {
        number => number,
        name => register_view::entries(scripts, std::slice::from_ref(case), &Scope::All, &[])
            .first()
            .map(super::ser),
        account_status => case.account_status.text(scripts),
        rows => super::ser(register_view::rows(scripts, case)),
        history => history,
        cases => about,
    };
    desk.page(StatusCode::OK, "account.html", Some(&viewer), ctx)
}

/// One line of a list of cases.
fn case_line(desk: &Desk, c: &Case) -> Value {
    let title = desk.s.scripts.flows.get(&c.flow).map(|f| f.title.clone());
    minijinja::context! {
        number => c.number.clone(), title => title, status => status_text(&desk.s.scripts, c),
        applicant => c.applicant_name.clone(), submitted => desk.s.local_time(c.submitted_at_ms),
    }
}

/// The case `number` names (a register number: its registration) when the viewer may see it:
/// theirs by [`Viewer::sees`], or about an account they see.
async fn visible_case(desk: &Desk, viewer: &Viewer, number: &str) -> Result<LoadedCase, Response> {
    let loaded = match number.starts_with(&format!("{REGISTER_PREFIX}-")) {
        true => entry(desk, number).await?,
        false => desk
            .s
            .load_case(number)
            .await
            .map_err(|e| desk.unavailable(&e.to_string()))?,
    };
    let Some(loaded) = loaded else {
        return Err(missing(desk, viewer));
    };
    let mut allowed = viewer.sees(&loaded.case);
    if !allowed && let Some(account) = account_of(&loaded.case) {
        allowed = matches!(entry(desk, account).await, Ok(Some(e)) if viewer.sees(&e.case));
    }
    match allowed {
        true => Ok(loaded),
        false => Err(missing(desk, viewer)),
    }
}

/// `/desk/case/<number>` (a register number shows its registration).
pub(super) async fn case(
    State(desk): State<Arc<Desk>>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Response {
    let loaded = match visible_case(&desk, &viewer, &number).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let history = match history(&desk, &loaded).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let case = &loaded.case;
    let ctx = minijinja::context! {
        case => case_line(&desk, case),
        unit => case.unit_name.clone(),
        register_number => case.register_number.clone(),
        account => account_of(case),
        rows => super::ser(register_view::rows(&desk.s.scripts, case)),
        history => history,
    };
    desk.page(StatusCode::OK, "case.html", Some(&viewer), ctx)
}

/// `/desk/form/<number>`: the printable form `flowbot form` writes (a register number: the
/// account's current entry with its change record; a case number: the filing as signed).
pub(super) async fn form(
    State(desk): State<Arc<Desk>>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Response {
    if let Err(r) = visible_case(&desk, &viewer, &number).await {
        return r;
    }
    match exports::form_page(&*desk.s.store, &desk.s.scripts, &number).await {
        Ok(page) => super::html(StatusCode::OK, page),
        Err(e) => desk.unavailable(&e.to_string()),
    }
}
