-- Rollups (version 2): per series, a minute and an hour of results summed up with a latency
-- sketch, made by the server from the raw results; rollup_dirty lists the hours whose raw results
-- changed since (written with the results, read by the rollup job). resolution_s: 60 or 3600.
CREATE TABLE IF NOT EXISTS rollup (resolution_s INT NOT NULL, series INT NOT NULL, start_ms BIGINT NOT NULL,
    count BIGINT NOT NULL, failures BIGINT NOT NULL, sent BIGINT, received BIGINT, min_us BIGINT, max_us BIGINT,
    sketch VARBINARY(1048576), PRIMARY KEY (resolution_s, series, start_ms));
CREATE TABLE IF NOT EXISTS rollup_dirty (series INT NOT NULL, hour_ms BIGINT NOT NULL, PRIMARY KEY (series, hour_ms));
