package io.sonde.server.spi;

import java.time.Instant;

/**
 * One message to an alert receiver, kept in the store's outbox until it is delivered: a receiver
 * that is down gets it when it is back.
 *
 * @param id        its number, rising: a receiver is sent its messages in this order
 * @param receiver  where it goes, as the rule names it: {@code {"webhook": url}} or {@code {"alertmanager": url}}
 * @param payload   what is sent, JSON
 * @param createdAt when it was queued
 * @param attempts  failed deliveries so far
 * @param nextAt    when it is tried next
 * @param sentAt    when it was delivered, or null
 * @param lastError why the last attempt failed, or null
 * @since 1.4
 */
public record Notification(long id, String receiver, String payload, Instant createdAt, int attempts, Instant nextAt,
        Instant sentAt, String lastError) {

    /** @return whether it was given up: tried for too long */
    public boolean abandoned() {
        return sentAt == null && nextAt.equals(Instant.MAX);
    }
}
