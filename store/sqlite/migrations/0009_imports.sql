-- Import jobs with their progress and outcome, the files uploaded with them
-- (in chunks, so that any node can resume a job), the error report, and
-- saved column mappings.
CREATE TABLE imports (
    id                    INTEGER PRIMARY KEY,
    status                TEXT    NOT NULL,
    entity                TEXT    NOT NULL,
    source                TEXT    NOT NULL,
    file_name             TEXT    NOT NULL DEFAULT '',
    path                  TEXT    NOT NULL DEFAULT '',
    size                  INTEGER NOT NULL DEFAULT 0,
    sha256                TEXT    NOT NULL DEFAULT '',
    options               TEXT NOT NULL DEFAULT '{}',
    format                TEXT    NOT NULL DEFAULT '',
    encoding              TEXT    NOT NULL DEFAULT '',
    delimiter             TEXT    NOT NULL DEFAULT '',
    column_map            TEXT NOT NULL DEFAULT '[]',
    rows_total            INTEGER NOT NULL DEFAULT 0,
    created_count         INTEGER NOT NULL DEFAULT 0,
    updated_count         INTEGER NOT NULL DEFAULT 0,
    skipped_count         INTEGER NOT NULL DEFAULT 0,
    failed_count          INTEGER NOT NULL DEFAULT 0,
    accounts_created      INTEGER NOT NULL DEFAULT 0,
    leads_without_contact INTEGER NOT NULL DEFAULT 0,
    row_position          INTEGER NOT NULL DEFAULT 0,
    bytes_done            INTEGER NOT NULL DEFAULT 0,
    warnings              TEXT NOT NULL DEFAULT '[]',
    error                 TEXT    NOT NULL DEFAULT '',
    cancel_requested      INTEGER NOT NULL DEFAULT 0,
    actor                 TEXT    NOT NULL DEFAULT '',
    lease_owner           TEXT    NOT NULL DEFAULT '',
    lease_until           INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    started_at            INTEGER,
    finished_at           INTEGER,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX imports_pending ON imports (status, id);
CREATE INDEX imports_created ON imports (created_at, id);

CREATE TABLE import_files (
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_errors (
    id        INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    col       TEXT    NOT NULL DEFAULT '',
    value     TEXT    NOT NULL DEFAULT '',
    reason    TEXT    NOT NULL,
    severity  TEXT    NOT NULL DEFAULT 'error'
);
CREATE INDEX import_errors_import ON import_errors (import_id, id);

CREATE TABLE import_mappings (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    entity     TEXT    NOT NULL,
    column_map TEXT NOT NULL DEFAULT '{}',
    value_map  TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Accounts are looked up by name when contacts and leads are imported.
CREATE INDEX accounts_name ON accounts (lower(name));
