-- Users of the dashboard and the API (version 6): their password's slow salted hash and role, and
-- their sessions and API tokens, each by the SHA-256 of its secret.
CREATE TABLE IF NOT EXISTS app_user (name VARCHAR(100) PRIMARY KEY, role VARCHAR(16) NOT NULL, password_hash VARCHAR(200) NOT NULL,
    created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS user_credential (hash BYTEA PRIMARY KEY, id CHAR(16) NOT NULL UNIQUE, user_name VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL, label VARCHAR(200) NOT NULL, csrf VARCHAR(100) NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS user_credential_user ON user_credential (user_name);
