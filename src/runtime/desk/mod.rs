//! The department's desk (issue 13): web pages served next to the callback, opened from the
//! app in WeCom and signed in with WeCom's OAuth2 ([`signin`]); the register with filters and
//! paging, an account's and a case's page, the to-do list, the counts (统计), the annual
//! review's progress, the open incidents, the repost tasks' coverage and the register's XLSX,
//! each checked on the server against the records ([`access`]). Only when bot.toml has `[desk]`
//! (its words) and WeCom credentials are set. Pages are minijinja templates compiled into the
//! binary (`templates/`), without scripts or anything from another host.

mod access;
mod annual;
mod incidents;
mod records;
mod register;
mod reposts;
mod session;
mod signin;
mod stats;
mod todo;

pub use session::{SESSION, STATE, Signer};

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Environment, Value};

use crate::adapters::wecom::api::WeComClient;
use crate::base::log_safe::log_safe;
use crate::base::scripts::{DESK_WORDS, tpl};
use crate::dispatch::Services;
use access::Viewer;

/// The desk's shared state.
pub struct Desk {
    s: Services,
    client: WeComClient,
    signer: Signer,
    corp_id: String,
    agent_id: i64,
    /// `<base>/connect/oauth2/authorize` is WeCom's sign-in page.
    oauth_base: String,
    pages: Environment<'static>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("message.html", include_str!("templates/message.html")),
    ("register.html", include_str!("templates/register.html")),
    ("account.html", include_str!("templates/account.html")),
    ("case.html", include_str!("templates/case.html")),
    ("todo.html", include_str!("templates/todo.html")),
    ("stats.html", include_str!("templates/stats.html")),
    ("annual.html", include_str!("templates/annual.html")),
    ("incidents.html", include_str!("templates/incidents.html")),
    ("reposts.html", include_str!("templates/reposts.html")),
];

impl Desk {
    /// The desk of the app `corp_id`/`agent_id` whose secret signs the cookies.
    pub fn new(
        s: Services,
        client: WeComClient,
        (corp_id, agent_id, secret): (&str, i64, &str),
        oauth_base: &str,
    ) -> Desk {
        let mut pages = Environment::new();
        for (name, source) in TEMPLATES {
            pages
                .add_template(name, source)
                .expect("the desk's templates compile");
        }
        Desk {
            s,
            client,
            signer: Signer::from_secret(secret),
            corp_id: corp_id.to_owned(),
            agent_id,
            oauth_base: oauth_base.trim_end_matches('/').to_owned(),
            pages,
        }
    }

    /// A `[desk]` word rendered with `ctx`.
    fn word(&self, key: &str, ctx: Value) -> String {
        self.s.scripts.render(&tpl::desk(key), &ctx)
    }

    /// Every `[desk]` word, for the templates (`w.<key>`).
    fn words(&self) -> Value {
        let words: std::collections::BTreeMap<&str, String> = DESK_WORDS
            .iter()
            .map(|k| (*k, self.word(k, Value::UNDEFINED)))
            .collect();
        ser(&words)
    }

    /// A page: `template` with `ctx`, the words and the viewer.
    fn page(
        &self,
        status: StatusCode,
        template: &str,
        viewer: Option<&Viewer>,
        ctx: Value,
    ) -> Response {
        let me = viewer.map(|v| {
            self.word(
                "signed_in_as",
                minijinja::context! { name => v.name.clone() },
            )
        });
        let scripts = &self.s.scripts;
        let full = minijinja::context! {
            w => self.words(), me => me,
            annual => scripts.annual_review.is_some(),
            incidents => scripts.incidents.is_some(),
            reposts => scripts.reposts.is_some(),
            ..ctx
        };
        match self
            .pages
            .get_template(template)
            .and_then(|t| t.render(full))
        {
            Ok(body) => html(status, body),
            Err(e) => {
                tracing::error!(template, error = %e, "desk page failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response()
            }
        }
    }

    /// A plain page saying the `[desk]` word `key`.
    fn message(&self, status: StatusCode, viewer: Option<&Viewer>, key: &str) -> Response {
        let text = self.word(key, Value::UNDEFINED);
        self.page(
            status,
            "message.html",
            viewer,
            minijinja::context! { text => text },
        )
    }

    /// 403: the viewer may not see this.
    fn forbidden(&self, viewer: &Viewer) -> Response {
        self.message(StatusCode::FORBIDDEN, Some(viewer), "forbidden")
    }

    /// 503 when the store or the directory fails (logged, never shown).
    fn unavailable(&self, error: &str) -> Response {
        tracing::warn!(error = %log_safe(error), "desk page unavailable");
        (StatusCode::SERVICE_UNAVAILABLE, "busy, try again").into_response()
    }
}

/// The signed-in viewer as a handler's argument; without a valid session the browser is sent to
/// sign in first (and brought back to the page it asked for).
impl FromRequestParts<Arc<Desk>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, desk: &Arc<Desk>) -> Result<Viewer, Response> {
        let now = desk.s.clock.now_ms();
        let headers = &parts.headers;
        let userid =
            session::cookie(headers, SESSION).and_then(|c| desk.signer.verify(SESSION, c, now));
        let Some(userid) = userid else {
            let next = parts.uri.path_and_query().map_or("/desk", |p| p.as_str());
            return Err(signin::redirect(desk, headers, next));
        };
        let scope = crate::process::supervision::scope_in(&*desk.s.directory, &userid)
            .await
            .map_err(|e| desk.unavailable(&e.to_string()))?;
        let name = desk
            .s
            .name_of(&userid)
            .await
            .map_err(|e| desk.unavailable(&e.to_string()))?;
        Ok(Viewer {
            userid,
            name,
            scope,
        })
    }
}

/// A serializable value for the templates.
fn ser<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// An HTML response that is never cached and loads nothing from elsewhere.
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// Whether the request came over https (a proxy's `X-Forwarded-Proto`).
fn https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// The desk's routes, for the bot's router.
pub fn router<S: Clone + Send + Sync + 'static>(desk: Arc<Desk>) -> Router<S> {
    Router::new()
        .route("/desk", get(signin::start))
        .route("/desk/oauth", get(signin::callback))
        .route("/desk/register", get(register::page))
        .route("/desk/export/register.xlsx", get(register::download))
        .route("/desk/account/{number}", get(records::account))
        .route("/desk/case/{number}", get(records::case))
        .route("/desk/form/{number}", get(records::form))
        .route("/desk/todo", get(todo::page))
        .route("/desk/stats", get(stats::page))
        .route("/desk/annual", get(annual::page))
        .route("/desk/incidents", get(incidents::page))
        .route("/desk/reposts", get(reposts::page))
        .with_state(desk)
}
