//! Every Redis key flowbot uses, built in one place under the configured prefix.
//!
//! Layout (`P` = the prefix; `{...}` is the Redis Cluster hash tag):
//!
//! | Key | Type | Content |
//! |---|---|---|
//! | `P:{pipe}:dd:<dedupe key>` | string | `<event id>:<expires_at_ms>`, PX ttl |
//! | `P:{pipe}:seq:event` / `P:{pipe}:seq:outbox` | string | INCR id counters |
//! | `P:{pipe}:ev:<id>` | hash | `c` conversation, `p` payload, `a` attempts |
//! | `P:{pipe}:conv:<conversation>` | list | queued event ids, FIFO (head = oldest) |
//! | `P:{pipe}:ready` | zset | conversations with queued events and no lease, score = head id |
//! | `P:{pipe}:probe` | string | the readiness write (`ping_write`): the time it was written, PX [`super::PROBE_TTL`] |
//! | `P:{pipe}:leased` | zset | leased conversations, score = lease expiry (ms) |
//! | `P:{pipe}:count:events` | string | events queued or being handled |
//! | `P:{pipe}:done:<id>` | string | completed-event marker, PX [`super::DONE_MARKER_TTL`] |
//! | `P:{pipe}:ob:due` / `P:{pipe}:ob:inflight` | zset | outbox ids (20-digit zero-padded, so ties sort in queueing order), score = due / lease expiry |
//! | `P:{pipe}:ob:item:<id>` | hash | `c` channel, `p` payload, `f` failures |
//! | `P:{pipe}:dead` | list | dead letters as JSON, newest first, capped |
//! | `P:{pipe}:st:<conversation>` | hash | conversation state: `v` version, `d` state; PEXPIRE [`super::CONVERSATION_STATE_TTL`], restarted by each write |
//! | `P:{pipe}:case:<number>` | string | the case body (JSON), no TTL |
//! | `P:{pipe}:case-v:<number>` | string | the case version (writes that set the body), no TTL; absent with a body = 1 (written before versions), absent without = 0 |
//! | `P:{pipe}:case-log:<number>` | list | the case history, append-only (RPUSH), no TTL |
//! | `P:{pipe}:case-ix:<index>` | zset | case numbers, score = position from `seq:case-ix` (order added), no TTL |
//! | `P:{pipe}:seq:case-ix` | string | INCR counter of index positions |
//! | `P:{pipe}:seq:num:<series>` | string | INCR counter of [`super::Store::next_number`], no TTL |
//! | `P:{pipe}:tm:due` | zset | pending timer ids, score = due (ms); equal dues sort by id |
//! | `P:{pipe}:tm:data` | hash | timer id → `<conversation length>:<conversation><payload>`, no TTL |
//! | `P:{pipe}:card:<task id>` | string | `<expires_at_ms>:<response code>` of a sent card, PX until it expires |
//! | `P:{tok:<app>}` | string | `<expires_at_ms>:<token>` |
//! | `P:{lock:<name>}` | string | `<expires_at_ms>:<random token>` |
//! | `P:{rl:<key>}` | zset | sliding-window log, score = call time |
//!
//! Keys are passed to scripts in `KEYS[]`. The one exception: keys named by ids that only the
//! script knows (an event id from INCR, the conversation popped from `ready`, outbox ids from
//! INCR or from the due set). For those the script receives a key *prefix* such as
//! `P:{pipe}:ev:` in `ARGV` and appends the id. Every such prefix contains the `{pipe}` tag, so
//! the built key hashes to the same slot as the script's `KEYS[]` and the scripts stay
//! cluster-safe. Only the first `{...}` of a key counts, so user text after the tag (a
//! conversation id containing braces) cannot move a key to another slot; the prefix itself
//! must not contain braces ([`Keys::new`] rejects it).
//!
//! Business records (cases, their history and indexes, number series) live under `{pipe}` too, so
//! `complete_event` writes them in the same script as the event's completion. Their keys depend
//! on the commit's content (case numbers, index names), so that script receives the bare
//! `P:{pipe}:` prefix ([`Keys::pipe_prefix`]) and builds `case:`, `case-v:`, `case-log:` and
//! `case-ix:` keys itself; the layout above is the contract between it and [`Keys`].
//!
//! Timers live under `{pipe}` as well, so firing one queues its event in the same script, and a
//! commit schedules and cancels timers atomically with the event. A pending timer costs one ZSET
//! member and one hash field (no key of its own): the compact layout for millions of timers.

/// The key builder for one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
    pipe: String,
}

/// Width of zero-padded outbox ids (u64::MAX has 20 digits).
pub const OUTBOX_ID_WIDTH: usize = 20;

