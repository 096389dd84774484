-- flowbot embedded store schema (SQLite). Times are milliseconds since the Unix epoch, as
-- passed by the caller (`now_ms`), never read from SQLite's clock.

-- Dedupe keys of inbound deliveries; a row is live while expires_at > now.
CREATE TABLE IF NOT EXISTS dedupe (
    key        TEXT PRIMARY KEY,
    event_id   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedupe_expires ON dedupe (expires_at);

-- Queued events; per conversation, ascending id is arrival order.
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- When it was queued (0: queued by a flowbot that did not record it).
    enqueued_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_conversation ON events (conversation, id);

-- A lease on a conversation while its head event is being handled.
CREATE TABLE IF NOT EXISTS leases (
    conversation TEXT PRIMARY KEY,
    event_id     INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS leases_until ON leases (lease_until);

-- Completed event ids, so a stale worker's second completion is a no-op.
CREATE TABLE IF NOT EXISTS done (
    event_id   INTEGER PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS done_expires ON done (expires_at);

-- Outbox items: waiting (lease_until NULL, due at due_at) or in flight (leased).
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    failures    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    lease_until INTEGER,
    -- when it was last claimed, when its first attempt failed, and since when an attempt's
    -- outcome is unknown (sent without an answer, or leased by a sender that died)
    claimed_at    INTEGER,
    first_failed  INTEGER,
    unknown_since INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at, id) WHERE lease_until IS NULL;
CREATE INDEX IF NOT EXISTS outbox_lease ON outbox (lease_until) WHERE lease_until IS NOT NULL;

-- Items that will not be retried; newest = highest seq.
CREATE TABLE IF NOT EXISTS dead_letters (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           INTEGER NOT NULL,
    channel      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    failed_at    INTEGER NOT NULL
);

-- The readiness probe (ping_write): one row, overwritten by each check.
CREATE TABLE IF NOT EXISTS readiness (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS tokens (
    app        TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS card_codes (
    task_id    TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS locks (
    name       TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Sliding-window log of allowed calls per rate-limit key.
CREATE TABLE IF NOT EXISTS rate_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_log_key ON rate_log (key, at);

-- Conversation state with its version; live while expires_at > now (a sliding TTL, restarted by
-- each write). No row = version 0.
CREATE TABLE IF NOT EXISTS conversation_state (
    conversation TEXT PRIMARY KEY,
    version      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversation_state_expires ON conversation_state (expires_at);

-- Case bodies (business records: never expire), once one is written. `version` counts the writes
-- that set the body (1 after the first); no row = version 0. Files created before versions existed
-- get the column at open (mod.rs), existing rows at version 1.
CREATE TABLE IF NOT EXISTS cases (
    number  TEXT PRIMARY KEY,
    body    TEXT NOT NULL,
    version INTEGER NOT NULL
) WITHOUT ROWID;

-- Append-only case history; ascending seq is the order of appending.
CREATE TABLE IF NOT EXISTS case_history (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL,
    entry  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_history_number ON case_history (number, seq);

-- Index memberships of cases; ascending seq is the order they were added.
CREATE TABLE IF NOT EXISTS case_index (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    idx    TEXT NOT NULL,
    number TEXT NOT NULL,
    UNIQUE (idx, number)
);
CREATE INDEX IF NOT EXISTS case_index_order ON case_index (idx, seq);

-- Number series: the last number handed out per series.
CREATE TABLE IF NOT EXISTS number_series (
    series TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
) WITHOUT ROWID;

-- Pending durable timers; fired in (due_at, id) order, the order of the Redis ZSET.
CREATE TABLE IF NOT EXISTS timers (
    id           TEXT PRIMARY KEY,
    due_at       INTEGER NOT NULL,
    conversation TEXT NOT NULL,
    payload      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, id);

-- Events set aside after failing on their own on every attempt, until an operator re-runs them.
CREATE TABLE IF NOT EXISTS set_aside (
    event_id     INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL,
    payload      TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    at_ms        INTEGER NOT NULL
);
