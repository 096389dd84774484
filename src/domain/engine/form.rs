//! Slot filling: starting a flow, the controls (帮助/取消/返回/修改/跳过), idle resume and the
//! pause for a command, the summary and the confirmation. Answers, their re-prompt ladder and
//! the questions asked about a reply live in [`super::answer`]; what is *shown* (prompts,
//! summaries, visibility of conditional fields) in [`super::view`].

use minijinja::context;

use super::state::{Answer, Answers, ConversationState, FormState, Pending, Phase};
use super::view::Form;
use super::{Context, Effect, EngineInput, Now, StepOutcome, say};
use crate::base::normalize::{key, normalize};
use crate::base::scripts::{FieldKind, FlowDef, Scripts, Words, tpl};

/// A form with more answers than this asks before `取消` drops them.
const CONFIRM_CANCEL_AFTER: usize = 3;

pub(super) fn step(
    scripts: &Scripts,
    state: &ConversationState,
    input: &EngineInput,
    ctx: &Context,
    now: Now,
) -> StepOutcome {
    let Some(form) = &state.form else {
        return idle(scripts, input, ctx, now);
    };
    let Some(flow) = scripts.flows.get(&form.flow) else {
        // The flow left the scripts: say the form ended instead of dropping it silently.
        let text = scripts.render(&tpl::msg("cancelled"), &context! { title => &form.flow });
        return reply(ConversationState::default(), text);
    };
    Form::new(scripts, flow, ctx, now, form.clone()).handle(input)
}

fn reply(state: ConversationState, text: String) -> StepOutcome {
    StepOutcome::Next {
        state,
        effects: vec![say(text)],
    }
}

/// Outside a flow: keywords and menu keys start flows, anything else gets the help text.
fn idle(scripts: &Scripts, input: &EngineInput, ctx: &Context, now: Now) -> StepOutcome {
    let flow = match input {
        EngineInput::Text(t) => scripts.keywords.get(&key(t)),
        EngineInput::MenuClick(k) => scripts.menu_keys.get(k),
        EngineInput::File(_) => None,
    };
    match flow.and_then(|id| scripts.flows.get(id)) {
        Some(flow) => start(scripts, flow, ctx, now),
        None => reply(ConversationState::default(), scripts.help_text.clone()),
    }
}

fn start(scripts: &Scripts, flow: &FlowDef, ctx: &Context, now: Now) -> StepOutcome {
    let vars = context! { title => &flow.title, user => &ctx.user.name };
    if flow.requires_unit && ctx.units.is_empty() {
        let text = scripts.render(&tpl::flow(&flow.id, "no_unit"), &vars);
        return reply(ConversationState::default(), text);
    }
    let needs_account = flow
        .fields
        .iter()
        .any(|f| f.kind == FieldKind::Account && !f.optional && !f.conditional);
    if needs_account && ctx.accounts.is_empty() {
        let text = scripts.render(&tpl::msg("no_accounts"), &vars);
        return reply(ConversationState::default(), text);
    }
    let st = FormState {
        flow: flow.id.clone(),
        version: scripts.version.clone(),
        phase: Phase::Confirm,
        answers: Answers::default(),
        strikes: 0,
        paused: false,
        pending: None,
        revising: false,
        last_active_ms: now.ms,
    };
    let mut f = Form::new(scripts, flow, ctx, now, st);
    f.out
        .push(scripts.render(&tpl::flow(&flow.id, "start"), &vars));
    f.advance();
    f.finish()
}

