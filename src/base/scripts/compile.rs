//! Validation: raw TOML model → [`Scripts`]. Collects every problem (not just the first) with its
//! file and line: unknown keys and types (serde), duplicate ids and keywords, conditions naming a
//! missing or later field, empty choice lists, templates that do not compile, unknown roles.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use toml::Spanned;

use super::model::{RawBot, RawFlow, RawMessages, RawWords};
use super::{Scripts, Words, tpl};
use crate::base::diagnostics::{Diagnostic, Diagnostics, Source};
use crate::base::directory::RoleDef;
use crate::base::normalize::key;

/// Roles every flow may name without declaring them.
pub(super) const BUILTIN_ROLES: &[&str] = &["unit_leader"];
/// The template function counting working days on the holiday calendar.
pub(super) const WORKDAYS_AFTER: &str = "workdays_after";
/// Names a condition may use besides earlier fields: today's date and the calendar function.
pub(super) const CONDITION_BUILTINS: &[&str] = &["today", WORKDAYS_AFTER];

type Compiled = (Scripts, Vec<Diagnostic>);

pub(super) fn compile(dir: &Path) -> Result<Compiled, Vec<Diagnostic>> {
    let mut c = Compiler {
        d: Diagnostics::default(),
        env: Environment::new(),
        hash: 0xcbf2_9ce4_8422_2325,
    };
    let bot_src = c
        .read(&dir.join("bot.toml"))
        .ok_or_else(|| c.d.errors.clone())?;
    let bot: Option<RawBot> = c.parse(&bot_src);

    let mut flow_srcs = Vec::new();
    match fs::read_dir(dir.join("flows")) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for p in paths {
                if let Some(src) = c.read(&p) {
                    flow_srcs.push(src);
                }
            }
        }
        Err(e) => c.d.error(Diagnostic {
            path: dir.join("flows"),
            line: 1,
            message: format!("cannot read the flows folder: {e}"),
        }),
    }

    let role_names: Option<HashSet<String>> =
        bot.as_ref().map(|b| b.roles.keys().cloned().collect());
    let mut flows = BTreeMap::new();
    for src in &flow_srcs {
        if let Some(raw) = c.parse::<RawFlow>(src) {
            let id = src
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            if let Some(flow) = c.flow(src, id.unwrap_or_default(), raw, role_names.as_ref()) {
                flows.insert(flow.id.clone(), flow);
            }
        }
    }

    let dir_path = dir.join("directory.toml");
    let directory = if dir_path.exists() {
        c.read(&dir_path)
            .and_then(|src| match crate::base::directory::parse_static(&src) {
                Ok(snap) => Some(snap),
                Err(errs) => {
                    c.d.errors.extend(errs);
                    None
                }
            })
    } else {
        None
    };

    let Some(bot) = bot else {
        return Err(c.d.errors);
    };
    let words = c.words(&bot_src, &bot.words);
    c.messages(&bot_src, &bot.messages);
    c.approval_messages(&bot_src, &bot.approvals);
    if let Some(table) = &bot.supervision {
        c.message_table(
            &bot_src,
            table,
            ("supervision", super::SUPERVISION_MESSAGES),
            tpl::supervision,
        );
    }
    if let Some(table) = &bot.desk {
        let words = ("desk", super::DESK_WORDS);
        c.message_table_with(&bot_src, table, words, super::DESK_LINK_WORDS, tpl::desk);
        let links = super::DESK_LINK_WORDS.iter();
        if links.filter(|k| table.get_ref().contains_key(**k)).count() == 1 {
            c.d.error(bot_src.at(
                table.span(),
                "[desk] link_label and link_text go together (links in messages need both)",
            ));
        }
    }
    if let Some(table) = &bot.closure_order {
        c.message_table(
            &bot_src,
            table,
            ("closure_order", super::CLOSURE_ORDER_MESSAGES),
            tpl::closure_order,
        );
        if !bot.duties.contains_key(super::CLOSURE_ORDER) {
            c.d.error(bot_src.at(
                table.span(),
                "[closure_order] needs its ladder [duties.closure_order]",
            ));
        }
    }
    let evidence = bot.evidence.as_ref().map(|e| c.evidence(&bot_src, e));
    let delivery = bot
        .delivery
        .as_ref()
        .map(|d| c.delivery(&bot_src, d))
        .unwrap_or_default();
    let assessment = bot.assessment.as_ref().map(|a| {
        let phrase = bot.messages.commands.assessment.is_some();
        let sections = super::assessment::Sections {
            annual_review: bot
                .campaigns
                .as_ref()
                .is_some_and(|c| c.annual_review.is_some()),
            incidents: bot.incidents.is_some(),
            reposts: bot.reposts.is_some(),
        };
        c.assessment(&bot_src, a, phrase, sections)
    });
    let incidents = bot
        .incidents
        .as_ref()
        .map(|x| c.incidents(&bot_src, &bot, x));
    let help_text = bot.help.text.get_ref().trim().to_owned();

    let mut roles = BTreeMap::new();
    for (name, role) in &bot.roles {
        if BUILTIN_ROLES.contains(&name.as_str()) {
            c.d.error(bot_src.at(role.span(), format!("role `{name}` is built in")));
        }
        let unit = role.get_ref().unit.get_ref();
        if directory
            .as_ref()
            .is_some_and(|s| !s.units.iter().any(|u| &u.id == unit))
        {
            let msg = format!("role `{name}`: unit `{unit}` is not in directory.toml");
            c.d.warn(bot_src.at(role.get_ref().unit.span(), msg));
        }
        roles.insert(
            name.clone(),
            RoleDef {
                unit: unit.clone(),
                leaders_only: role.get_ref().leaders,
            },
        );
    }
    let fallback_role = c.fallback_role(&bot_src, &bot, &flows);
    let files: HashSet<String> = flow_srcs
        .iter()
        .filter_map(|s| s.path.file_stem().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let (keywords, menu_keys) = c.entries(&bot_src, &bot, &files);
    let quiet_hours = bot.quiet_hours.as_ref().and_then(|q| {
        let s = c.hhmm(&bot_src, &q.start);
        let e = c.hhmm(&bot_src, &q.end);
        s.zip(e)
    });
    let (time_zone, working_hours, calendar) = c.calendar(dir, &bot_src, bot.calendar.as_ref());
    // Conditions and messages can count working days: `workdays_after(changed_on, 5)`.
    let cal = calendar.clone();
    c.env
        .add_function(WORKDAYS_AFTER, move |date: String, n: i32| -> String {
            chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .map(|d| {
                    cal.add_working_days(d, n)
                        .date
                        .format("%Y-%m-%d")
                        .to_string()
                })
                .unwrap_or_default()
        });

    let groups = bot
        .groups
        .iter()
        .map(|(name, g)| {
            let g = g.get_ref();
            (
                name.clone(),
                super::GroupDef {
                    title: g.title.clone(),
                    appchat: g.appchat.clone(),
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    let duties = c.duties(&bot_src, &bot, &groups);
    let export = bot.export.as_ref().map(|x| c.export(&bot_src, x, &flows));
    let publication_review = bot
        .publication_review
        .as_ref()
        .and_then(|p| c.publication_review(&bot_src, p, &flows, &roles));
    let annual_review = c.campaigns(
        &bot_src,
        bot.campaigns.as_ref(),
        &flows,
        &bot.duties,
        &groups,
    );
    if let Some(f) = annual_review.as_ref().and_then(|a| flows.get_mut(&a.flow)) {
        f.campaign = true;
    }
    let work_circle = bot.work_circle.as_ref().map(|w| c.work_circle(&bot_src, w));
    let reposts = bot
        .reposts
        .as_ref()
        .map(|r| c.reposts(&bot_src, r, &groups));

    if !c.d.errors.is_empty() {
        return Err(c.d.errors);
    }
    let scripts = Scripts {
        help_text,
        version: format!("{:016x}", c.hash),
        idle_after_ms: i64::from(*bot.idle.resume_after_minutes.get_ref()) * 60_000,
        quiet_hours,
        words,
        flows,
        keywords,
        menu_keys,
        roles,
        fallback_role,
        time_zone,
        working_hours,
        calendar,
        groups,
        duties,
        export,
        supervision: bot.supervision.is_some(),
        desk: bot.desk.is_some(),
        closure_order: bot.closure_order.is_some(),
        evidence,
        delivery,
        publication_review,
        annual_review,
        work_circle,
        reposts,
        assessment,
        incidents,
        templates: c.env,
    };
    Ok((scripts, c.d.warnings))
}

pub(super) struct Compiler {
    pub(super) d: Diagnostics,
    pub(super) env: Environment<'static>,
    hash: u64,
}

impl Compiler {
    fn read(&mut self, path: &Path) -> Option<Source> {
        match fs::read_to_string(path) {
            Ok(text) => {
                for b in path
                    .file_name()
                    .into_iter()
                    .flat_map(|n| n.as_encoded_bytes())
                {
                    self.fnv(*b);
                }
                for b in text.as_bytes() {
                    self.fnv(*b);
                }
                Some(Source::new(path, text))
            }
            Err(e) => {
                self.d.error(Diagnostic {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!("cannot read: {e}"),
                });
                None
            }
        }
    }

    fn fnv(&mut self, b: u8) {
        self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, src: &Source) -> Option<T> {
        toml::from_str(&src.text)
            .map_err(|e| self.d.error(src.parse_error(&e)))
            .ok()
    }

    pub(super) fn template(&mut self, src: &Source, name: String, text: &Spanned<String>) {
        if let Err(e) = self.env.add_template_owned(name, text.get_ref().clone()) {
            let detail = e.detail().unwrap_or("syntax error").to_owned();
            self.d
                .error(src.at(text.span(), format!("template does not compile: {detail}")));
        }
    }

    fn hhmm(&mut self, src: &Source, v: &Spanned<String>) -> Option<u16> {
        let parsed = v.get_ref().split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            (h < 24 && m < 60).then_some(h * 60 + m)
        });
        if parsed.is_none() {
            self.d.error(src.at(v.span(), "expected a time as HH:MM"));
        }
        parsed
    }

    fn words(&mut self, src: &Source, w: &RawWords) -> Words {
        let lists = [
            ("help", &w.help),
            ("cancel", &w.cancel),
            ("back", &w.back),
            ("edit", &w.edit),
            ("skip", &w.skip),
            ("confirm", &w.confirm),
            ("continue", &w.resume),
            ("restart", &w.restart),
        ];
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (name, list) in lists {
            for word in list.get_ref() {
                if let Some(other) = seen.insert(key(word), name) {
                    let msg = format!("word `{word}` is used by both `{other}` and `{name}`");
                    self.d.error(src.at(list.span(), msg));
                }
            }
        }
        let mut norm = |l: &Spanned<Vec<String>>| {
            if l.get_ref().is_empty() {
                self.d.error(src.at(l.span(), "the word list is empty"));
            }
            l.get_ref().iter().map(|s| key(s)).collect::<Vec<_>>()
        };
        Words {
            help: norm(&w.help),
            cancel: norm(&w.cancel),
            back: norm(&w.back),
            edit: norm(&w.edit),
            skip: norm(&w.skip),
            confirm: norm(&w.confirm),
            resume: norm(&w.resume),
            restart: norm(&w.restart),
            yes: norm(&w.yes),
            no: norm(&w.no),
            today: norm(&w.today),
            yesterday: norm(&w.yesterday),
            myself: norm(&w.myself),
        }
    }

    fn messages(&mut self, src: &Source, m: &RawMessages) {
        let general = [
            ("field_help", &m.field_help),
            ("retry_example", &m.retry_example),
            ("retry_offer", &m.retry_offer),
            ("cannot_skip", &m.cannot_skip),
            ("skipped", &m.skipped),
            ("no_previous", &m.no_previous),
            ("unknown_field", &m.unknown_field),
            ("field_hidden", &m.field_hidden),
            ("current_value", &m.current_value),
            ("choice_list", &m.choice_list),
            ("resume_ask", &m.resume_ask),
            ("restarted", &m.restarted),
            ("cancelled", &m.cancelled),
            ("form_busy", &m.form_busy),
            ("script_changed", &m.script_changed),
            ("summary", &m.summary),
            ("confirm_ask", &m.confirm_ask),
            ("empty_value", &m.empty_value),
            ("yes_label", &m.yes_label),
            ("no_label", &m.no_label),
            ("member_ambiguous", &m.member_ambiguous),
            ("position", &m.position),
            ("auto_chosen", &m.auto_chosen),
            ("no_accounts", &m.no_accounts),
            ("cancel_ask", &m.cancel_ask),
            ("control_word", &m.control_word),
            ("reserved_ask", &m.reserved_ask),
            ("paused_for_command", &m.paused_for_command),
        ];
        for (k, v) in general {
            self.template(src, tpl::msg(k), v);
        }
        for (k, v) in [
            ("file_not_asked", &m.file_not_asked),
            ("answer_delayed", &m.answer_delayed),
        ] {
            if let Some(v) = v {
                self.template(src, tpl::msg(k), v);
            }
        }
        let i = &m.invalid;
        let invalid = [
            ("text", &i.text),
            ("choice", &i.choice),
            ("other", &i.other),
            ("multi", &i.multi),
            ("yesno", &i.yesno),
            ("date", &i.date),
            ("mobile", &i.mobile),
            ("phone", &i.phone),
            ("email", &i.email),
            ("url", &i.url),
            ("integer", &i.integer),
            ("member", &i.member),
            ("account", &i.account),
            ("unit", &i.unit),
        ];
        for (k, v) in invalid {
            self.template(src, tpl::invalid(k), v);
        }
        let c = &m.commands;
        let commands = [
            ("mine", &c.mine),
            ("todo", &c.todo),
            ("status", &c.status),
            ("withdraw", &c.withdraw),
            ("urge", &c.urge),
            ("approve", &c.approve),
            ("reject", &c.reject),
            ("edit", &c.edit),
            ("ledger", &c.ledger),
            ("search", &c.search),
            ("stats", &c.stats),
            ("details", &c.details),
            ("export", &c.export),
            ("order_closure", &c.order_closure),
            ("confirm_closed", &c.confirm_closed),
        ];
        for (k, v) in commands {
            self.template(src, tpl::command(k), v);
        }
        let optional = [
            ("annual_review", &c.annual_review),
            ("assessment", &c.assessment),
            ("incidents", &c.incidents),
            ("reposts", &c.reposts),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                self.template(src, tpl::command(k), v);
            }
        }
    }

    /// `[duties.<kind>]`: ladders name known recipients and groups; messages compile.
    fn duties(
        &mut self,
        src: &Source,
        bot: &RawBot,
        groups: &BTreeMap<String, super::GroupDef>,
    ) -> BTreeMap<String, super::DutyDef> {
        use super::ladders::{Ladder, Offset, Recipient, Rung};
        let mut out = BTreeMap::new();
        for (kind, duty) in &bot.duties {
            let d = duty.get_ref();
            for (part, text) in [
                ("opened", &d.opened),
                ("nudge", &d.nudge),
                ("digest_header", &d.digest_header),
                ("digest_unit", &d.digest_unit),
                ("digest_item", &d.digest_item),
            ] {
                self.template(src, tpl::duty(kind, part), text);
            }
            let mut rungs = Vec::new();
            for rung in &d.rungs {
                let r = rung.get_ref();
                let offset = match (r.working_days, r.hours) {
                    (Some(n), None) => Offset::WorkingDays(n),
                    (None, Some(h)) => Offset::Hours(h),
                    _ => {
                        self.d.error(
                            src.at(rung.span(), "a rung needs either `working_days` or `hours`"),
                        );
                        continue;
                    }
                };
                let mut to = Vec::new();
                for who in &r.to {
                    match who.get_ref().as_str() {
                        "due" => to.push(Recipient::Due),
                        "unit_leader" => to.push(Recipient::UnitLeader),
                        "propaganda" => to.push(Recipient::Propaganda),
                        other => self.d.error(src.at(
                            who.span(),
                            format!("unknown recipient `{other}` (due, unit_leader, propaganda)"),
                        )),
                    }
                }
                if let Some(group) = &r.group
                    && !groups.contains_key(group.get_ref())
                {
                    let msg = format!("group `{}` is not in [groups]", group.get_ref());
                    self.d.error(src.at(group.span(), msg));
                }
                let unit_group = r.unit_group.as_ref().is_some_and(|u| *u.get_ref());
                if let Some(u) = &r.unit_group
                    && unit_group
                    && r.group.is_none()
                {
                    let msg = "`unit_group` needs `group`: where the digest goes for a unit without a group of its own";
                    self.d.error(src.at(u.span(), msg));
                }
                rungs.push(Rung {
                    offset,
                    to,
                    group: r.group.as_ref().map(|g| g.get_ref().clone()),
                    unit_group,
                    repeat_every: r.repeat_every,
                });
            }
            out.insert(
                kind.clone(),
                super::DutyDef {
                    working_days: d.working_days,
                    ladder: Ladder {
                        urgent: d.urgent,
                        rungs,
                    },
                },
            );
        }
        out
    }

    /// `[separation] fallback_role` names a declared role; without it, a warning when a flow has
    /// an approval chain (a step left with nobody would have no one to decide it).
    fn fallback_role(
        &mut self,
        src: &Source,
        bot: &RawBot,
        flows: &BTreeMap<String, super::FlowDef>,
    ) -> Option<String> {
        let Some(sep) = &bot.separation else {
            if flows.values().any(|f| !f.approval.is_empty()) {
                let msg = "no [separation] fallback_role: a step whose only approvers filed the case (or are its subject) will have no one to decide it";
                self.d.warn(Diagnostic {
                    path: src.path.clone(),
                    line: 1,
                    message: msg.into(),
                });
            }
            return None;
        };
        let role = sep.fallback_role.get_ref();
        if !BUILTIN_ROLES.contains(&role.as_str()) && !bot.roles.contains_key(role) {
            let msg = format!("fallback_role `{role}` is not a role of [roles]");
            self.d.error(src.at(sep.fallback_role.span(), msg));
        }
        Some(role.clone())
    }

    /// `[approvals]`: every message the approval workflow needs, and nothing else.
    fn approval_messages(
        &mut self,
        src: &Source,
        table: &Spanned<BTreeMap<String, Spanned<String>>>,
    ) {
        let keys = ("approvals", super::APPROVAL_MESSAGES);
        self.message_table(src, table, keys, tpl::approval);
    }

    /// A table of messages (`[approvals]`, `[supervision]`): each of `keys` defined, nothing
    /// else; each compiled as the template `name(key)`.
    pub(super) fn message_table(
        &mut self,
        src: &Source,
        table: &Spanned<BTreeMap<String, Spanned<String>>>,
        (section, keys): (&str, &[&str]),
        name: fn(&str) -> String,
    ) {
        self.message_table_with(src, table, (section, keys), &[], name);
    }

    /// [`Self::message_table`] where the messages `optional` may also be given (not required).
    pub(super) fn message_table_with(
        &mut self,
        src: &Source,
        table: &Spanned<BTreeMap<String, Spanned<String>>>,
        (section, keys): (&str, &[&str]),
        optional: &[&str],
        name: fn(&str) -> String,
    ) {
        let singular = section.trim_end_matches('s');
        for (key, text) in table.get_ref() {
            if keys.contains(&key.as_str()) || optional.contains(&key.as_str()) {
                self.template(src, name(key), text);
            } else {
                self.d
                    .error(src.at(text.span(), format!("unknown {singular} message `{key}`")));
            }
        }
        for key in keys {
            if !table.get_ref().contains_key(*key) {
                self.d.error(src.at(
                    table.span(),
                    format!("[{section}] needs the message `{key}`"),
                ));
            }
        }
    }

    /// Keywords and menu keys → flow ids; a keyword or key used twice is an error.
    fn entries(
        &mut self,
        src: &Source,
        bot: &RawBot,
        flows: &HashSet<String>,
    ) -> (HashMap<String, String>, HashMap<String, String>) {
        let (mut kw, mut menu) = (HashMap::new(), HashMap::<String, String>::new());
        // In file order, so a repeated keyword is reported where it is repeated.
        let mut entries: Vec<_> = bot.flows.iter().collect();
        entries.sort_by_key(|(_, e)| e.span().start);
        for (flow, entry) in entries {
            if !flows.contains(flow) {
                let msg = format!("flow `{flow}` has no file flows/{flow}.toml");
                self.d.error(src.at(entry.span(), msg));
            }
            for k in &entry.get_ref().keywords {
                if let Some(prev) = kw.insert(key(k.get_ref()), flow.clone()) {
                    let msg = format!(
                        "keyword `{}` is used by flows `{prev}` and `{flow}`",
                        k.get_ref()
                    );
                    self.d.error(src.at(k.span(), msg));
                }
            }
            for k in &entry.get_ref().menu_keys {
                if let Some(prev) = menu.insert(k.get_ref().clone(), flow.clone()) {
                    let msg = format!(
                        "menu key `{}` is used by flows `{prev}` and `{flow}`",
                        k.get_ref()
                    );
                    self.d.error(src.at(k.span(), msg));
                }
            }
        }
        for id in flows {
            if !bot.flows.contains_key(id) {
                self.d.warn(Diagnostic {
                    path: src.path.clone(),
                    line: 1,
                    message: format!("flow `{id}` has no keyword or menu key in [flows]"),
                });
            }
        }
        (kw, menu)
    }
}
