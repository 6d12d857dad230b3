package io.sonde.server.spi;

import java.io.InputStream;

import org.osgi.annotation.versioning.ProviderType;

import io.sonde.wire.BatchAck;
import io.sonde.wire.WireException;

/** Takes a result batch from the wire: bounds, validation, storage exactly once. */
@ProviderType
public interface ResultIngest {

    /**
     * @param agentId the authenticated agent the batch must be of
     * @param body    the request body
     * @param gzip    whether the body says it is gzip
     * @return the acknowledgement: every result of the batch is stored once
     * @throws WireException  for a batch that is wrong (4xx)
     * @throws StoreException when it cannot be stored now (503)
     * @throws Busy           when the server has too much in hand (429)
     */
    BatchAck ingest(String agentId, InputStream body, boolean gzip) throws WireException, StoreException, Busy;

    /** The server has too many batches in hand: try again after {@link #retryAfterSeconds()}. */
    final class Busy extends Exception {
        private static final long serialVersionUID = 1L;

        private final boolean bodyRead;

        /** @param message what is full; the body may be left unread */
        public Busy(String message) {
            this(message, false);
        }

        /**
         * @param message  what is full
         * @param bodyRead whether the request's body was read to its end, so that the connection can
         *                 carry the sender's next request (back-pressure then costs no new connection)
         * @since 1.8
         */
        public Busy(String message, boolean bodyRead) {
            this(message, bodyRead, 1);
        }

        /**
         * @param retryAfterSeconds when to come back (Retry-After), at least 1
         * @since 1.14
         */
        public Busy(String message, boolean bodyRead, int retryAfterSeconds) {
            super(message);
            this.bodyRead = bodyRead;
            this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
        }

        private final int retryAfterSeconds;

        /** @return the seconds the sender is told to wait (Retry-After) @since 1.14 */
        public int retryAfterSeconds() {
            return retryAfterSeconds;
        }

        /** @return whether the request's body was read to its end @since 1.8 */
        public boolean bodyRead() {
            return bodyRead;
        }
    }
}
