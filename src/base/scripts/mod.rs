//! `bot-scripts/`: the serde model of the TOML files ([`model`]), their validation into checked
//! definitions (`compile`, `flows`) and the diagnostics reported as `file:line: message`
//! ([`crate::base::diagnostics`]). Reading the folder is the only I/O; the compiled [`Scripts`] is immutable
//! (but for the calendar's data, reloaded while the bot runs) and shared by every engine step. Every word the bot says is a template in these files.

pub mod assessment;
mod calendar_settings;
pub mod campaigns;
mod compile;
mod delivery;
mod evidence;
mod export_settings;
mod flow_approvals;
mod flows;
mod incidents;
pub mod ladders;
pub mod model;
pub mod publication;
mod reposts;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
pub use delivery::DeliverySettings;
pub use evidence::EvidenceSettings;
pub use export_settings::{ExportTexts, FormLayout, FormRow, PrintTexts};
pub use flow_approvals::REFUSAL_MESSAGES;
pub use incidents::{IncidentRung, IncidentSettings};
use minijinja::Value;
pub use publication::{LeaderReview, PUBLICATION_REVIEW, PublicationReview};
pub use reposts::{REPOSTS_MESSAGES, RepostsDef, WorkCircleDef};
use serde::{Deserialize, Serialize};

use crate::base::calendar::{Calendar, WorkingHours};
use crate::base::clock::Clock;
pub use crate::base::diagnostics::Diagnostic;
use crate::base::directory::RoleDef;

/// The compiled, validated contents of a `bot-scripts/` folder.
#[derive(Debug)]
pub struct Scripts {
    /// What the bot answers to anything outside a flow (`bot.toml` `[help] text`).
    pub help_text: String,
    /// A hash of every file: a conversation records the version it started with.
    pub version: String,
    /// Idle time after which a half-filled form asks continue/restart.
    pub idle_after_ms: i64,
    /// Quiet hours as minutes after local midnight `(start, end)`, if configured.
    pub quiet_hours: Option<(u16, u16)>,
    pub words: Words,
    pub flows: BTreeMap<String, FlowDef>,
    /// Normalised keyword → flow id.
    pub keywords: HashMap<String, String>,
    /// Menu click key → flow id.
    pub menu_keys: HashMap<String, String>,
    /// Role name → who holds it (`unit_leader` is built in and not listed).
    pub roles: BTreeMap<String, RoleDef>,
    /// The role deciding a step that separation of duties leaves without anyone
    /// (`[separation] fallback_role`).
    pub fallback_role: Option<String>,
    /// The company's time zone (`[calendar] time_zone`, default `Asia/Shanghai`): every date
    /// and day boundary is taken there, whatever zone the server runs in.
    pub time_zone: chrono_tz::Tz,
    /// The working periods of a working day (`[calendar.working_hours]`).
    pub working_hours: WorkingHours,
    /// Holidays and make-up days from `calendar/cn-YYYY.toml`, in [`Scripts::time_zone`]: a
    /// shared handle, the one part that changes while the bot runs (the folder is reloaded).
    pub calendar: Calendar,
    /// Group chats by name.
    pub groups: BTreeMap<String, GroupDef>,
    /// Duties by kind, with their ladders.
    pub duties: BTreeMap<String, DutyDef>,
    /// `[export]`: headers and words of `flowbot export` and `flowbot form`, if configured.
    pub export: Option<ExportTexts>,
    /// Whether `[supervision]` is configured (the department's 台账, 查询, 统计, 详情, 导出).
    pub supervision: bool,
    /// Whether `[desk]` is configured (the web desk at `/desk`, signed in with WeCom).
    pub desk: bool,
    /// Whether bot.toml has `[closure_order]` (the department may order a closure).
    pub closure_order: bool,
    /// `[evidence]`: images and files kept as evidence, if configured.
    pub evidence: Option<EvidenceSettings>,
    /// `[delivery]`: how long failing messages are retried (defaults without the table).
    pub delivery: DeliverySettings,
    /// `[publication_review]`: the answer deadlines and reminders of authorisation before
    /// publishing, if configured.
    pub publication_review: Option<PublicationReview>,
    /// `[campaigns.annual_review]`: the annual review campaign (年审), if configured.
    pub annual_review: Option<campaigns::CampaignDef>,
    /// `[work_circle]`: the app group chat of the administrators of accounts in use, if on.
    pub work_circle: Option<WorkCircleDef>,
    /// `[reposts]`: repost tasks across the account matrix (`转发任务`), if on.
    pub reposts: Option<RepostsDef>,
    /// `[assessment]`: the yearly assessment of units (考核) and its rules, if configured.
    pub assessment: Option<assessment::AssessmentDef>,
    /// `[incidents]`: incident reports (舆情上报), if configured.
    pub incidents: Option<IncidentSettings>,
    templates: minijinja::Environment<'static>,
}

