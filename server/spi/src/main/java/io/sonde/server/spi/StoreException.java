package io.sonde.server.spi;

/** A store operation that did not work, and whose fault it was. */
public final class StoreException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Whose fault: the caller's (refused), or the store's (unavailable). */
    public enum Kind {
        /** The request is not acceptable (a bad token, a revoked agent): 4xx. */
        REFUSED,
        /** The database cannot be used now; try again later: 503. */
        UNAVAILABLE,
        /** The request clashes with what is stored (an agent id enrolled already): 409. @since 1.6 */
        CONFLICT,
        /** The request asks for more than its credential grants (tags an enrollment token does not give): 403. @since 1.6 */
        FORBIDDEN
    }

    private final Kind kind;

    /** @param kind whose fault @param message what happened */
    public StoreException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    /** @return whose fault */
    public Kind kind() {
        return kind;
    }
}
