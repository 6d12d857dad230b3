package io.sonde.api;

import java.util.Locale;

/** Why a probe failed; the {@code reason} label of {@code probe_failure_total}. */
public enum FailureReason {
    /** No answer within the target's timeout. Counted in {@code probe_timeout_total} instead. */
    TIMEOUT,
    /** The peer actively refused: TCP reset, ICMP port unreachable. */
    REFUSED,
    /** No route to the host or network. */
    UNREACHABLE,
    /** The host name could not be resolved. */
    DNS,
    /** TLS handshake or certificate verification failed. */
    TLS,
    /** The peer answered with an unexpected status. */
    STATUS,
    /** The answer did not match what was expected of its content. */
    BODY_MISMATCH,
    /** Anything else; the error message says what. */
    ERROR;

    /** @return the metric label value, lower case, for example {@code refused} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
