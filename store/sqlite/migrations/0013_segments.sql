-- Segments of contacts: dynamic (a query) or static (a list). Members of
-- both are rows of segment_members; a dynamic segment's are rebuilt from its
-- query when it is saved and kept live from segment_queue, the contacts
-- whose data changed (or whose query windows move) and must be evaluated
-- again. seq changes on every enqueue, so a worker removes only the entry it
-- evaluated.
CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL,
    query       TEXT    NOT NULL DEFAULT '',
    -- What the query reads (contact, account, leads, scores, interactions,
    -- segments) and the scoring model keys it names, as JSON arrays.
    reads       TEXT    NOT NULL DEFAULT '[]',
    model_keys  TEXT    NOT NULL DEFAULT '[]',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX segments_created ON segments (created_at, id);
CREATE INDEX segments_updated ON segments (updated_at, id);

-- The segments a query names with in_segment.
CREATE TABLE segment_refs (
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    ref_id     INTEGER NOT NULL REFERENCES segments (id),
    PRIMARY KEY (segment_id, ref_id)
) WITHOUT ROWID;
CREATE INDEX segment_refs_ref ON segment_refs (ref_id);

CREATE TABLE segment_members (
    segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    since      INTEGER NOT NULL,
    PRIMARY KEY (segment_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_contact ON segment_members (contact_id);

CREATE TABLE segment_queue (
    contact_id    INTEGER PRIMARY KEY,
    due_at        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    enqueued_at   INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX segment_queue_due ON segment_queue (due_at);
