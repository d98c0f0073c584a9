-- Customer journeys, email templates, the email queue and the suppression
-- list. A contact's position in a journey is a row of journey_runs (one per
-- journey and contact, ever); every step it went through is a row of
-- journey_steps, written in the transaction that did the step's work, so a
-- step runs once per contact however many workers claim the run.
CREATE TABLE journeys (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL,
    entry_kind     TEXT    NOT NULL,
    segment_id     INTEGER REFERENCES segments (id) ON DELETE SET NULL,
    entry          TEXT    NOT NULL DEFAULT '{}',
    steps          TEXT    NOT NULL DEFAULT '[]',
    goal           TEXT    NOT NULL DEFAULT '',
    exit_condition TEXT    NOT NULL DEFAULT '',
    published_at   INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX journeys_live ON journeys (status, entry_kind);
CREATE INDEX journeys_segment ON journeys (segment_id);
CREATE INDEX journeys_created ON journeys (created_at, id);
CREATE INDEX journeys_updated ON journeys (updated_at, id);

CREATE TABLE journey_runs (
    id            INTEGER PRIMARY KEY,
    journey_id    INTEGER NOT NULL REFERENCES journeys (id) ON DELETE CASCADE,
    contact_id    INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    lead_id       INTEGER REFERENCES leads (id) ON DELETE SET NULL,
    state         TEXT    NOT NULL,
    step          TEXT    NOT NULL,
    -- When the step runs (or its wait is looked at) next; for a branch
    -- waiting for an interaction, deadline is when it gives up.
    due_at        INTEGER NOT NULL,
    step_at       INTEGER NOT NULL,
    deadline      INTEGER,
    awaits        TEXT    NOT NULL DEFAULT '',
    -- steps_done numbers the rows of journey_steps in the order done.
    steps_done    INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    reason        TEXT    NOT NULL DEFAULT '',
    entered_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    UNIQUE (journey_id, contact_id)
);
CREATE INDEX journey_runs_due ON journey_runs (due_at) WHERE state IN ('active', 'waiting');
CREATE INDEX journey_runs_contact ON journey_runs (contact_id) WHERE state = 'waiting';
CREATE INDEX journey_runs_journey ON journey_runs (journey_id, state);

CREATE TABLE journey_steps (
    run_id  INTEGER NOT NULL REFERENCES journey_runs (id) ON DELETE CASCADE,
    step    TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    outcome TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

CREATE TABLE email_templates (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    html       TEXT    NOT NULL DEFAULT '',
    text       TEXT    NOT NULL DEFAULT '',
    from_name  TEXT    NOT NULL DEFAULT '',
    from_email TEXT    NOT NULL DEFAULT '',
    reply_to   TEXT    NOT NULL DEFAULT '',
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX email_templates_created ON email_templates (created_at, id);
CREATE INDEX email_templates_updated ON email_templates (updated_at, id);

CREATE TABLE email_sends (
    id            INTEGER PRIMARY KEY,
    template_id   INTEGER NOT NULL REFERENCES email_templates (id),
    contact_id    INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    lead_id       INTEGER REFERENCES leads (id) ON DELETE SET NULL,
    journey_id    INTEGER REFERENCES journeys (id) ON DELETE SET NULL,
    step          TEXT    NOT NULL DEFAULT '',
    to_email      TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    confirm       TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER
);
CREATE INDEX email_sends_due ON email_sends (due_at) WHERE status = 'queued';
CREATE INDEX email_sends_contact ON email_sends (contact_id);
CREATE INDEX email_sends_journey ON email_sends (journey_id, status);
CREATE INDEX email_sends_created ON email_sends (created_at, id);

CREATE TABLE email_suppressions (
    email      TEXT    PRIMARY KEY,
    reason     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX email_suppressions_created ON email_suppressions (created_at, email);

-- Forms can ask for a double opt-in: the consent they capture is pending
-- until the contact follows the link of the confirmation email.
ALTER TABLE forms ADD COLUMN double_opt_in INTEGER NOT NULL DEFAULT 0;
ALTER TABLE forms ADD COLUMN confirmation_email_id INTEGER REFERENCES email_templates (id);

-- Segment queries over opportunities read a contact's own opportunities.
CREATE INDEX opportunities_contact ON opportunities (contact_id);