/// A group chat: a robot (key from the environment) or an app group chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDef {
    pub title: String,
    pub appchat: Option<String>,
}

/// A duty kind: its deadline in working days and its reminder ladder. Its messages are the
/// templates `tpl::duty(kind, ...)`: `opened`, `nudge`, `digest_header`, `digest_unit`,
/// `digest_item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyDef {
    pub working_days: u32,
    pub ladder: ladders::Ladder,
}

/// The control vocabulary, normalised (ASCII lower case, no spaces).
#[derive(Debug, Clone, Default)]
pub struct Words {
    pub help: Vec<String>,
    pub cancel: Vec<String>,
    pub back: Vec<String>,
    pub edit: Vec<String>,
    pub skip: Vec<String>,
    pub confirm: Vec<String>,
    pub resume: Vec<String>,
    pub restart: Vec<String>,
    pub yes: Vec<String>,
    pub no: Vec<String>,
    pub today: Vec<String>,
    pub yesterday: Vec<String>,
    pub myself: Vec<String>,
}

impl Words {
    /// Whether `text` (already normalised) is one of `list`.
    pub fn is(list: &[String], text: &str) -> bool {
        list.iter().any(|w| w == text)
    }
}

/// One process, e.g. the registration.
#[derive(Debug, Clone)]
pub struct FlowDef {
    pub id: String,
    pub title: String,
    pub case_prefix: String,
    /// Policy 1.4: only staff of a unit may start it.
    pub requires_unit: bool,
    /// The approval chain, in order; empty when the flow needs no approval.
    pub approval: Vec<ApprovalStepDef>,
    /// Field ids shown on the approver's card.
    pub card_fields: Vec<String>,
    /// Member fields naming the people a case is about (they never decide its steps).
    pub subjects: Vec<String>,
    /// On final approval the case enters the account register.
    pub registers_account: bool,
    /// Filing marks the account in its `account` field closing, final approval closed.
    pub closes_account: bool,
    /// Approvers may refuse a case for good (不得发布) besides 驳回.
    pub refusable: bool,
    /// Its cases are a campaign's reports (`[campaigns.annual_review] flow`).
    pub campaign: bool,
    /// A reporting deadline: within `working_days` of the date in field `from`.
    pub deadline: Option<DeadlineDef>,
    /// This flow's field → the registration field it replaces on final approval.
    pub register_updates: Vec<(String, String)>,
    pub fields: Vec<FieldDef>,
    /// The printed form's layout (`[form]`; by default one row per field, titled as the flow).
    pub form: FormLayout,
}

impl FlowDef {
    pub fn field(&self, id: &str) -> Option<(usize, &FieldDef)> {
        self.fields.iter().enumerate().find(|(_, f)| f.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    pub optional: bool,
    /// Has a `when` condition (template `when`).
    pub conditional: bool,
    /// Has its own invalid message (template `invalid`).
    pub custom_invalid: bool,
    pub hint: String,
    pub example: String,
    /// An image or file message answers it too (kept as evidence): `files = true`, on `text`
    /// and `url` fields.
    pub files: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text {
        min_len: u32,
        max_len: u32,
    },
    Choice {
        choices: Vec<String>,
        other: Option<String>,
    },
    Multi {
        choices: Vec<String>,
    },
    YesNo,
    Date,
    Mobile,
    Phone,
    Email,
    Url,
    Integer {
        min: i64,
        max: i64,
    },
    Member,
    Account,
    Unit,
}

impl FieldKind {
    /// The key of the type's default invalid message in `[messages.invalid]`.
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Choice { .. } => "choice",
            FieldKind::Multi { .. } => "multi",
            FieldKind::YesNo => "yesno",
            FieldKind::Date => "date",
            FieldKind::Mobile => "mobile",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Url => "url",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Member => "member",
            FieldKind::Account => "account",
            FieldKind::Unit => "unit",
        }
    }
}

/// A reporting deadline (policy 5.1 note 3: changes within 5 working days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineDef {
    pub from: String,
    pub working_days: u32,
}

/// Who decides one approval step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// The holders of a role: `unit_leader` (of the case's unit) or a role of bot.toml.
    Role(String),
    /// Named userids.
    Users(Vec<String>),
}

/// One validated approval step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalStepDef {
    pub label: String,
    pub assignment: Assignment,
    pub mode: SignMode,
    pub deadline_working_days: Option<u32>,
}

