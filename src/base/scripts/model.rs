//! Raw serde model of the `bot-scripts/` files, mirroring the TOML exactly.
//!
//! Every table denies unknown keys, and the values that later checks talk about are
//! `Spanned` so a diagnostic can name the line. Nothing here is validated beyond what serde
//! does; `compile` turns these into checked definitions.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `bot.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBot {
    pub help: RawHelp,
    pub idle: RawIdle,
    #[serde(default)]
    pub quiet_hours: Option<RawQuietHours>,
    #[serde(default)]
    pub roles: BTreeMap<String, Spanned<RawRole>>,
    #[serde(default)]
    pub flows: BTreeMap<String, Spanned<RawFlowEntry>>,
    pub words: RawWords,
    pub messages: RawMessages,
    /// What the bot says about approvals: cards, decisions, notices (`[approvals]`).
    pub approvals: Spanned<BTreeMap<String, Spanned<String>>>,
    #[serde(default)]
    pub calendar: Option<RawCalendar>,
    /// Group chats by name: a group robot (its webhook key from `FLOWBOT_ROBOT_<NAME>`) or an
    /// app group chat (`[groups.<name>]`).
    #[serde(default)]
    pub groups: BTreeMap<String, Spanned<RawGroup>>,
    /// Duties the bot chases, with their reminder ladders (`[duties.<kind>]`).
    #[serde(default)]
    pub duties: BTreeMap<String, Spanned<RawDuty>>,
    /// `flowbot export` column headers and the printed form's words (`[export]`, optional: only
    /// those two commands need it).
    #[serde(default)]
    pub export: Option<RawExport>,
    /// What the bot says to the propaganda department and unit leaders supervising the
    /// register in chat (`[supervision]`, optional: without it those commands are not offered).
    #[serde(default)]
    pub supervision: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// The words of the department's desk, the web pages signed in with WeCom (`[desk]`,
    /// optional: without it `/desk` is not served).
    #[serde(default)]
    pub desk: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// What the bot says about a closure the propaganda department orders (`[closure_order]`,
    /// optional: without it `责令注销` is not offered; its ladder is `[duties.closure_order]`).
    #[serde(default)]
    pub closure_order: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// Incident reports (`[incidents]`, optional: without it `舆情` is not offered).
    #[serde(default)]
    pub incidents: Option<super::incidents::RawIncidents>,
    /// Images and files kept as evidence (`[evidence]`, optional: without it they are not
    /// downloaded).
    #[serde(default)]
    pub evidence: Option<Spanned<super::evidence::RawEvidence>>,
    /// How failing messages are retried (`[delivery]`, optional: 24 hours without it).
    #[serde(default)]
    pub delivery: Option<super::delivery::RawDelivery>,
    /// Separation of duties (`[separation]`): who decides a step nobody else may decide.
    #[serde(default)]
    pub separation: Option<RawSeparation>,
    /// Authorisation before publishing (`[publication_review]`, optional: without it the
    /// flow `publication_review` has no answer deadline, reminders or leader rule).
    #[serde(default)]
    pub publication_review: Option<Spanned<super::publication::RawPublicationReview>>,
    /// Recurring campaigns (`[campaigns.annual_review]`, optional: without it `年审` is not
    /// offered).
    #[serde(default)]
    pub campaigns: Option<super::campaigns::RawCampaigns>,
    /// The work circle (`[work_circle]`, optional): see `scripts::reposts`.
    #[serde(default)]
    pub work_circle: Option<super::reposts::RawWorkCircle>,
    /// Repost tasks (`[reposts]`, optional): see `scripts::reposts`.
    #[serde(default)]
    pub reposts: Option<super::reposts::RawReposts>,
    /// The yearly assessment of units (`[assessment]`, optional: without it `考核` and
    /// `flowbot report assessment` are not offered).
    #[serde(default)]
    pub assessment: Option<super::assessment::RawAssessment>,
}

/// `[separation]`: nobody decides a step of a case they filed or are the subject of; a step
/// left with nobody goes to the holders of `fallback_role`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeparation {
    pub fallback_role: Spanned<String>,
}

/// A group chat the bot posts nudges to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Shown in logs and the simulator.
    pub title: String,
    /// An app group chat id (`appchat/send`) instead of a robot.
    #[serde(default)]
    pub appchat: Option<String>,
}

/// A duty and its reminder ladder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDuty {
    /// Working days from the day the duty opens to its deadline.
    pub working_days: u32,
    /// Urgent duties are not deferred by quiet hours or holidays.
    #[serde(default)]
    pub urgent: bool,
    /// Said to the people due when the duty opens.
    pub opened: Spanned<String>,
    /// A direct nudge.
    pub nudge: Spanned<String>,
    /// A digest in a group: its first line, each unit's heading, each item.
    pub digest_header: Spanned<String>,
    pub digest_unit: Spanned<String>,
    pub digest_item: Spanned<String>,
    pub rungs: Vec<Spanned<RawRung>>,
}