impl Keys {
    /// Keys under `prefix`; `None` if the prefix contains a brace (it would break hash tags).
    pub fn new(prefix: &str) -> Option<Self> {
        if prefix.contains(['{', '}']) {
            return None;
        }
        Some(Self {
            prefix: prefix.to_owned(),
            pipe: format!("{prefix}:{{pipe}}:"),
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A `SCAN MATCH` pattern for every key of this prefix (glob characters escaped).
    pub fn scan_pattern(&self) -> String {
        let mut p = String::with_capacity(self.prefix.len() + 2);
        for ch in self.prefix.chars() {
            if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
                p.push('\\');
            }
            p.push(ch);
        }
        p.push_str(":*");
        p
    }

    fn pipe(&self, rest: &str) -> String {
        format!("{}{rest}", self.pipe)
    }

    pub fn dedupe(&self, dedupe_key: &str) -> String {
        self.pipe(&format!("dd:{dedupe_key}"))
    }
    pub fn event_seq(&self) -> String {
        self.pipe("seq:event")
    }
    pub fn outbox_seq(&self) -> String {
        self.pipe("seq:outbox")
    }
    /// Prefix of event hashes (`…ev:<id>`), for scripts.
    pub fn event_prefix(&self) -> String {
        self.pipe("ev:")
    }
    pub fn event(&self, id: u64) -> String {
        format!("{}{id}", self.event_prefix())
    }
    /// Prefix of per-conversation lists (`…conv:<conversation>`), for scripts.
    pub fn conversation_prefix(&self) -> String {
        self.pipe("conv:")
    }
    pub fn conversation(&self, conversation: &str) -> String {
        format!("{}{conversation}", self.conversation_prefix())
    }
    pub fn ready(&self) -> String {
        self.pipe("ready")
    }
    pub fn probe(&self) -> String {
        self.pipe("probe")
    }
    pub fn leased(&self) -> String {
        self.pipe("leased")
    }
    pub fn event_count(&self) -> String {
        self.pipe("count:events")
    }
    pub fn done(&self, id: u64) -> String {
        self.pipe(&format!("done:{id}"))
    }
    pub fn outbox_due(&self) -> String {
        self.pipe("ob:due")
    }
    pub fn outbox_inflight(&self) -> String {
        self.pipe("ob:inflight")
    }
    /// Prefix of outbox item hashes (`…ob:item:<padded id>`), for scripts.
    pub fn outbox_item_prefix(&self) -> String {
        self.pipe("ob:item:")
    }
    pub fn outbox_item(&self, id: u64) -> String {
        format!("{}{}", self.outbox_item_prefix(), outbox_member(id))
    }
    pub fn dead_letters(&self) -> String {
        self.pipe("dead")
    }
    /// Events set aside, by id (a hash of JSON records).
    pub fn set_aside(&self) -> String {
        self.pipe("aside")
    }
    /// The bare `P:{pipe}:` prefix, for scripts that build case keys.
    pub fn pipe_prefix(&self) -> &str {
        &self.pipe
    }
    /// Prefix of conversation state hashes (`…st:<conversation>`), for scripts.
    pub fn state_prefix(&self) -> String {
        self.pipe("st:")
    }
    pub fn state(&self, conversation: &str) -> String {
        format!("{}{conversation}", self.state_prefix())
    }
    pub fn case(&self, number: &str) -> String {
        self.pipe(&format!("case:{number}"))
    }
    pub fn case_version(&self, number: &str) -> String {
        self.pipe(&format!("case-v:{number}"))
    }
    pub fn case_history(&self, number: &str) -> String {
        self.pipe(&format!("case-log:{number}"))
    }
    pub fn case_index(&self, index: &str) -> String {
        self.pipe(&format!("case-ix:{index}"))
    }
    pub fn case_index_seq(&self) -> String {
        self.pipe("seq:case-ix")
    }
    pub fn timer_due(&self) -> String {
        self.pipe("tm:due")
    }
    pub fn timer_data(&self) -> String {
        self.pipe("tm:data")
    }
    pub fn number_seq(&self, series: &str) -> String {
        self.pipe(&format!("seq:num:{series}"))
    }

    pub fn card_code(&self, task_id: &str) -> String {
        self.pipe(&format!("card:{task_id}"))
    }
    pub fn token(&self, app: &str) -> String {
        format!("{}:{{tok:{app}}}", self.prefix)
    }
    pub fn lock(&self, name: &str) -> String {
        format!("{}:{{lock:{name}}}", self.prefix)
    }
    pub fn rate_limit(&self, key: &str) -> String {
        format!("{}:{{rl:{key}}}", self.prefix)
    }
}

/// The ZSET member of an outbox id: zero-padded, so equal scores sort in id (queueing) order.
pub fn outbox_member(id: u64) -> String {
    format!("{id:0width$}", width = OUTBOX_ID_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_keys_share_one_tag() {
        let k = Keys::new("fb").unwrap();
        for key in [
            k.dedupe("x}{y"),
            k.event(7),
            k.conversation("{u}"),
            k.ready(),
            k.done(1),
            k.state("u"),
            k.case("BA2026-1"),
            k.case_version("BA2026-1"),
            k.case_history("BA2026-1"),
            k.case_index("pending:lisi"),
            k.case_index_seq(),
            k.number_seq("BA2026"),
            k.timer_due(),
            k.timer_data(),
        ] {
            assert!(key.starts_with("fb:{pipe}:"), "{key}");
        }
        assert_eq!(k.outbox_item(42), "fb:{pipe}:ob:item:00000000000000000042");
        assert_eq!(k.pipe_prefix(), "fb:{pipe}:");
        assert_eq!(k.case_history("7"), "fb:{pipe}:case-log:7");
        assert_eq!(k.case_version("7"), "fb:{pipe}:case-v:7");
        assert_eq!(k.token("app"), "fb:{tok:app}");
        assert_eq!(k.lock("refresh"), "fb:{lock:refresh}");
        assert_eq!(k.rate_limit("robot:1"), "fb:{rl:robot:1}");
        assert!(Keys::new("a{b").is_none());
        assert_eq!(Keys::new("a*b").unwrap().scan_pattern(), "a\\*b:*");
    }
}