/// Names of the templates kept in [`Scripts`].
pub mod tpl {
    /// A generic message from `[messages]`.
    pub fn msg(key: &str) -> String {
        format!("m.{key}")
    }
    /// What a text command does (`[messages.commands]`), by its kind (`mine`, `todo` …).
    pub fn command(kind: &str) -> String {
        format!("m.commands.{kind}")
    }
    /// A type's default invalid message.
    pub fn invalid(kind: &str) -> String {
        format!("m.invalid.{kind}")
    }
    /// A flow-level template: `start`, `no_unit`, `submitted`.
    pub fn flow(flow: &str, part: &str) -> String {
        format!("f.{flow}.{part}")
    }
    /// A duty message from `[duties.<kind>]`.
    pub fn duty(kind: &str, part: &str) -> String {
        format!("d.{kind}.{part}")
    }
    /// An approval message from `[approvals]`.
    pub fn approval(key: &str) -> String {
        format!("a.{key}")
    }
    /// A flow's own approval message (its `[approvals]` table), said instead of bot.toml's.
    pub fn flow_approval(flow: &str, key: &str) -> String {
        format!("f.{flow}.@approvals.{key}")
    }
    /// A `[publication_review]` message: authorisation before publishing.
    pub fn publication(key: &str) -> String {
        format!("p.{key}")
    }
    /// A `[supervision]` message: the department's view of the register.
    pub fn supervision(key: &str) -> String {
        format!("s.{key}")
    }
    /// A `[desk]` word: the web desk's pages.
    pub fn desk(key: &str) -> String {
        format!("desk.{key}")
    }
    /// A `[closure_order]` message: a closure the department orders.
    pub fn closure_order(key: &str) -> String {
        format!("c.{key}")
    }
    /// An `[incidents.messages]` message.
    pub fn incident(key: &str) -> String {
        format!("i.{key}")
    }
    /// An `[evidence]` message: a refused or unexpected file.
    pub fn evidence(key: &str) -> String {
        format!("e.{key}")
    }
    /// A `[campaigns.annual_review.messages]` message: the annual review campaign.
    pub fn campaign(key: &str) -> String {
        format!("n.{key}")
    }
    /// A `[reposts.messages]` message: repost tasks.
    pub fn reposts(key: &str) -> String {
        format!("p.{key}")
    }
    /// An `[export]` template: `approver`, `approved_on`, `date`.
    pub fn export(key: &str) -> String {
        format!("x.{key}")
    }
    /// A field template: `prompt`, `when`, `invalid`, `other`.
    pub fn field(flow: &str, field: &str, part: &str) -> String {
        format!("f.{flow}.{field}.{part}")
    }
}

impl Scripts {
    /// Reads, validates and compiles a scripts folder; refuses on any error.
    pub fn load(dir: &Path) -> Result<Scripts, ScriptsError> {
        compile::compile(dir)
            .map(|(scripts, _)| scripts)
            .map_err(ScriptsError)
    }

    /// Renders a template; a render failure (not expected after validation) yields its source
    /// so the user still gets the scripted words.
    pub fn render(&self, name: &str, ctx: &Value) -> String {
        match self.templates.get_template(name) {
            Ok(t) => t
                .render(ctx)
                .unwrap_or_else(|_| t.source().to_owned())
                .trim()
                .to_owned(),
            Err(_) => String::new(),
        }
    }

    /// [`Scripts::render`] keeping leading and trailing blanks (e.g. room left on paper).
    pub fn render_untrimmed(&self, name: &str, ctx: &Value) -> String {
        match self.templates.get_template(name) {
            Ok(t) => t.render(ctx).unwrap_or_else(|_| t.source().to_owned()),
            Err(_) => String::new(),
        }
    }

    /// Whether a template exists (optional templates such as a field's own `invalid`).
    pub fn has(&self, name: &str) -> bool {
        self.templates.get_template(name).is_ok()
    }
}

/// Why a scripts folder was refused: every diagnostic, one per line.
#[derive(Debug)]
pub struct ScriptsError(pub Vec<Diagnostic>);

impl fmt::Display for ScriptsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid bot-scripts ({} errors):", self.0.len())?;
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptsError {}

/// What `flowbot check` reports for a valid folder.
#[derive(Debug)]
pub struct CheckReport {
    pub version: String,
    pub flows: usize,
    pub fields: usize,
    /// The years with holiday data in `calendar/`.
    pub calendar_years: Vec<i32>,
    pub warnings: Vec<Diagnostic>,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        let years = match (self.calendar_years.first(), self.calendar_years.last()) {
            (Some(a), Some(b)) if a == b => format!("{a}"),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "none".to_owned(),
        };
        write!(
            f,
            "ok: {} flows, {} fields, holidays {years}, version {}",
            self.flows, self.fields, self.version
        )
    }
}

/// Validates a scripts folder (`flowbot check [DIR]`): all errors, or a report with warnings.
/// "Today" (for the missing next-year calendar warning) is the clock's date in the company's
/// time zone.
pub fn check(dir: &Path) -> Result<CheckReport, Vec<Diagnostic>> {
    check_with(dir, None)
}

