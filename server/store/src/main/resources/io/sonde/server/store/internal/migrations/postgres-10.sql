-- A target's rollups across its agents (version 10). A target seen from many agents (a mesh
-- member, a site every agent probes) was read as the merge of every agent's rollups: a day at
-- 1-minute steps from 250 agents decoded 360,000 sketches. The rollup job now also keeps each
-- minute and hour of such a target merged across its series (target_rollup), once every series'
-- hour is rolled up; target_rollup_dirty lists the (target, hour) whose series' rollups changed
-- since; rollup_target lists the targets that have them (seen from two series or more: the
-- others' own rollups are already theirs). A query takes a target's rollups for the hours not
-- listed, and the series' rollups for the others.
CREATE TABLE IF NOT EXISTS rollup_target (target VARCHAR(256) PRIMARY KEY);
CREATE TABLE IF NOT EXISTS target_rollup (resolution_s INT NOT NULL, target VARCHAR(256) NOT NULL, start_ms BIGINT NOT NULL,
    count BIGINT NOT NULL, failures BIGINT NOT NULL, sent BIGINT, received BIGINT, min_us BIGINT, max_us BIGINT,
    sketch BYTEA, PRIMARY KEY (resolution_s, target, start_ms));
CREATE TABLE IF NOT EXISTS target_rollup_dirty (target VARCHAR(256) NOT NULL, hour_ms BIGINT NOT NULL, PRIMARY KEY (target, hour_ms));
CREATE INDEX IF NOT EXISTS series_target ON series (target);
