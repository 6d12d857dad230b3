-- With TimescaleDB: the results are a hypertable on the integer start (chunks of one day in
-- milliseconds); its integer "now" is the wall clock in milliseconds, which the policies need.
-- Old chunks are compressed, segmented by series (the unit every query reads), ordered by time.
CREATE TABLE result (rid BIGINT NOT NULL, series INT NOT NULL, started_ms BIGINT NOT NULL,
    outcome BIGINT NOT NULL, packets INT, error VARCHAR(1000), details BYTEA,
    PRIMARY KEY (rid, started_ms));
CREATE INDEX result_series_time ON result (series, started_ms);
SELECT create_hypertable('result', by_range('started_ms', 86400000));
CREATE FUNCTION sonde_now_ms() RETURNS BIGINT LANGUAGE SQL STABLE AS 'SELECT (extract(epoch FROM now()) * 1000)::BIGINT';
SELECT set_integer_now_func('result', 'sonde_now_ms');
ALTER TABLE result SET (timescaledb.compress, timescaledb.compress_segmentby = 'series', timescaledb.compress_orderby = 'started_ms');
SELECT add_compression_policy('result', compress_after => 604800000::BIGINT);
