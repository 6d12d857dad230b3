-- The health model (version 7): per series (agent, target, kind) the latest result's outcome, since
-- when that outcome holds, when the agent probes the target next and whether it backs off, and the
-- latest failure; kept by ingest in the results' transaction. And the probe kinds an agent runs,
-- with their options (JSON), as it last announced them.
CREATE TABLE IF NOT EXISTS target_state (series INT PRIMARY KEY, last_ms BIGINT NOT NULL, success BOOLEAN NOT NULL,
    reason VARCHAR(32), error VARCHAR(1000), since_ms BIGINT NOT NULL, next_ms BIGINT, backoff BOOLEAN NOT NULL,
    failure_ms BIGINT, failure_reason VARCHAR(32), failure_error VARCHAR(1000));
ALTER TABLE agent ADD COLUMN IF NOT EXISTS kinds VARCHAR(1000000);
