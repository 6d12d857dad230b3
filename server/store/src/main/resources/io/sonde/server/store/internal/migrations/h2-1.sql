-- The embedded store's first schema. H2 commits DDL at once, so every statement may run again:
-- a migration cut short is finished by the next start.
CREATE TABLE IF NOT EXISTS agent (id INT AUTO_INCREMENT PRIMARY KEY, agent_id VARCHAR(200) NOT NULL UNIQUE,
    tags VARCHAR(4000) NOT NULL, version VARCHAR(100), credential_hash BINARY(32) UNIQUE,
    enrolled_at BIGINT, last_seen BIGINT, revoked_at BIGINT, spool_records BIGINT DEFAULT 0 NOT NULL);
CREATE TABLE IF NOT EXISTS enrollment_token (id BIGINT AUTO_INCREMENT PRIMARY KEY, token_hash BINARY(32) NOT NULL UNIQUE,
    tags VARCHAR(4000) NOT NULL, expires_at BIGINT NOT NULL, single_use BOOLEAN NOT NULL,
    uses INT DEFAULT 0 NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS epoch (id INT AUTO_INCREMENT PRIMARY KEY, agent INT NOT NULL, epoch VARCHAR(64) NOT NULL,
    UNIQUE (agent, epoch));
CREATE TABLE IF NOT EXISTS series (id INT AUTO_INCREMENT PRIMARY KEY, agent INT NOT NULL, target VARCHAR(256) NOT NULL,
    kind VARCHAR(64) NOT NULL, UNIQUE (agent, target, kind));
-- started_ms: the start to the millisecond; outcome: response time in microseconds, failure code
-- and the start's microseconds within its millisecond, packed; packets: sent << 16 | received
CREATE TABLE IF NOT EXISTS result (rid BIGINT PRIMARY KEY, series INT NOT NULL, started_ms BIGINT NOT NULL,
    outcome BIGINT NOT NULL, packets INT, error VARCHAR(1000), details VARBINARY(1048576));
CREATE INDEX IF NOT EXISTS result_series_time ON result (series, started_ms);
