-- What each agent last said of its configuration document (version 4): the version it applies,
-- where it came from (server, or server-cache: its kept copy), the entries it refuses as a JSON
-- list of {name, reason}, and when it said so.
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_version VARCHAR(200);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_source VARCHAR(32);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_rejected VARCHAR(1048576);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_at BIGINT;