/// [`check`] as on `today`: from 1 December, a missing calendar file for next year is a warning.
pub fn check_on(dir: &Path, today: NaiveDate) -> Result<CheckReport, Vec<Diagnostic>> {
    check_with(dir, Some(today))
}

fn check_with(dir: &Path, today: Option<NaiveDate>) -> Result<CheckReport, Vec<Diagnostic>> {
    let (scripts, mut warnings) = compile::compile(dir)?;
    let cal = &scripts.calendar;
    let cal_dir = dir.join("calendar");
    if cal_dir.is_dir() {
        let today = today.unwrap_or_else(|| Clock::new(scripts.time_zone).now().today);
        warnings.extend(crate::base::calendar::missing_year_warnings(
            cal, &cal_dir, today,
        ));
    }
    Ok(CheckReport {
        version: scripts.version.clone(),
        flows: scripts.flows.len(),
        fields: scripts.flows.values().map(|f| f.fields.len()).sum(),
        calendar_years: cal.years().collect(),
        warnings,
    })
}

/// Every message `[approvals]` in bot.toml must define (and nothing else).
pub const APPROVAL_MESSAGES: &[&str] = &[
    "card_title",
    "card_description",
    "card_resubmitted",
    "button_approve",
    "button_reject",
    "button_details",
    "card_row_number",
    "card_row_applicant",
    "card_row_unit",
    "card_approved_before",
    "card_stale",
    "chase_to_approver",
    "card_deadline",
    "card_approved",
    "card_rejected",
    "ask_reason",
    "reason_cancelled",
    "decision_recorded",
    "not_assignee",
    "recused",
    "already_decided",
    "case_closed",
    "card_expired",
    "unknown_case",
    "flow_retired",
    "no_permission",
    "usage",
    "step_passed",
    "rejected_to_applicant",
    "approved_to_applicant",
    "confirmed_to_applicant",
    "registered_to_leader",
    "decided_elsewhere",
    "decision_approve",
    "decision_reject",
    "withdrawn",
    "withdrawn_to_approver",
    "cannot_withdraw",
    "urged",
    "urge_limit",
    "urge_to_approver",
    "edit_started",
    "cannot_edit",
    "resubmitted",
    "status_pending",
    "status_approved",
    "status_rejected",
    "status_withdrawn",
    "mine",
    "todo",
    "status",
    "history_submitted",
    "history_approved",
    "history_rejected",
    "history_edited",
    "history_resubmitted",
    "history_withdrawn",
    "history_urged",
    "history_registered",
    "history_changed",
];

/// Every message `[supervision]` in bot.toml must define (and nothing else), when present.
pub const SUPERVISION_MESSAGES: &[&str] = &[
    "refused",
    "ledger",
    "no_more_pages",
    "search",
    "stats",
    "details",
    "status_in_use",
    "status_changing",
    "export_started",
    "status_rectifying",
    "status_closing",
    "status_closed",
    "history_account_status",
];

/// Every word `[desk]` in bot.toml must define (and nothing else), when present.
pub const DESK_WORDS: &[&str] = &[
    "title",
    "register",
    "todo",
    "signed_in_as",
    "forbidden",
    "not_found",
    "sign_in_failed",
    "unit",
    "platform",
    "status",
    "register_number",
    "case_number",
    "account_name",
    "account_id",
    "all",
    "search",
    "filter",
    "sort",
    "previous",
    "next",
    "page_of",
    "empty",
    "download",
    "account",
    "current_entry",
    "history",
    "cases",
    "case",
    "answers",
    "applicant",
    "submitted",
    "approvals",
    "duties",
    "deadline",
    "age",
    "age_value",
    "overdue",
    "decide_in_chat",
    "printable_form",
    "stats",
    "registered",
    "annual",
    "incidents",
    "what",
    "holder",
    "nobody_yet",
    "reposts",
    "reposted",
];

/// The words of a link to the desk in a message (a card's row name, the link's text): optional;
/// without them messages carry no link.
pub const DESK_LINK_WORDS: &[&str] = &["link_label", "link_text"];

/// Every message `[closure_order]` in bot.toml must define (and nothing else), when present.
pub const CLOSURE_ORDER_MESSAGES: &[&str] = &[
    "refused",
    "usage",
    "already_closed",
    "already_ordered",
    "ordered",
    "no_order",
    "not_due",
    "closed",
    "closed_to_department",
];

/// The duty kind of a closure the department orders (`[duties.closure_order]`).
pub const CLOSURE_ORDER: &str = "closure_order";

/// 或签 (any one assignee decides) or 会签 (every assignee must approve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignMode {
    Any,
    All,
}
