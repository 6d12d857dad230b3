-- Labels (version 12): a series keeps the labels of its latest result (the target's labels on
-- the agent: site, team, mesh, peer ...), as lines name=value in name order; null when it has none.
-- At most 16 labels of 64 + 200 characters: 4,255 characters at most.
ALTER TABLE series ADD COLUMN IF NOT EXISTS labels VARCHAR(8000);
