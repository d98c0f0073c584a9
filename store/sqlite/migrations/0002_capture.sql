-- Matching strategies, match keys, forms and their raw submissions, the
-- capture log (idempotency of external submissions) and events.
CREATE TABLE matching_strategies (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    fields              TEXT    NOT NULL DEFAULT '[]',
    update_when_matched INTEGER NOT NULL DEFAULT 1,
    create_when_none    INTEGER NOT NULL DEFAULT 1,
    ignore_empty_values INTEGER NOT NULL DEFAULT 1,
    phone_region        TEXT    NOT NULL DEFAULT '',
    is_default          INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
INSERT INTO matching_strategies (name, kind, fields, is_default, created_at, updated_at)
VALUES ('Contacts by email', 'contact', '["email"]', 1, 0, 0),
       ('Leads by email and form', 'lead', '["email","form_id"]', 1, 0, 0);

-- One key per strategy and record: the normalised values of the strategy's
-- fields, hashed. Records of kind contact or lead, as the strategy says.
CREATE TABLE match_keys (
    strategy_id INTEGER NOT NULL REFERENCES matching_strategies (id) ON DELETE CASCADE,
    record_id   INTEGER NOT NULL,
    key         TEXT    NOT NULL,
    PRIMARY KEY (strategy_id, record_id)
);
CREATE INDEX match_keys_lookup ON match_keys (strategy_id, key);

CREATE TABLE forms (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    fields              TEXT    NOT NULL DEFAULT '[]',
    consents            TEXT    NOT NULL DEFAULT '[]',
    mode                TEXT    NOT NULL,
    always_create_lead  INTEGER NOT NULL DEFAULT 0,
    contact_strategy_id INTEGER REFERENCES matching_strategies (id) ON DELETE SET NULL,
    lead_strategy_id    INTEGER REFERENCES matching_strategies (id) ON DELETE SET NULL,
    lead_topic          TEXT    NOT NULL DEFAULT '',
    campaign            TEXT    NOT NULL DEFAULT '',
    submit_label        TEXT    NOT NULL DEFAULT '',
    thank_you_message   TEXT    NOT NULL DEFAULT '',
    redirect_url        TEXT    NOT NULL DEFAULT '',
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE form_submissions (
    id           INTEGER PRIMARY KEY,
    form_id      INTEGER NOT NULL REFERENCES forms (id) ON DELETE CASCADE,
    key          TEXT    NOT NULL,
    submitted    TEXT    NOT NULL DEFAULT '{}',
    visitor_id   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    result       TEXT,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    UNIQUE (form_id, key)
);
CREATE INDEX form_submissions_status ON form_submissions (status, received_at);

CREATE TABLE capture_log (
    source      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    result      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (source, external_id)
);

CREATE TABLE events (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    location            TEXT    NOT NULL DEFAULT '',
    starts_at           INTEGER,
    ends_at             INTEGER,
    capacity            INTEGER NOT NULL DEFAULT 0,
    waitlist            INTEGER NOT NULL DEFAULT 0,
    registration_open   INTEGER NOT NULL DEFAULT 1,
    lead_topic          TEXT    NOT NULL DEFAULT '',
    campaign            TEXT    NOT NULL DEFAULT '',
    contact_strategy_id INTEGER REFERENCES matching_strategies (id) ON DELETE SET NULL,
    lead_strategy_id    INTEGER REFERENCES matching_strategies (id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE event_registrations (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    contact_id    INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    lead_id       INTEGER REFERENCES leads (id) ON DELETE SET NULL,
    status        TEXT    NOT NULL,
    registered_at INTEGER NOT NULL,
    checked_in_at INTEGER,
    UNIQUE (event_id, contact_id)
);
CREATE INDEX event_registrations_status ON event_registrations (event_id, status, registered_at);
CREATE INDEX leads_form ON leads (form_id);
CREATE INDEX leads_event ON leads (event_id);
