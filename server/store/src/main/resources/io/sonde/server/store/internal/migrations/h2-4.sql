-- What each agent last said of its configuration document (version 4): the version it applies,
-- where it came from (server, or server-cache: its kept copy), the entries it refuses as a JSON
-- list of {name, reason}, and when it said so.
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_version VARCHAR(200);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_source VARCHAR(32);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_rejected VARCHAR(1048576);
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_at BIGINT;
-- what its updater did with the bundles of its document: a JSON list of {symbolic_name, version, rollout, state, reason}
ALTER TABLE agent ADD COLUMN IF NOT EXISTS config_updates VARCHAR(1048576);
-- The bundle repository: each release's signed manifest and its jar, once per symbolic name and
-- version; every server instance serves them from here.
CREATE TABLE IF NOT EXISTS release (symbolic_name VARCHAR(255) NOT NULL, version VARCHAR(100) NOT NULL,
    sha256 CHAR(64) NOT NULL, size BIGINT NOT NULL, manifest VARCHAR(16384) NOT NULL, jar BLOB NOT NULL,
    uploaded_at BIGINT NOT NULL, PRIMARY KEY (symbolic_name, version));
