-- PostgreSQL's first schema, in one transaction with the version row: all of it or none.
-- Times are milliseconds since the epoch (BIGINT): no time zone of the session or the server
-- changes what is stored or read. The result table itself is made by the mode's file
-- (postgres-1-partitioned.sql or postgres-1-timescaledb.sql), applied after this one.
CREATE TABLE agent (id SERIAL PRIMARY KEY, agent_id VARCHAR(200) NOT NULL UNIQUE,
    tags VARCHAR(4000) NOT NULL, version VARCHAR(100), credential_hash BYTEA UNIQUE,
    enrolled_at BIGINT, last_seen BIGINT, revoked_at BIGINT, spool_records BIGINT DEFAULT 0 NOT NULL);
CREATE TABLE enrollment_token (id BIGSERIAL PRIMARY KEY, token_hash BYTEA NOT NULL UNIQUE,
    tags VARCHAR(4000) NOT NULL, expires_at BIGINT NOT NULL, single_use BOOLEAN NOT NULL,
    uses INT DEFAULT 0 NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE epoch (id SERIAL PRIMARY KEY, agent INT NOT NULL REFERENCES agent (id), epoch VARCHAR(64) NOT NULL,
    UNIQUE (agent, epoch));
CREATE TABLE series (id SERIAL PRIMARY KEY, agent INT NOT NULL REFERENCES agent (id), target VARCHAR(256) NOT NULL,
    kind VARCHAR(64) NOT NULL, UNIQUE (agent, target, kind));
