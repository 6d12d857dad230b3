-- Rollups (version 2): per series, a minute and an hour of results summed up with a latency
-- sketch, made by the server from the raw results (the sketch is the server's, so TimescaleDB's
-- continuous aggregates, which are SQL, cannot make it); rollup_dirty lists the hours whose raw
-- results changed since (written with the results, read by the rollup job). resolution_s: 60 or 3600.
CREATE TABLE rollup (resolution_s INT NOT NULL, series INT NOT NULL, start_ms BIGINT NOT NULL,
    count BIGINT NOT NULL, failures BIGINT NOT NULL, sent BIGINT, received BIGINT, min_us BIGINT, max_us BIGINT,
    sketch BYTEA, PRIMARY KEY (resolution_s, series, start_ms));
CREATE TABLE rollup_dirty (series INT NOT NULL, hour_ms BIGINT NOT NULL, PRIMARY KEY (series, hour_ms));
