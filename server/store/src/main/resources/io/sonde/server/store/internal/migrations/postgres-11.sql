-- Uptime (version 11): the uptime job counts, hour by hour from the 1-minute rollups, each
-- target's minutes per state of the health model (agent_id '') and each of its agents' (their
-- id), summed per UTC day (uptime_day), and keeps its outages (minutes down one after the other,
-- cut at midnight: a read joins them). uptime_progress holds the next hour to count;
-- uptime_dirty the days whose rollups changed after they were counted: counted again.
CREATE TABLE IF NOT EXISTS uptime_day (day_ms BIGINT NOT NULL, target VARCHAR(256) NOT NULL, agent_id VARCHAR(200) NOT NULL,
    up_min INT NOT NULL, degraded_min INT NOT NULL, down_min INT NOT NULL, unknown_min INT NOT NULL,
    PRIMARY KEY (day_ms, target, agent_id));
CREATE TABLE IF NOT EXISTS outage (target VARCHAR(256) NOT NULL, start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL,
    PRIMARY KEY (target, start_ms));
CREATE INDEX IF NOT EXISTS outage_start ON outage (start_ms);
CREATE INDEX IF NOT EXISTS uptime_day_target ON uptime_day (target, day_ms);
CREATE TABLE IF NOT EXISTS uptime_progress (id INT PRIMARY KEY, next_hour_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS uptime_dirty (day_ms BIGINT PRIMARY KEY);
