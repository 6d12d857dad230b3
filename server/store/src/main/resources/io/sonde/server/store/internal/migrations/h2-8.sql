-- Trust (version 8). An enrollment token may let agents add tags of their own (agent_tags); else an
-- agent gets the token's tags. A user's credential carries the fingerprint of what it was made from
-- (the password's hash, the admin token): a new password or a rotated admin token ends it.
-- Per spool epoch, the sequence numbers stored: the lowest (counting from 1 for an epoch made now;
-- for one made before, from the first result stored after this version), the highest, and how many,
-- so that every sequence number missing in between is counted as a loss. An agent's address says
-- where it came from (advertised by the agent, or the address it connected from), and an admin may
-- pin it.
ALTER TABLE enrollment_token ADD COLUMN IF NOT EXISTS agent_tags BOOLEAN DEFAULT FALSE NOT NULL;
ALTER TABLE user_credential ADD COLUMN IF NOT EXISTS origin VARCHAR(64) DEFAULT '' NOT NULL;
ALTER TABLE epoch ADD COLUMN IF NOT EXISTS max_seq BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE epoch ADD COLUMN IF NOT EXISTS stored BIGINT DEFAULT 0 NOT NULL;
ALTER TABLE epoch ADD COLUMN IF NOT EXISTS first_seq BIGINT DEFAULT 1;
UPDATE epoch SET first_seq = NULL WHERE stored = 0 AND max_seq = 0;
ALTER TABLE agent ADD COLUMN IF NOT EXISTS address_source VARCHAR(16);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS address_pin VARCHAR(300);
