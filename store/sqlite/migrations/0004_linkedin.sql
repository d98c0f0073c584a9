-- LinkedIn Lead Gen Forms connector: saved connections (tokens sealed by the
-- application), the responses each connection processed, and the sync log.
-- Times are Unix microseconds (UTC); JSON columns hold objects or arrays.
CREATE TABLE linkedin_connections (
    id                        INTEGER PRIMARY KEY,
    name                      TEXT    NOT NULL,
    sponsored_account         TEXT    NOT NULL,
    api_base_url              TEXT    NOT NULL,
    api_version               TEXT    NOT NULL,
    token_url                 TEXT    NOT NULL,
    client_id                 TEXT    NOT NULL DEFAULT '',
    client_secret             TEXT    NOT NULL DEFAULT '',
    access_token              TEXT    NOT NULL DEFAULT '',
    refresh_token             TEXT    NOT NULL DEFAULT '',
    token_expires_at          INTEGER,
    mapping                   TEXT    NOT NULL DEFAULT '{}',
    commercial_email_consents TEXT    NOT NULL DEFAULT '[]',
    lead_topic                TEXT    NOT NULL DEFAULT '',
    contact_strategy_id       INTEGER,
    lead_strategy_id          INTEGER,
    interval_seconds          INTEGER NOT NULL,
    enabled                   INTEGER NOT NULL DEFAULT 1,
    include_test_leads        INTEGER NOT NULL DEFAULT 0,
    cursor_at                 INTEGER,
    last_sync_at              INTEGER,
    last_success_at           INTEGER,
    last_error                TEXT    NOT NULL DEFAULT '',
    last_stats                TEXT    NOT NULL DEFAULT '{}',
    lease_owner               TEXT    NOT NULL DEFAULT '',
    lease_until               INTEGER,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
);

-- One row per response a connection processed: captured ones are skipped by
-- later syncs; failed ones are retried when a sync reads them again.
CREATE TABLE linkedin_submissions (
    connection_id  INTEGER NOT NULL REFERENCES linkedin_connections (id) ON DELETE CASCADE,
    submission_id  TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    submitted_at   INTEGER NOT NULL,
    contact_id     INTEGER,
    lead_id        INTEGER,
    interaction_id INTEGER,
    error          TEXT    NOT NULL DEFAULT '',
    processed_at   INTEGER NOT NULL,
    PRIMARY KEY (connection_id, submission_id)
);

CREATE TABLE linkedin_sync_runs (
    id               INTEGER PRIMARY KEY,
    connection_id    INTEGER NOT NULL REFERENCES linkedin_connections (id) ON DELETE CASCADE,
    trigger_kind     TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    fetched          INTEGER NOT NULL DEFAULT 0,
    contacts_created INTEGER NOT NULL DEFAULT 0,
    leads_created    INTEGER NOT NULL DEFAULT 0,
    matched          INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    errors           INTEGER NOT NULL DEFAULT 0,
    error            TEXT    NOT NULL DEFAULT '',
    failures         TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX linkedin_sync_runs_connection ON linkedin_sync_runs (connection_id, id);
