package io.sonde.server.alerts.internal;

/**
 * What one evaluation found for one subject of a rule.
 *
 * @param subject  a target's name or an agent's id
 * @param nodata   no vantage agent could say anything (all offline, or no results in the window)
 * @param bad      the condition holds: at least {@code min_vantage} vantage agents see it past the threshold
 * @param stillBad not recovered: at least {@code min_vantage} see it past the recovery threshold
 * @param value    the rule's figure: the {@code min_vantage}-th worst vantage's value, in the rule's unit
 * @param summary  one line for people, with the figure
 * @param detail   what each vantage agent sees
 */
record Observation(String subject, boolean nodata, boolean bad, boolean stillBad, double value, String summary, String detail) {

    static Observation noData(String subject, String why) {
        return new Observation(subject, true, false, false, Double.NaN, "no data for " + subject, why);
    }
}
