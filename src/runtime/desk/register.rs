//! 台账 on the desk: the register entries the viewer may see, from the same register view as
//! the chat's `台账` (`domain::records::register_view`), with filters (unit, platform, status),
//! a search, sorting and paging; and its XLSX, built like `flowbot export`'s
//! (`domain::records::export::register`), of those entries only.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Value;
use serde::Deserialize;

use super::Desk;
use super::access::Viewer;
use crate::domain::records::register_view::{self, Entry, Scope};
use crate::domain::records::{ALL_CASES, Case, CaseStatus, REGISTER, export};
use crate::runtime::exports;

/// Entries per page unless `size` asks for another (1 to 200).
const PAGE_SIZE: usize = 20;

#[derive(Deserialize, Default, Clone)]
pub(super) struct Filters {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    page: Option<usize>,
    size: Option<usize>,
}

impl Filters {
    /// This page's query with `page` replaced.
    fn link(&self, page: usize) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("unit", &self.unit),
            ("platform", &self.platform),
            ("status", &self.status),
            ("q", &self.q),
            ("sort", &self.sort),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some(size) = self.size {
            q.append_pair("size", &size.to_string());
        }
        q.append_pair("page", &page.to_string());
        format!("/desk/register?{}", q.finish())
    }

    fn keeps(&self, e: &Entry) -> bool {
        (self.unit.is_empty() || e.unit_id == self.unit)
            && (self.platform.is_empty() || e.platform == self.platform)
            && (self.status.is_empty() || e.status == self.status)
            && (self.q.trim().is_empty() || register_view::matches(e, &self.q))
    }
}

/// The register entries (registration cases) the viewer may see and the register numbers with
/// a change pending.
pub(super) async fn visible(
    desk: &Desk,
    viewer: &Viewer,
) -> anyhow::Result<(Vec<Case>, Vec<String>)> {
    let store = &*desk.s.store;
    let mut register = exports::load(store, REGISTER).await?;
    register.retain(|c| viewer.sees(c));
    let pending: Vec<Case> = exports::load(store, ALL_CASES)
        .await?
        .into_iter()
        .filter(|c| c.status == CaseStatus::Pending)
        .collect();
    let changing = register_view::accounts_changing(&desk.s.scripts, &pending);
    Ok((register, changing))
}

/// `/desk/register`.
pub(super) async fn page(
    State(desk): State<Arc<Desk>>,
    viewer: Viewer,
    Query(f): Query<Filters>,
) -> Response {
    let (register, changing) = match visible(&desk, &viewer).await {
        Ok(v) => v,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    if !viewer.supervisor() && register.is_empty() {
        return desk.forbidden(&viewer);
    }
    let scripts = &desk.s.scripts;
    let all = register_view::entries(scripts, &register, &Scope::All, &changing);
    let units: BTreeSet<(String, String)> = all
        .iter()
        .map(|e| (e.unit_id.clone(), e.unit.clone()))
        .collect();
    let platforms: BTreeSet<&str> = all.iter().map(|e| e.platform.as_str()).collect();
    let statuses: BTreeSet<&str> = all.iter().map(|e| e.status.as_str()).collect();
    let mut shown: Vec<&Entry> = all.iter().filter(|e| f.keeps(e)).collect();
    let key = |e: &Entry| -> String {
        match f.sort.as_str() {
            "register_number" => e.register_number.clone(),
            "unit" => e.unit.clone(),
            "platform" => e.platform.clone(),
            "name" => e.name.clone(),
            "status" => e.status.clone(),
            _ => String::new(),
        }
    };
    shown.sort_by_cached_key(|e| key(e));
    let size = f.size.unwrap_or(PAGE_SIZE).clamp(1, 200);
    let pages = shown.len().div_ceil(size).max(1);
    let page = f.page.unwrap_or(1).clamp(1, pages);
    let items: Vec<&Entry> = shown
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .copied()
        .collect();
    let page_of = desk.word(
        "page_of",
        minijinja::context! { page => page, pages => pages, total => shown.len() },
    );
    let units: Vec<Value> = units
        .into_iter()
        .map(|(id, name)| minijinja::context! { id => id, name => name })
        .collect();
    let ctx = minijinja::context! {
        items => super::ser(&items),
        units => units, platforms => super::ser(&platforms), statuses => super::ser(&statuses),
        previous => (page > 1).then(|| f.link(page - 1)),
        next => (page < pages).then(|| f.link(page + 1)),
        f => minijinja::context! {
            unit => f.unit, platform => f.platform, status => f.status, q => f.q, sort => f.sort,
            size => f.size,
        },
        page_of => page_of,
    };
    desk.page(StatusCode::OK, "register.html", Some(&viewer), ctx)
}

/// `/desk/export/register.xlsx`: the register the viewer may see.
pub(super) async fn download(State(desk): State<Arc<Desk>>, viewer: Viewer) -> Response {
    let (register, changing) = match visible(&desk, &viewer).await {
        Ok(v) => v,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    if !viewer.supervisor() && register.is_empty() {
        return desk.forbidden(&viewer);
    }
    let Some(texts) = desk.s.scripts.export.as_ref() else {
        return desk.message(StatusCode::NOT_FOUND, Some(&viewer), "not_found");
    };
    let table = export::register(&desk.s.scripts, texts, &register, &changing);
    let bytes = match exports::xlsx_bytes(&table) {
        Ok(b) => b,
        Err(e) => return desk.unavailable(&e.to_string()),
    };
    let name: String =
        form_urlencoded::byte_serialize(format!("{}.xlsx", table.sheet).as_bytes()).collect();
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"register.xlsx\"; filename*=UTF-8''{name}"),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}