/// One rung: when (working days or hours from the deadline), whom, where.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRung {
    #[serde(default)]
    pub working_days: Option<i32>,
    #[serde(default)]
    pub hours: Option<i64>,
    /// `due`, `unit_leader`, `propaganda`.
    pub to: Vec<Spanned<String>>,
    /// A group name: a digest there instead of direct messages.
    #[serde(default)]
    pub group: Option<Spanned<String>>,
    /// The digest goes to each unit's own group (`[groups.<unit id>]`) when it has one, else
    /// to `group`.
    #[serde(default)]
    pub unit_group: Option<Spanned<bool>>,
    #[serde(default)]
    pub repeat_every: Option<u32>,
    /// `flowbot export` column headers and the printed form's words (`[export]`, optional: only
    /// those two commands need it).
    #[serde(default)]
    pub export: Option<RawExport>,
}

/// `[export]`: the headers of the fixed columns of `flowbot export` (answer columns are headed
/// by the flows' field labels) and, in `[export.form]`, the words of the printed form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExport {
    pub register_sheet: Spanned<String>,
    pub cases_sheet: Spanned<String>,
    pub register_number: Spanned<String>,
    pub case_number: Spanned<String>,
    pub flow: Spanned<String>,
    pub unit: Spanned<String>,
    pub applicant: Spanned<String>,
    pub status: Spanned<String>,
    pub current_step: Spanned<String>,
    pub submitted_at: Spanned<String>,
    pub decided_at: Spanned<String>,
    pub registered_at: Spanned<String>,
    /// Template over `step` (an approval step's label): the column of who approved it.
    pub approver: Spanned<String>,
    /// Template over `step`: the column of the date it was approved.
    pub approved_on: Spanned<String>,
    /// The answers of a registration shown in the register, by field id, in column order.
    pub register_fields: Spanned<Vec<String>>,
    pub form: RawPrintForm,
}

/// `[export.form]`: the words of the printed form (`flowbot form`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrintForm {
    /// One label per printed copy, e.g. who keeps it.
    pub copies: Spanned<Vec<String>>,
    /// Before the approver's name in an opinion box (负责人签字).
    pub signature: Spanned<String>,
    /// Under the signature (加盖单位公章).
    pub seal: Spanned<String>,
    /// Template over `year`, `month`, `day`: a decision's date on paper.
    pub date: Spanned<String>,
    /// An opinion box whose step has not been decided yet.
    pub undecided: Spanned<String>,
    /// The heading of the notes under the table (备注).
    pub notes: Spanned<String>,
    /// The heading of a register entry's change record (变更记录), printed under the form of a
    /// register number (`flowbot form DJ-…`); without it the record is left out.
    #[serde(default)]
    pub changes: Option<Spanned<String>>,
    /// Template over `date`, `report`, `name`, `changes`: one confirmed change in that record.
    #[serde(default)]
    pub change: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHelp {
    pub text: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdle {
    /// After this many minutes without a message, a half-filled form asks continue/restart.
    pub resume_after_minutes: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuietHours {
    pub start: Spanned<String>,
    pub end: Spanned<String>,
}

/// `[calendar]`: the company's time zone and working hours (both optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// An IANA zone name; default `Asia/Shanghai`.
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    #[serde(default)]
    pub working_hours: Option<RawWorkingHours>,
}

/// `[calendar.working_hours]`: the working periods of a working day, local time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkingHours {
    /// `HH:MM-HH:MM` each, in order, e.g. `["09:00-12:00", "13:30-17:30"]`.
    pub periods: Spanned<Vec<String>>,
}

/// A role held by the members of one directory unit (e.g. the propaganda department).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub unit: Spanned<String>,
    /// Only the unit's leaders hold the role (e.g. the head of a department).
    #[serde(default)]
    pub leaders: bool,
}

/// How a flow is started: keywords typed in chat and menu click keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlowEntry {
    #[serde(default)]
    pub keywords: Vec<Spanned<String>>,
    #[serde(default)]
    pub menu_keys: Vec<Spanned<String>>,
}

/// The words users type to steer a form. Matched after normalisation, case-insensitively.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWords {
    pub help: Spanned<Vec<String>>,
    pub cancel: Spanned<Vec<String>>,
    pub back: Spanned<Vec<String>>,
    pub edit: Spanned<Vec<String>>,
    pub skip: Spanned<Vec<String>>,
    pub confirm: Spanned<Vec<String>>,
    #[serde(rename = "continue")]
    pub resume: Spanned<Vec<String>>,
    pub restart: Spanned<Vec<String>>,
    pub yes: Spanned<Vec<String>>,
    pub no: Spanned<Vec<String>>,
    pub today: Spanned<Vec<String>>,
    pub yesterday: Spanned<Vec<String>>,
    pub myself: Spanned<Vec<String>>,
}

