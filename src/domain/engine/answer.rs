//! Taking an answer: the reply parsed for the current field (or the free text of an "other"
//! choice), the re-prompt ladder for invalid replies, and the questions the bot asks about a
//! reply before saving it ([`Pending`]): a command or another flow's keyword typed at a
//! free-text question (answer or command?), colleagues sharing a name (by number), `取消` of a
//! long form (sure?). A control word (`确认`, `继续` …) is never saved as an answer.

use minijinja::context;

use super::parse::{Parsed, parse};
use super::state::{Answer, Pending, Phase};
use super::view::Form;
use crate::base::normalize::key;
use crate::base::scripts::{FieldKind, Words, tpl};
use crate::domain::evidence::EvidenceRef;

impl Form<'_> {
    /// Whether the reply to "放弃填写吗？" confirms it.
    pub(super) fn confirms_cancel(&self, k: &str) -> bool {
        let w = &self.s.words;
        [&w.cancel, &w.yes, &w.confirm]
            .iter()
            .any(|l| Words::is(l, k))
    }

    /// The reply to a question the bot asked about the previous reply; `false` when it is not
    /// an answer to that question (it is then handled as any reply).
    pub(super) fn settle(&mut self, pending: Pending, k: &str) -> bool {
        let w = &self.s.words;
        match pending {
            // (Confirming is handled by the caller: the form ends.)
            Pending::Cancel => {
                if [&w.resume, &w.no, &w.back].iter().any(|l| Words::is(l, k)) {
                    self.prompt();
                } else {
                    self.ask_cancel();
                }
                true
            }
            Pending::Reserved { text, busy } => match k {
                "1" => {
                    self.accept(&text);
                    true
                }
                "2" if busy => {
                    self.prompt();
                    true
                }
                "2" => {
                    self.st.paused = true;
                    let vars = context! {
                        title => &self.flow.title, answered => self.st.answers.len(),
                    };
                    self.msg("paused_for_command", vars);
                    self.run = Some(text);
                    true
                }
                _ => false,
            },
            Pending::Members(userids) => {
                let picked = k
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| userids.get(n.checked_sub(1)?))
                    .and_then(|id| self.ctx.directory.person(id));
                match (picked, self.current_field()) {
                    (Some(p), Some(fd)) if fd.kind == FieldKind::Member => {
                        let a = Answer::Member {
                            userid: p.userid.clone(),
                            name: p.name.clone(),
                        };
                        self.st.answers.set(&fd.id, a);
                        self.advance();
                        true
                    }
                    _ => false,
                }
            }
        }
    }

    /// The title of another flow this (normalised) text starts.
    fn other_flow(&self, k: &str) -> Option<&str> {
        let id = self.s.keywords.get(k).filter(|id| **id != self.flow.id)?;
        self.s.flows.get(id).map(|f| f.title.as_str())
    }

    /// `确认`, `继续`, `重新开始` typed at a question: not an answer. While revising one item
    /// from the summary, `确认` keeps its value and shows the summary again.
    pub(super) fn control_word(&mut self, text: &str, confirm: bool) {
        if confirm && self.st.revising {
            return self.advance();
        }
        let label = self.current_field().map(|f| f.label.as_str());
        let vars = context! { word => text, label => label, confirm => confirm };
        self.msg("control_word", vars);
        self.prompt();
    }

    /// A reply to the current question. At a free-text question, a command or another flow's
    /// keyword is asked about first.
    pub(super) fn answer(&mut self, text: &str) {
        let Some(fd) = self.current_field() else {
            return self.prompt();
        };
        let free_text =
            matches!(self.st.phase, Phase::Other(_)) || matches!(fd.kind, FieldKind::Text { .. });
        let flow = self.other_flow(&key(text)).map(str::to_owned);
        let command = self.ctx.command.as_ref();
        if free_text && (flow.is_some() || command.is_some()) {
            let action = command.map(|c| self.s.render(&tpl::command(&c.kind), &context! {}));
            let busy = flow.is_some() || command.is_some_and(|c| c.opens_form);
            let vars = context! {
                text => text, label => &fd.label, flow => flow, action => action,
                busy => busy, title => &self.flow.title,
            };
            self.msg("reserved_ask", vars);
            let text = text.to_owned();
            self.st.pending = Some(Pending::Reserved { text, busy });
            return;
        }
        self.accept(text);
    }

    /// Saves a reply as the current question's answer, or says why it cannot be one.
    fn accept(&mut self, text: &str) {
        let Some(fd) = self.current_field() else {
            return self.prompt();
        };
        if let Phase::Other(_) = self.st.phase {
            let FieldKind::Choice { other: Some(o), .. } = &fd.kind else {
                return self.prompt();
            };
            if text.is_empty() || text.chars().count() > 100 {
                return self.invalid("other");
            }
            let a = Answer::Choice {
                value: o.clone(),
                other: Some(text.to_owned()),
            };
            self.st.answers.set(&fd.id, a);
            return self.advance();
        }
        match parse(&fd.kind, text, &self.s.words, self.ctx, self.now.today) {
            Some(Parsed::Answer(a)) => {
                self.st.answers.set(&fd.id, a);
                self.advance();
            }
            Some(Parsed::AskOther) => {
                self.st.phase = Phase::Other(fd.id.clone());
                self.st.strikes = 0;
                self.prompt();
            }
            Some(Parsed::Ambiguous(people)) => {
                let snap = &self.ctx.directory;
                let candidates: Vec<_> = people
                    .iter()
                    .map(|p| {
                        let units: Vec<&str> = p
                            .units
                            .iter()
                            .filter_map(|u| snap.unit(u))
                            .map(|u| u.name.as_str())
                            .collect();
                        context! { userid => &p.userid, name => &p.name, units => units.join("、") }
                    })
                    .collect();
                self.msg(
                    "member_ambiguous",
                    context! { name => text, candidates => candidates },
                );
                let userids = people.into_iter().map(|p| p.userid).collect();
                self.st.pending = Some(Pending::Members(userids));
            }
            None => self.invalid(fd.kind.name()),
        }
    }

    /// An image or file sent: the answer of a question that takes files (`files = true`), else
    /// the bot says it is not the answer (`file_not_asked`) and asks again. The file is kept
    /// either way (the worker kept it before the form saw it).
    pub(super) fn file(&mut self, file: &EvidenceRef) {
        self.st.pending = None;
        let field = self
            .current_field()
            .filter(|_| matches!(self.st.phase, Phase::Field(_)));
        match field {
            Some(fd) if fd.files => {
                self.st.answers.set(&fd.id, Answer::File(file.clone()));
                self.advance();
            }
            fd => {
                if self.s.has(&tpl::msg("file_not_asked")) {
                    let vars = context! { name => &file.name, label => fd.map(|f| &f.label) };
                    self.msg("file_not_asked", vars);
                }
                self.prompt();
            }
        }
    }

    /// An invalid answer: explain; the 2nd time add an example; the 3rd time offer the ways out.
    fn invalid(&mut self, kind: &str) {
        let Some(fd) = self.current_field() else {
            return self.prompt();
        };
        self.st.strikes = self.st.strikes.saturating_add(1);
        let (min, max) = match fd.kind {
            FieldKind::Text { min_len, max_len } => (i64::from(min_len), i64::from(max_len)),
            FieldKind::Integer { min, max } => (min, max),
            _ => (0, 0),
        };
        let vars = context! { label => &fd.label, example => &fd.example, min => min, max => max };
        let own = tpl::field(&self.flow.id, &fd.id, "invalid");
        let name = if fd.custom_invalid && kind != "other" {
            own
        } else {
            tpl::invalid(kind)
        };
        self.out.push(self.s.render(&name, &vars));
        if self.st.strikes >= 2 {
            self.msg("retry_example", context! { example => &fd.example });
        }
        if self.st.strikes >= 3 {
            self.msg("retry_offer", context! { optional => fd.optional });
        }
        self.prompt();
    }
}
