-- Account-based leads count the interactions of every contact of their
-- account. Interactions carry the account of their contact (kept when the
-- contact moves to another account), so one range per type of this index
-- reads an account's history instead of one per contact (from the index
-- alone: the contact is in it).
CREATE INDEX interactions_account_type ON interactions (account_id, type, occurred_at, contact_id) WHERE account_id IS NOT NULL;
