package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;

/**
 * An enrollment token as stored: never its secret.
 *
 * @param id        its public id
 * @param tags      tags given to the agents that enroll with it
 * @param expiresAt when it stops working
 * @param singleUse whether it works only once
 * @param createdAt when it was made
 * @param agentTags whether an agent enrolling with it may add tags of its own to the token's (else
 *                  an agent asking for other tags is refused: the token says what an agent is)
 */
public record EnrollmentToken(long id, List<String> tags, Instant expiresAt, boolean singleUse, Instant createdAt, boolean agentTags) {

    /** Takes an immutable copy of the tags. */
    public EnrollmentToken {
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    /** A token that gives its own tags only. */
    public EnrollmentToken(long id, List<String> tags, Instant expiresAt, boolean singleUse, Instant createdAt) {
        this(id, tags, expiresAt, singleUse, createdAt, false);
    }
}
