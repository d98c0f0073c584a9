-- The lead business process: process definitions, the qualification fields
-- of telesales, the lead timeline, users and task queues, the general event
-- outbox (replacing lead_events) and webhooks with their deliveries. The
-- default process is inserted by the Go seed of this migration.
ALTER TABLE leads ADD COLUMN purchase_timeframe TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN purchase_process TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN budget_amount REAL;
ALTER TABLE leads ADD COLUMN need TEXT NOT NULL DEFAULT '';
CREATE INDEX leads_process_stage ON leads (process_id, stage);

CREATE TABLE processes (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    is_default  INTEGER NOT NULL DEFAULT 0,
    stages      TEXT    NOT NULL DEFAULT '[]',
    transitions TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX processes_one_default ON processes (is_default) WHERE is_default = 1;

CREATE TABLE lead_timeline (
    id         INTEGER PRIMARY KEY,
    lead_id    INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    process_id INTEGER,
    from_value TEXT    NOT NULL DEFAULT '',
    to_value   TEXT    NOT NULL DEFAULT '',
    actor      TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX lead_timeline_lead ON lead_timeline (lead_id, id);

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    email      TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL,
    queues     TEXT    NOT NULL DEFAULT '[]',
    active     INTEGER NOT NULL DEFAULT 1,
    locale     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Task queues: how new tasks are assigned and when they are due; the last
-- assignee drives round-robin.
CREATE TABLE queues (
    key              TEXT    PRIMARY KEY,
    name             TEXT    NOT NULL,
    assignment       TEXT    NOT NULL DEFAULT 'manual',
    due_hours        INTEGER NOT NULL DEFAULT 24,
    last_assignee_id INTEGER,
    updated_at       INTEGER NOT NULL
);
INSERT INTO queues (key, name, assignment, due_hours, updated_at) VALUES
    ('telesales', 'Telesales', 'round_robin', 24, 0),
    ('sales', 'Sales acceptance', 'manual', 48, 0);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    type             TEXT    NOT NULL,
    lead_id          INTEGER,
    contact_id       INTEGER,
    payload          TEXT    NOT NULL DEFAULT '{}',
    actor            TEXT    NOT NULL DEFAULT '',
    at               INTEGER NOT NULL,
    workflow_pending INTEGER NOT NULL DEFAULT 0,
    webhooks_pending INTEGER NOT NULL DEFAULT 1
);
INSERT INTO outbox (id, type, lead_id, payload, actor, at, workflow_pending, webhooks_pending)
    SELECT id, type, lead_id, payload, 'scoring', at, 0, 0 FROM lead_events;
DROP TABLE lead_events;
CREATE INDEX outbox_lead ON outbox (lead_id, id);
CREATE INDEX outbox_workflow ON outbox (id) WHERE workflow_pending = 1;
CREATE INDEX outbox_webhooks ON outbox (id) WHERE webhooks_pending = 1;
-- Sales-ready and telesales-ready fire once per lead, ever.
CREATE UNIQUE INDEX outbox_once ON outbox (lead_id, type) WHERE type IN ('lead.sales_ready', 'lead.telesales_ready');

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    events      TEXT    NOT NULL DEFAULT '[]',
    active      INTEGER NOT NULL DEFAULT 1,
    secret      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    delivered_at     INTEGER,
    claimed_until    INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
