package io.sonde.wire;

/** A document that cannot be taken: what is wrong, and which of the answers it calls for. */
public final class WireException extends Exception {

    private static final long serialVersionUID = 1L;

    /** What kind of wrong; the server answers each with its own status and counts it by it. */
    public enum Problem {
        /** Not JSON, not gzip when gzip was said, or a field of the wrong type: 400. */
        MALFORMED,
        /** Bigger than allowed, compressed or not: 413. */
        TOO_LARGE,
        /** A schema major version this side does not know: 400. */
        SCHEMA,
        /** Well-formed, but a value is not acceptable: 400 (or 422). */
        INVALID;

        /** @return the label of this problem in metrics, lower case */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Problem problem;

    /**
     * @param problem what kind of wrong
     * @param message what is wrong and where
     */
    public WireException(Problem problem, String message) {
        super(message);
        this.problem = problem;
    }

    /** @return what kind of wrong */
    public Problem problem() {
        return problem;
    }
}
