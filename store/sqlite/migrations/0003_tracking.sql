-- Website visit tracking and email interaction tracking. Times are Unix
-- microseconds (UTC).

-- A website that embeds the tracking script (t.js data-site="key").
CREATE TABLE tracking_sites (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    allowed_origins TEXT    NOT NULL DEFAULT '[]',
    consent_implied INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- A browser that consented to tracking, known by the random id the script
-- keeps in a first-party cookie. contact_id stays NULL until a form
-- submission (or another identification) links it to a contact.
CREATE TABLE visitors (
    id            TEXT    PRIMARY KEY,
    site_id       INTEGER REFERENCES tracking_sites (id) ON DELETE SET NULL,
    contact_id    INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    identified_at INTEGER
);
CREATE INDEX visitors_contact ON visitors (contact_id);
CREATE INDEX visitors_last_seen ON visitors (last_seen_at);

-- Page views of visitors not identified yet. Stitching a visitor to a
-- contact turns them into page_view interactions and deletes them here.
CREATE TABLE page_visits (
    id          INTEGER PRIMARY KEY,
    visitor_id  TEXT    NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    site_id     INTEGER REFERENCES tracking_sites (id) ON DELETE SET NULL,
    url         TEXT    NOT NULL,
    referrer    TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL DEFAULT '',
    device      TEXT    NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL
);
CREATE INDEX page_visits_visitor ON page_visits (visitor_id, occurred_at);
CREATE INDEX page_visits_occurred ON page_visits (occurred_at);

-- Server secrets (the email token signing key), generated once with a
-- cryptographic random generator. Never returned by the API nor logged.
CREATE TABLE secrets (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