impl Form<'_> {
    fn handle(mut self, input: &EngineInput) -> StepOutcome {
        if self.st.paused {
            return self.paused(input);
        }
        let idle_for = self.now.ms - self.st.last_active_ms;
        if idle_for > self.s.idle_after_ms && !self.st.answers.is_empty() {
            // Ask before going on; 继续/重新开始/取消 typed right away are honoured at once.
            self.st.paused = true;
            return self.paused(input);
        }
        if self.st.version != self.s.version {
            self.migrate();
            return self.finish();
        }
        let text = match input {
            EngineInput::MenuClick(k) => {
                if self.s.menu_keys.get(k) != Some(&self.flow.id) {
                    self.msg("form_busy", context! { title => &self.flow.title });
                }
                self.prompt();
                return self.finish();
            }
            EngineInput::Text(t) => normalize(t),
            EngineInput::File(file) => {
                self.file(file);
                return self.finish();
            }
        };
        let k = key(&text);
        if let Some(p) = self.st.pending.take() {
            if p == Pending::Cancel && self.confirms_cancel(&k) {
                return self.cancel_now();
            }
            if self.settle(p, &k) {
                return self.finish();
            }
        }
        let w = &self.s.words;
        if Words::is(&w.cancel, &k) {
            return self.cancel();
        }
        if Words::is(&w.help, &k) {
            self.help();
        } else if Words::is(&w.back, &k) {
            self.back();
        } else if let Some(rest) = w.edit.iter().find_map(|e| k.strip_prefix(e.as_str())) {
            let rest = rest.to_owned();
            if !self.edit(&rest) {
                self.answer(&text);
            }
        } else if Words::is(&w.skip, &k) && self.st.phase != Phase::Confirm {
            self.skip();
        } else if self.st.phase == Phase::Confirm {
            if Words::is(&w.confirm, &k) {
                return self.submit();
            }
            self.prompt();
        } else if [&w.confirm, &w.resume, &w.restart]
            .iter()
            .any(|l| Words::is(l, &k))
        {
            self.control_word(&text, Words::is(&w.confirm, &k));
        } else {
            self.answer(&text);
        }
        self.finish()
    }

    /// Waiting for continue/restart after an idle time or a command; answers are kept until
    /// the user decides, and further commands run at once.
    fn paused(mut self, input: &EngineInput) -> StepOutcome {
        let k = match input {
            EngineInput::Text(t) => key(t),
            EngineInput::MenuClick(_) | EngineInput::File(_) => String::new(),
        };
        let w = &self.s.words;
        if Words::is(&w.cancel, &k) {
            return self.cancel_now();
        }
        let command = self.ctx.command.as_ref();
        if let (Some(c), EngineInput::Text(t)) = (command, input)
            && !c.opens_form
        {
            self.run = Some(normalize(t));
        } else if Words::is(&w.resume, &k) {
            self.st.paused = false;
            self.prompt();
        } else if Words::is(&w.restart, &k) {
            self.st.paused = false;
            self.st.answers = Answers::default();
            self.msg("restarted", context! { title => &self.flow.title });
            self.advance();
        } else {
            self.ask_resume();
        }
        self.finish()
    }

    fn ask_resume(&mut self) {
        let vars = context! { title => &self.flow.title, answered => self.st.answers.len() };
        self.msg("resume_ask", vars);
    }

    /// `取消`: a form with more than [`CONFIRM_CANCEL_AFTER`] answers asks first.
    fn cancel(mut self) -> StepOutcome {
        if self.st.answers.len() > CONFIRM_CANCEL_AFTER {
            self.ask_cancel();
            return self.finish();
        }
        self.cancel_now()
    }

    pub(super) fn ask_cancel(&mut self) {
        let vars = context! { title => &self.flow.title, answered => self.st.answers.len() };
        self.msg("cancel_ask", vars);
        self.st.pending = Some(Pending::Cancel);
    }

    pub(super) fn cancel_now(mut self) -> StepOutcome {
        self.msg("cancelled", context! { title => &self.flow.title });
        reply(ConversationState::default(), self.out.join("\n"))
    }

    fn help(&mut self) {
        match self.current_field() {
            Some(fd) => {
                let vars = context! {
                    label => &fd.label, hint => &fd.hint,
                    example => &fd.example, optional => fd.optional,
                };
                self.msg("field_help", vars);
            }
            None => self.prompt(),
        }
    }

    /// The previous question; while revising one item from the summary, the summary again.
    fn back(&mut self) {
        if self.st.revising {
            return self.advance();
        }
        if let Phase::Other(id) = &self.st.phase {
            self.st.phase = Phase::Field(id.clone());
            self.st.strikes = 0;
            return self.prompt();
        }
        let before = self.current_index().unwrap_or(self.flow.fields.len());
        let vis = self.visibility();
        match (0..before).rev().find(|i| vis[*i]) {
            Some(i) => {
                self.st.phase = Phase::Field(self.flow.fields[i].id.clone());
                self.st.strikes = 0;
            }
            None => self.msg("no_previous", context! {}),
        }
        self.prompt();
    }

    /// `修改 <字段名>`; false when no field matches and the reply may be a text answer.
    fn edit(&mut self, name: &str) -> bool {
        let fields = &self.flow.fields;
        let exact = fields
            .iter()
            .position(|f| key(&f.label) == name || f.id == name);
        let target = exact.or_else(|| {
            let mut hits = (0..fields.len())
                .filter(|i| !name.is_empty() && key(&fields[*i].label).contains(name));
            let first = hits.next();
            first.filter(|_| hits.next().is_none())
        });
        let Some(i) = target else {
            if matches!(
                self.current_field().map(|f| &f.kind),
                Some(FieldKind::Text { .. })
            ) {
                return false;
            }
            self.msg("unknown_field", context! { name => name });
            self.prompt();
            return true;
        };
        if !self.visibility()[i] {
            self.msg("field_hidden", context! { label => &fields[i].label });
        } else {
            self.st.revising |= self.st.phase == Phase::Confirm;
            self.st.phase = Phase::Field(fields[i].id.clone());
            self.st.strikes = 0;
        }
        self.prompt();
        true
    }

    fn skip(&mut self) {
        let Some(fd) = self.current_field() else {
            return self.prompt();
        };
        if !fd.optional {
            self.msg("cannot_skip", context! { label => &fd.label });
            return self.prompt();
        }
        self.msg("skipped", context! { label => &fd.label });
        self.st.answers.set(&fd.id, Answer::Skipped);
        self.advance();
    }

    fn submit(self) -> StepOutcome {
        let Some(number) = self.ctx.case_number.clone() else {
            return StepOutcome::NeedsCaseNumber {
                flow: self.flow.id.clone(),
                prefix: self.flow.case_prefix.clone(),
            };
        };
        let vis = self.visibility();
        let mut answers = Answers::default();
        for (fd, shown) in self.flow.fields.iter().zip(&vis) {
            match self.st.answers.get(&fd.id) {
                Some(Answer::Skipped) | None => {}
                Some(a) if *shown => answers.set(&fd.id, a.clone()),
                Some(_) => {}
            }
        }
        let unit = self
            .flow
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Unit)
            .find_map(|f| match answers.get(&f.id) {
                Some(Answer::Ref { id, .. }) => Some(id.clone()),
                _ => None,
            })
            .or_else(|| self.ctx.units.first().map(|u| u.id.clone()))
            .unwrap_or_default();
        let summary = self.summary();
        let vars =
            context! { case_number => &number, title => &self.flow.title, summary => &summary };
        let text = self.s.render(&tpl::flow(&self.flow.id, "submitted"), &vars);
        StepOutcome::Next {
            state: ConversationState::default(),
            effects: vec![
                Effect::SubmitCase {
                    flow: self.flow.id.clone(),
                    version: self.st.version.clone(),
                    case_number: number,
                    unit,
                    answers,
                    summary,
                },
                say(text),
            ],
        }
    }
}
