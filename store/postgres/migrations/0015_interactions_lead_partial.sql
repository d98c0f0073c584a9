-- Most interactions name no lead (only those of a form that created one, or
-- given a lead explicitly). An index of every lead_id cost each new
-- interaction an entry for nothing; the index now holds only the
-- interactions that name a lead, which is all that deleting a lead (the
-- foreign key sets theirs to NULL) and lookups by lead read.
DROP INDEX interactions_lead;
CREATE INDEX interactions_lead ON interactions (lead_id) WHERE lead_id IS NOT NULL;
