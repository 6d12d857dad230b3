package io.sonde.sockets;

import java.io.IOException;

/** A system call failed; {@link #errno()} says how. */
public final class NativeException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Operation not permitted. */
    public static final int EPERM = 1;
    /** Permission denied. */
    public static final int EACCES = 13;
    /** No buffer space available. */
    public static final int ENOBUFS = 105;
    /** Bad file descriptor. */
    public static final int EBADF = 9;

    private final int errno;

    public NativeException(String call, int errno, String detail) {
        super(call + " failed: " + detail + " (errno " + errno + ")");
        this.errno = errno;
    }

    /** @return the system's error number */
    public int errno() {
        return errno;
    }

    /** @return true if the call failed for lack of privilege (EPERM or EACCES) */
    public boolean denied() {
        return errno == EPERM || errno == EACCES;
    }
}
