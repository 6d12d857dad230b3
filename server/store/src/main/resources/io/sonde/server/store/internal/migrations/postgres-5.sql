-- Alerting (version 5): where each rule stands per subject (a target or an agent), so that another
-- server over the same database carries on, and the outbox of notifications not yet delivered.
CREATE TABLE IF NOT EXISTS alert_state (rule VARCHAR(200) NOT NULL, subject VARCHAR(512) NOT NULL, state VARCHAR(16) NOT NULL,
    since_ms BIGINT NOT NULL, val DOUBLE PRECISION, fired_ms BIGINT, notified_ms BIGINT, resolved_ms BIGINT,
    detail VARCHAR(4000), PRIMARY KEY (rule, subject));
CREATE TABLE IF NOT EXISTS outbox (id BIGSERIAL PRIMARY KEY, receiver TEXT NOT NULL, payload TEXT NOT NULL,
    created_ms BIGINT NOT NULL, attempts INT DEFAULT 0 NOT NULL, next_ms BIGINT NOT NULL, sent_ms BIGINT, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent_ms, next_ms);
