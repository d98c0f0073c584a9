-- The audit log of personal data requests (GDPR): every export and erasure
-- of a contact's data, who asked and, for erasures, the reason and how many
-- rows of each kind went. It never holds the personal data itself. Times are
-- Unix microseconds (UTC); detail is a JSON object.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    subject_type TEXT    NOT NULL,
    subject_id   INTEGER NOT NULL,
    detail       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_subject ON audit_log (subject_id, id);
