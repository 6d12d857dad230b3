package io.sonde.server.spi;

import java.time.Instant;

/**
 * Minutes of a target in each state of the health model, over a day or a range of days, as the
 * store's uptime job counts them from the 1-minute rollups: a minute of a vantage agent is down
 * when most of its results in it failed (a target in backoff is down), degraded when its loss or
 * median latency passes the target's thresholds, up otherwise; a minute without results takes the
 * state of the agent's last one with results for as long as that stands (twice the gap before
 * it, one minute more, 3 to 60 minutes), then is unknown. The target's minute is the worst over
 * its agents whose minute is known, unknown when none is.
 *
 * @param target          the target
 * @param agentId         the vantage agent, or null for the target over its agents
 * @param day             the day (UTC midnight) for a day's row, or null for a range's sum
 * @param upMinutes       minutes up
 * @param degradedMinutes minutes degraded (up, but past a threshold)
 * @param downMinutes     minutes down (backoff included)
 * @param unknownMinutes  minutes with no standing result while the target was probed
 * @since 1.16
 */
public record Uptime(String target, String agentId, Instant day, long upMinutes, long degradedMinutes, long downMinutes,
        long unknownMinutes) {

    /** @return minutes with a known state: up, degraded or down */
    public long knownMinutes() {
        return upMinutes + degradedMinutes + downMinutes;
    }

    /** @return the share of known minutes up or degraded, 0 to 1; NaN with none known */
    public double availability() {
        long known = knownMinutes();
        return known == 0 ? Double.NaN : (double) (upMinutes + degradedMinutes) / known;
    }

    /** @return the sum of two rows of one target and agent */
    public Uptime plus(Uptime o) {
        return new Uptime(target, agentId, day, upMinutes + o.upMinutes, degradedMinutes + o.degradedMinutes, downMinutes + o.downMinutes,
                unknownMinutes + o.unknownMinutes);
    }

    /**
     * A target's outage: minutes down one after the other, as the uptime job saw them.
     *
     * @param target the target
     * @param start  its first down minute's start
     * @param end    its last down minute's end (the outage goes on when that is the job's last minute)
     */
    public record Outage(String target, Instant start, Instant end) {

        /** @return its length in minutes */
        public long minutes() {
            return (end.toEpochMilli() - start.toEpochMilli()) / 60_000L;
        }
    }
}
