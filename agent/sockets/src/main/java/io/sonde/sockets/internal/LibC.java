package io.sonde.sockets.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/** The few C library calls the sockets need, by JNA direct mapping (64-bit Linux). */
public final class LibC {

    static {
        Native.register(NativeLibrary.getInstance("c"));
    }

    private LibC() {
    }

    public static native int socket(int domain, int type, int protocol) throws LastErrorException;

    public static native int setsockopt(int fd, int level, int name, Pointer value, int length) throws LastErrorException;

    public static native int bind(int fd, Pointer address, int addressLength) throws LastErrorException;

    public static native long sendto(int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength)
            throws LastErrorException;

    public static native long recvmsg(int fd, Pointer message, int flags) throws LastErrorException;

    public static native int poll(Pointer fds, long count, int timeoutMillis) throws LastErrorException;

    public static native int close(int fd) throws LastErrorException;

    public static native String strerror(int errno);
}