/// Generic messages (templates) the engine says in any flow.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMessages {
    pub field_help: Spanned<String>,
    pub retry_example: Spanned<String>,
    pub retry_offer: Spanned<String>,
    pub cannot_skip: Spanned<String>,
    pub skipped: Spanned<String>,
    pub no_previous: Spanned<String>,
    pub unknown_field: Spanned<String>,
    pub field_hidden: Spanned<String>,
    pub current_value: Spanned<String>,
    pub choice_list: Spanned<String>,
    pub resume_ask: Spanned<String>,
    pub restarted: Spanned<String>,
    pub cancelled: Spanned<String>,
    pub form_busy: Spanned<String>,
    pub script_changed: Spanned<String>,
    pub summary: Spanned<String>,
    pub confirm_ask: Spanned<String>,
    pub empty_value: Spanned<String>,
    pub yes_label: Spanned<String>,
    pub no_label: Spanned<String>,
    pub member_ambiguous: Spanned<String>,
    /// `（5/16）`: the place of the question among those that apply.
    pub position: Spanned<String>,
    /// A question with one option, answered for the user.
    pub auto_chosen: Spanned<String>,
    /// A flow that needs a registered account, started in a unit without one.
    pub no_accounts: Spanned<String>,
    /// 取消 of a form with many answers: sure?
    pub cancel_ask: Spanned<String>,
    /// A control word (确认, 继续 …) typed at a question: not an answer.
    pub control_word: Spanned<String>,
    /// A command or a flow keyword typed at a free-text question: answer or command?
    pub reserved_ask: Spanned<String>,
    /// The form waits while a command typed in it runs.
    pub paused_for_command: Spanned<String>,
    /// An image or file sent at a question that takes words (`name`, `label`); optional.
    #[serde(default)]
    pub file_not_asked: Option<Spanned<String>>,
    /// A message that waits on an unavailable dependency (WeCom, the store): the answer is
    /// delayed; told once per message. Optional.
    #[serde(default)]
    pub answer_delayed: Option<Spanned<String>>,
    pub invalid: RawInvalid,
    /// What each command of the approvals does, as [`RawMessages::reserved_ask`] names it.
    pub commands: RawCommands,
}

/// What each text command does, in a few words (`还是想{{ action }}？`), by command kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommands {
    pub mine: Spanned<String>,
    pub todo: Spanned<String>,
    pub status: Spanned<String>,
    pub withdraw: Spanned<String>,
    pub urge: Spanned<String>,
    pub approve: Spanned<String>,
    pub reject: Spanned<String>,
    pub edit: Spanned<String>,
    pub ledger: Spanned<String>,
    pub search: Spanned<String>,
    pub stats: Spanned<String>,
    pub details: Spanned<String>,
    pub export: Spanned<String>,
    pub order_closure: Spanned<String>,
    pub confirm_closed: Spanned<String>,
    /// The campaign's commands (`年审 …`), when `[campaigns.annual_review]` is configured.
    #[serde(default)]
    pub annual_review: Option<Spanned<String>>,
    /// Only with `[assessment]`.
    #[serde(default)]
    pub assessment: Option<Spanned<String>>,
    /// The incident commands (`舆情 列表` …), with `[incidents]`.
    #[serde(default)]
    pub incidents: Option<Spanned<String>>,
    /// The repost commands (`转发 进度` …), with `[reposts]`.
    #[serde(default)]
    pub reposts: Option<Spanned<String>>,
}

/// The default "that is not a valid answer" message per field type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvalid {
    pub text: Spanned<String>,
    pub choice: Spanned<String>,
    pub other: Spanned<String>,
    pub multi: Spanned<String>,
    pub yesno: Spanned<String>,
    pub date: Spanned<String>,
    pub mobile: Spanned<String>,
    pub phone: Spanned<String>,
    pub email: Spanned<String>,
    pub url: Spanned<String>,
    pub integer: Spanned<String>,
    pub member: Spanned<String>,
    pub account: Spanned<String>,
    pub unit: Spanned<String>,
}

