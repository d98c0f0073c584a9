-- Core records. Times are Unix microseconds (UTC); JSON columns hold objects.
CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    website    TEXT    NOT NULL DEFAULT '',
    domain     TEXT    NOT NULL DEFAULT '',
    industry   TEXT    NOT NULL DEFAULT '',
    employees  INTEGER,
    revenue    REAL,
    country    TEXT    NOT NULL DEFAULT '',
    owner_id   INTEGER,
    custom     TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX accounts_domain ON accounts (domain);
CREATE INDEX accounts_created ON accounts (created_at, id);
CREATE INDEX accounts_updated ON accounts (updated_at, id);

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    first_name TEXT    NOT NULL DEFAULT '',
    last_name  TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    phone      TEXT    NOT NULL DEFAULT '',
    job_title  TEXT    NOT NULL DEFAULT '',
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    owner_id   INTEGER,
    consent    TEXT    NOT NULL DEFAULT '{}',
    origin     TEXT    NOT NULL,
    custom     TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_email ON contacts (email);
CREATE INDEX contacts_account ON contacts (account_id);
CREATE INDEX contacts_created ON contacts (created_at, id);
CREATE INDEX contacts_updated ON contacts (updated_at, id);

CREATE TABLE leads (
    id                 INTEGER PRIMARY KEY,
    topic              TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    contact_id         INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
    account_id         INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    status             TEXT    NOT NULL,
    status_reason      TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    form_id            INTEGER,
    event_id           INTEGER,
    journey_id         INTEGER,
    campaign           TEXT    NOT NULL DEFAULT '',
    process_id         INTEGER,
    stage              TEXT    NOT NULL,
    telesales_ready    INTEGER NOT NULL DEFAULT 0,
    telesales_accepted INTEGER NOT NULL DEFAULT 0,
    sales_ready        INTEGER NOT NULL DEFAULT 0,
    sales_accepted     INTEGER NOT NULL DEFAULT 0,
    owner_id           INTEGER,
    custom             TEXT    NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX leads_contact ON leads (contact_id);
CREATE INDEX leads_account ON leads (account_id);
CREATE INDEX leads_status ON leads (status, created_at, id);
CREATE INDEX leads_stage ON leads (stage, created_at, id);
CREATE INDEX leads_created ON leads (created_at, id);
CREATE INDEX leads_updated ON leads (updated_at, id);

CREATE TABLE opportunities (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    lead_id             INTEGER REFERENCES leads (id) ON DELETE SET NULL,
    contact_id          INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
    account_id          INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    status              TEXT    NOT NULL,
    estimated_value     REAL,
    currency            TEXT    NOT NULL DEFAULT '',
    expected_close_date TEXT    NOT NULL DEFAULT '',
    closed_at           INTEGER,
    owner_id            INTEGER,
    custom              TEXT    NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX opportunities_lead ON opportunities (lead_id);
CREATE INDEX opportunities_created ON opportunities (created_at, id);
CREATE INDEX opportunities_updated ON opportunities (updated_at, id);

CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    type        TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    lead_id     INTEGER REFERENCES leads (id) ON DELETE SET NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    properties  TEXT    NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX interactions_contact ON interactions (contact_id, occurred_at);
CREATE INDEX interactions_lead ON interactions (lead_id);
CREATE INDEX interactions_occurred ON interactions (occurred_at, id);

CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    kind         TEXT    NOT NULL,
    queue        TEXT    NOT NULL DEFAULT '',
    assignee_id  INTEGER,
    lead_id      INTEGER REFERENCES leads (id) ON DELETE CASCADE,
    contact_id   INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
    due_at       INTEGER,
    status       TEXT    NOT NULL,
    completed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX tasks_queue ON tasks (queue, status);
CREATE INDEX tasks_lead ON tasks (lead_id);
CREATE INDEX tasks_contact ON tasks (contact_id);
CREATE INDEX tasks_created ON tasks (created_at, id);

CREATE TABLE field_defs (
    id         INTEGER PRIMARY KEY,
    entity     TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    choices    TEXT    NOT NULL DEFAULT '[]',
    required   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (entity, name)
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
