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
    attempts     INTEGER NOT NULL DEFAULT 0
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
    lease_until INTEGER
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

CREATE TABLE IF NOT EXISTS tokens (
    app        TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
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
