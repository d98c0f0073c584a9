-- Contact strategies of the email alone keep no match key for contacts whose
-- email is already in the strategy's normal form: the contacts (email) index
-- finds them. The migration's Go seed rebuilds those strategies' keys, which
-- drops the rows that are no longer needed.
SELECT 1;
