-- Without TimescaleDB: native declarative partitioning by day (UTC) of the start. The server
-- makes each day's partition before it writes into it and the retention job drops whole days.
-- A unique key of a partitioned table must hold the partition key: (rid, started_ms). A result
-- sent again has the same start, so it meets itself here; the store also reads the batch's rid
-- range first, so the identity alone decides, as in the embedded store.
CREATE TABLE result (rid BIGINT NOT NULL, series INT NOT NULL, started_ms BIGINT NOT NULL,
    outcome BIGINT NOT NULL, packets INT, error VARCHAR(1000), details BYTEA,
    PRIMARY KEY (rid, started_ms)) PARTITION BY RANGE (started_ms);
CREATE INDEX result_series_time ON result (series, started_ms);
