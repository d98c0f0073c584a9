-- An event whose reaction failed is set aside with its error, so that it
-- cannot hold up the events after it.
ALTER TABLE outbox ADD COLUMN workflow_error TEXT NOT NULL DEFAULT '';