/// `flows/<id>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub title: Spanned<String>,
    /// Prefix of the readable case number, e.g. `BA`.
    pub case_prefix: Spanned<String>,
    #[serde(default)]
    pub requires_unit: bool,
    /// The approval chain, in order (`[[approval]]`).
    #[serde(default)]
    pub approval: Vec<Spanned<RawApprovalStep>>,
    /// On final approval the case enters the account register (registration).
    #[serde(default)]
    pub registers_account: bool,
    /// On filing the account picked in the `account` field is marked closing, on final
    /// approval closed (deregistration).
    #[serde(default)]
    pub closes_account: bool,
    /// Approvers may also refuse a case for good (不得发布), besides 驳回 which lets the
    /// applicant edit and resubmit; its words are in this flow's `[approvals]`.
    #[serde(default)]
    pub refusable: bool,
    /// This flow's own words for some `[approvals]` messages of bot.toml (e.g. 可以发布 for
    /// 同意), and the refusal's words of a `refusable` flow.
    #[serde(default)]
    pub approvals: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// A reporting deadline counted in working days from a date field (`[deadline]`).
    #[serde(default)]
    pub deadline: Option<Spanned<RawDeadline>>,
    /// On final approval, copy these answers (this flow's field → the registration's field)
    /// into the registered account picked in the `account` field (`[register_updates]`).
    #[serde(default)]
    pub register_updates: BTreeMap<String, Spanned<String>>,
    /// Field ids shown on the approver's card (besides number, applicant and unit).
    #[serde(default)]
    pub card_fields: Vec<Spanned<String>>,
    /// Member fields naming the people a case is about: like the applicant, they never decide
    /// a step of it (separation of duties).
    #[serde(default)]
    pub subjects: Vec<Spanned<String>>,
    /// Said when a confirmed registration names an account already registered or pending
    /// (required with `registers_account`).
    #[serde(default)]
    pub duplicate: Option<Spanned<String>>,
    pub start: Spanned<String>,
    #[serde(default)]
    pub no_unit: Option<Spanned<String>>,
    pub submitted: Spanned<String>,
    /// The layout of the printed form (`flowbot form`), like the paper form.
    #[serde(default)]
    pub form: Option<RawFlowForm>,
    pub fields: Vec<Spanned<RawField>>,
}

/// `[deadline]`: within `working_days` of the date answered in field `from`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeadline {
    pub from: Spanned<String>,
    pub working_days: u32,
    /// Said when the form is filed: `changed_on`, `deadline`, `late` are available.
    pub note: Spanned<String>,
}

/// A flow's `[form]`: the printed form's title, its rows of fields, the heading of each approval
/// step's opinion box and the notes. Fields not placed in a row get a row of their own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlowForm {
    pub title: Spanned<String>,
    /// One heading per approval step, in chain order (default: the step's label).
    #[serde(default)]
    pub opinions: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub notes: Option<Spanned<String>>,
    pub rows: Vec<RawFormRow>,
}

/// One row of the printed form: an optional group label and the fields side by side.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormRow {
    #[serde(default)]
    pub group: Option<String>,
    pub fields: Spanned<Vec<String>>,
}

/// One step of an approval chain: who decides (a role, or named userids) and how.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApprovalStep {
    /// Shown to people, e.g. 单位主要负责人审批.
    pub label: Spanned<String>,
    /// `unit_leader` (of the case's unit) or a role of bot.toml.
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Named userids instead of a role.
    #[serde(default)]
    pub users: Vec<String>,
    /// `any` (或签, the default) or `all` (会签).
    #[serde(default)]
    pub mode: Option<Spanned<String>>,
    /// Optional deadline in working days after the step opens.
    #[serde(default)]
    pub deadline_working_days: Option<u32>,
}

/// Field types; an unknown one is a serde error with its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawFieldType {
    Text,
    Choice,
    Multi,
    Yesno,
    Date,
    Mobile,
    Phone,
    Email,
    Url,
    Integer,
    Member,
    Account,
    Unit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub id: Spanned<String>,
    pub label: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<RawFieldType>,
    pub prompt: Spanned<String>,
    pub hint: Spanned<String>,
    pub example: Spanned<String>,
    #[serde(default)]
    pub optional: bool,
    /// A minijinja expression over earlier answers (by field id).
    #[serde(default)]
    pub when: Option<Spanned<String>>,
    /// This field's own "not valid" message, instead of the type's default.
    #[serde(default)]
    pub invalid: Option<Spanned<String>>,
    #[serde(default)]
    pub min_len: Option<Spanned<u32>>,
    #[serde(default)]
    pub max_len: Option<Spanned<u32>>,
    #[serde(default)]
    pub min: Option<Spanned<i64>>,
    #[serde(default)]
    pub max: Option<Spanned<i64>>,
    #[serde(default)]
    pub choices: Option<Spanned<Vec<String>>>,
    /// The choice that asks for free text (e.g. `其他`).
    #[serde(default)]
    pub other_choice: Option<Spanned<String>>,
    #[serde(default)]
    pub other_prompt: Option<Spanned<String>>,
    /// An image or file message answers it too (`text` and `url` fields only).
    #[serde(default)]
    pub files: Option<Spanned<bool>>,
}
