-- How many leads have each score under each model, for the dashboard's
-- score distributions. An index of lead_scores by (model_id, score) answered
-- that, but every changed score moved the lead's entry within it: two more
-- pages written per change, all over the index, under the one writer. The
-- counts live in a table of a few pages instead, kept by triggers, so that
-- every way a score changes (the scorer, a rescore, stopping a model, a
-- lead or a model deleted and its scores with it) keeps them right.
CREATE TABLE score_counts (
    model_id INTEGER NOT NULL,
    score    INTEGER NOT NULL,
    leads    INTEGER NOT NULL,
    PRIMARY KEY (model_id, score)
) WITHOUT ROWID;
INSERT INTO score_counts (model_id, score, leads) SELECT model_id, score, COUNT(*) FROM lead_scores GROUP BY model_id, score;
DROP INDEX lead_scores_model;

CREATE TRIGGER score_counts_insert AFTER INSERT ON lead_scores
BEGIN
    INSERT INTO score_counts (model_id, score, leads) VALUES (new.model_id, new.score, 1)
        ON CONFLICT (model_id, score) DO UPDATE SET leads = leads + 1;
END;

CREATE TRIGGER score_counts_delete AFTER DELETE ON lead_scores
BEGIN
    UPDATE score_counts SET leads = leads - 1 WHERE model_id = old.model_id AND score = old.score;
    DELETE FROM score_counts WHERE model_id = old.model_id AND score = old.score AND leads <= 0;
END;

CREATE TRIGGER score_counts_update AFTER UPDATE OF score, model_id ON lead_scores
WHEN old.score IS NOT new.score OR old.model_id IS NOT new.model_id
BEGIN
    UPDATE score_counts SET leads = leads - 1 WHERE model_id = old.model_id AND score = old.score;
    DELETE FROM score_counts WHERE model_id = old.model_id AND score = old.score AND leads <= 0;
    INSERT INTO score_counts (model_id, score, leads) VALUES (new.model_id, new.score, 1)
        ON CONFLICT (model_id, score) DO UPDATE SET leads = leads + 1;
END;
