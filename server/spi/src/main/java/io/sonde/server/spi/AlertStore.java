package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The alerts' state (per rule and subject) and the notification outbox, delivered at least once.
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface AlertStore {

    /** @return every alert's state, by rule and subject @since 1.4 */
    List<AlertState> alertStates() throws StoreException;

    /** Keeps an alert's state in place of the one before. @since 1.4 */
    void putAlertState(AlertState state) throws StoreException;

    /** Forgets an alert's state. @since 1.4 */
    void deleteAlertState(String rule, String subject) throws StoreException;

    /**
     * Queues a message for a receiver in the outbox, due at once.
     *
     * @return its id
     * @since 1.4
     */
    long enqueue(String receiver, String payload, Instant now) throws StoreException;

    /**
     * @return messages not delivered and not given up, oldest first, at most {@code limit}, due or not
     *         (a receiver's messages go in order: one not due holds back the later ones)
     * @since 1.4
     */
    List<Notification> undeliveredNotifications(int limit) throws StoreException;

    /** Records that a message was delivered. @since 1.4 */
    void notificationSent(long id, Instant at) throws StoreException;

    /**
     * Records a failed delivery.
     *
     * @param next when to try again; {@link Instant#MAX} gives the message up
     * @since 1.4
     */
    void notificationFailed(long id, int attempts, Instant next, String error) throws StoreException;

    /** @return the latest messages, newest first, at most {@code limit} @since 1.4 */
    List<Notification> notifications(int limit) throws StoreException;

    /** @return messages waiting for delivery (not given up) @since 1.4 */
    long pendingNotifications() throws StoreException;
}
