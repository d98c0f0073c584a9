-- On SQLite the scorer reads new interactions by id instead of a
-- score_queue row per interaction (the one writer gives rowids in commit
-- order). position is the last interaction id whose leads are scored;
-- everything up to the newest interaction now was queued the old way.
CREATE TABLE score_tail (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO score_tail (id, position) SELECT 1, COALESCE(MAX(id), 0) FROM interactions;
