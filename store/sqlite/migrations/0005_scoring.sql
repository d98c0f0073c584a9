-- Scoring models (one row per version), the current score of each lead under
-- each model, the score ledger, the queue of leads to rescore and the lead
-- event outbox.
CREATE TABLE scoring_models (
    id                        INTEGER PRIMARY KEY,
    key                       TEXT    NOT NULL,
    version                   INTEGER NOT NULL,
    name                      TEXT    NOT NULL,
    description               TEXT    NOT NULL DEFAULT '',
    status                    TEXT    NOT NULL,
    target                    TEXT    NOT NULL,
    applies_to                TEXT    NOT NULL DEFAULT '',
    rules                     TEXT    NOT NULL DEFAULT '[]',
    grades                    TEXT    NOT NULL DEFAULT '[]',
    sales_ready_threshold     INTEGER,
    telesales_ready_threshold INTEGER,
    previous_version_id       INTEGER REFERENCES scoring_models (id) ON DELETE SET NULL,
    rescore_state             TEXT    NOT NULL DEFAULT 'idle',
    rescore_total             INTEGER NOT NULL DEFAULT 0,
    rescore_done              INTEGER NOT NULL DEFAULT 0,
    rescore_scored            INTEGER NOT NULL DEFAULT 0,
    rescore_unscorable        INTEGER NOT NULL DEFAULT 0,
    rescore_started_at        INTEGER,
    rescore_finished_at       INTEGER,
    published_at              INTEGER,
    stopped_at                INTEGER,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    -- The rescore job: the last lead id done and the lease of the node running it.
    rescore_cursor            INTEGER NOT NULL DEFAULT 0,
    rescore_lease             INTEGER NOT NULL DEFAULT 0,
    UNIQUE (key, version)
);
CREATE UNIQUE INDEX scoring_models_one_live ON scoring_models (key) WHERE status = 'live';
CREATE UNIQUE INDEX scoring_models_one_draft ON scoring_models (key) WHERE status = 'draft';

CREATE TABLE lead_scores (
    lead_id     INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    model_id    INTEGER NOT NULL REFERENCES scoring_models (id) ON DELETE CASCADE,
    score       INTEGER NOT NULL,
    grade       TEXT    NOT NULL DEFAULT '',
    rules       TEXT    NOT NULL DEFAULT '[]',
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (lead_id, model_id)
) WITHOUT ROWID;
CREATE INDEX lead_scores_model ON lead_scores (model_id, score);

CREATE TABLE score_ledger (
    id        INTEGER PRIMARY KEY,
    lead_id   INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    model_id  INTEGER NOT NULL,
    old_score INTEGER,
    new_score INTEGER,
    old_grade TEXT    NOT NULL DEFAULT '',
    new_grade TEXT    NOT NULL DEFAULT '',
    cause     TEXT    NOT NULL,
    at        INTEGER NOT NULL
);
CREATE INDEX score_ledger_lead ON score_ledger (lead_id, id);

-- Leads whose scores must be recomputed at due_at. seq changes on every
-- enqueue, so a worker only removes the entry it computed.
CREATE TABLE score_queue (
    lead_id       INTEGER PRIMARY KEY,
    due_at        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    cause         TEXT    NOT NULL,
    enqueued_at   INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX score_queue_due ON score_queue (due_at);
-- Account-based leads, rescored when any contact of their account acts.
CREATE INDEX leads_account_based ON leads (account_id) WHERE contact_id IS NULL;

CREATE TABLE lead_events (
    id      INTEGER PRIMARY KEY,
    type    TEXT    NOT NULL,
    lead_id INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    payload TEXT    NOT NULL DEFAULT '{}',
    at      INTEGER NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events (lead_id);
-- Sales-ready and telesales-ready fire once per lead, ever.
CREATE UNIQUE INDEX lead_events_once ON lead_events (lead_id, type) WHERE type IN ('lead.sales_ready', 'lead.telesales_ready');

-- Scoring reads a contact's interactions of one type in a window; with the
-- type in the index the read covers exactly those rows, and most of them
-- come from the index alone.
DROP INDEX interactions_contact;
CREATE INDEX interactions_contact_type ON interactions (contact_id, type, occurred_at);
