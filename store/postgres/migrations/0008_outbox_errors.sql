-- An event whose reaction failed is set aside with its error, so that it
-- cannot hold up the events after it.
ALTER TABLE outbox ADD COLUMN workflow_error TEXT NOT NULL DEFAULT '';
-- Handled events and finished deliveries are purged after a retention
-- period; these indexes find them.
CREATE INDEX outbox_at ON outbox (at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
