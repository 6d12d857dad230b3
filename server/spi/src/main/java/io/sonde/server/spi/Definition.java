package io.sonde.server.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * Something the operator keeps on the server for the agents: a target by tag ({@link #TARGET}) or
 * a mesh ({@link #MESH}), as the JSON text the server checked before storing it.
 *
 * @param type      {@link #TARGET}, {@link #MESH}, {@link #ROLLOUT}, {@link #ALERT_RULE}, {@link #SILENCE}, {@link #RECEIVER}, {@link #MAINTENANCE}, {@link #OBJECTIVE} or {@link #STATUS_PAGE}
 * @param name      unique within its type
 * @param body      the definition, a JSON object
 * @param updatedAt when it was last stored
 */
public record Definition(String type, String name, String body, Instant updatedAt) {

    /** A target definition's type. */
    public static final String TARGET = "target";

    /** A mesh definition's type. */
    public static final String MESH = "mesh";

    /** A rollout's type: which version of a bundle which agents should run. @since 1.3 */
    public static final String ROLLOUT = "rollout";
    /** An alert rule's type. @since 1.4 */
    public static final String ALERT_RULE = "alert-rule";
    /** A silence's type: alerts it matches notify no one while it lasts. @since 1.4 */
    public static final String SILENCE = "silence";
    /** A notification receiver's type: a channel (Slack, PagerDuty, email, ...) alert rules name. Its body holds secrets. @since 1.15 */
    public static final String RECEIVER = "receiver";
    /** A maintenance window's type: the alerts it covers notify no one while it is open, once or every week. @since 1.15 */
    public static final String MAINTENANCE = "maintenance";
    /** A service level objective's type: the availability a group of targets is to keep over a number of days. @since 1.16 */
    public static final String OBJECTIVE = "objective";
    /** A public status page's type: groups of targets shown without login at /status/{name}. @since 1.16 */
    public static final String STATUS_PAGE = "status-page";

    /** Requires every field. */
    public Definition {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(updatedAt, "updatedAt");
    }
}
