package io.sonde.sockets;

import java.io.Closeable;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

import io.sonde.sockets.internal.LibC;

/**
 * A socket the JDK does not offer: ICMP (datagram or raw) or UDP with TTL control, kernel receive
 * timestamps and the error queue. One thread may send while another receives; {@link #close()}
 * is safe from any thread. Receivers should wait with a bounded timeout: closing does not wake a
 * thread blocked in {@link #await(int)}.
 */
public final class NativeSocket implements Closeable {

    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVBUF = 8;
    private static final int SO_TIMESTAMPNS = 35;
    private static final int IP_TTL = 2;
    private static final int IP_RECVERR = 11;
    private static final int IP_RECVTTL = 12;
    private static final int IP_MTU_DISCOVER = 10;
    private static final int IPV6_MTU_DISCOVER = 23;
    /** Path MTU discovery mode: set DF, ignore the path MTU the kernel has cached (probe as is). */
    public static final int PMTUDISC_PROBE = 3;
    /** Path MTU discovery mode: set DF, keep within the cached path MTU. */
    public static final int PMTUDISC_DO = 2;
    /** Path MTU discovery mode: never set DF. */
    public static final int PMTUDISC_DONT = 0;
    private static final int IPV6_UNICAST_HOPS = 16;
    private static final int IP_TOS = 1;
    private static final int IPV6_TCLASS = 67;
    private static final int EADDRINUSE = 98;
    private static final int IPV6_RECVERR = 25;
    private static final int IPV6_RECVHOPLIMIT = 51;
    private static final int IPV6_HOPLIMIT = 52;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_ERRQUEUE = 0x2000;
    private static final int EAGAIN = 11;
    private static final short POLLIN = 1;
    private static final short POLLERR = 8;

    /** {@link #await(int)}: a datagram can be received. */
    public static final int READABLE = 1;
    /** {@link #await(int)}: the error queue holds something. */
    public static final int ERROR = 2;

    private final Family family;
    private final boolean raw;
    /** The descriptor, -1 once closed; taken by one closer only, so a number reused meanwhile is never closed. */
    private final java.util.concurrent.atomic.AtomicInteger fd;
    private volatile boolean recvErr;
    // sending: guarded by sendLock
    private final Object sendLock = new Object();
    private final Memory sendBuffer = new Memory(65_536);
    private final Memory sendAddress = new Memory(28);
    // receiving: one receiving thread at a time, guarded by receiveLock
    private final Object receiveLock = new Object();
    private final Memory receiveBuffer = new Memory(65_536);
    private final Memory receiveAddress = new Memory(28);
    private final Memory control = new Memory(512);
    private final Memory iov = new Memory(16);
    private final Memory message = new Memory(56);
    private final Memory pollFd = new Memory(8);

    private NativeSocket(Family family, boolean raw, int fd) {
        this.family = family;
        this.raw = raw;
        this.fd = new java.util.concurrent.atomic.AtomicInteger(fd);
    }

    /**
     * Opens an ICMP socket.
     *
     * @param raw false for an unprivileged datagram socket (Linux: the group must be in
     *            {@code net.ipv4.ping_group_range}; the kernel owns the identifier and the checksum),
     *            true for a raw socket (root or CAP_NET_RAW; IPv4 replies come with their IP header)
     */
    public static NativeSocket icmp(Family family, boolean raw) throws NativeException {
        return open(family, raw ? SOCK_RAW : SOCK_DGRAM, family.icmpProtocol, raw);
    }

    /** Opens a UDP socket. */
    public static NativeSocket udp(Family family) throws NativeException {
        return open(family, SOCK_DGRAM, 17, false);
    }

    private static NativeSocket open(Family family, int type, int protocol, boolean raw) throws NativeException {
        try {
            return new NativeSocket(family, raw, LibC.socket(family.af, type | SOCK_CLOEXEC, protocol));
        } catch (LastErrorException e) {
            throw error("socket", e);
        }
    }

    public Family family() {
        return family;
    }

    /** @return true for a raw socket */
    public boolean raw() {
        return raw;
    }

    /** Sets the TTL (IPv4) or unicast hop limit (IPv6) of packets sent from now on. */
    public void setTtl(int ttl) throws NativeException {
        if (family == Family.IPV4) {
            setInt(family.ipLevel, IP_TTL, ttl, "IP_TTL");
        } else {
            setInt(family.ipLevel, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS");
        }
    }

    /**
     * Sets how packets sent from now on treat fragmentation (IP_MTU_DISCOVER, IPV6_MTU_DISCOVER):
     * {@link #PMTUDISC_PROBE} sends with the don't-fragment bit whatever the cached path MTU,
     * {@link #PMTUDISC_DO} with it within the cached MTU, {@link #PMTUDISC_DONT} without it.
     *
     * @since 2.2
     */
    public void setPathMtuDiscovery(int mode) throws NativeException {
        if (family == Family.IPV4) {
            setInt(family.ipLevel, IP_MTU_DISCOVER, mode, "IP_MTU_DISCOVER");
        } else {
            setInt(family.ipLevel, IPV6_MTU_DISCOVER, mode, "IPV6_MTU_DISCOVER");
        }
    }

    /**
     * Sets the traffic class byte (IPv4 TOS, IPv6 traffic class) of packets sent from now on: the
     * DSCP shifted left by two.
     *
     * @since 2.3
     */
    public void setTrafficClass(int trafficClass) throws NativeException {
        if (family == Family.IPV4) {
            setInt(family.ipLevel, IP_TOS, trafficClass, "IP_TOS");
        } else {
            setInt(family.ipLevel, IPV6_TCLASS, trafficClass, "IPV6_TCLASS");
        }
    }

    /**
     * Binds the socket to a local address and port.
     *
     * @param address the source address, of this socket's family, or null for any
     * @param port    the source port, or 0 for one the kernel picks
     * @return false when the port is in use (EADDRINUSE), true when bound
     * @throws NativeException on any other failure (an address this host does not have: EADDRNOTAVAIL)
     * @since 2.3
     */
    public boolean bind(InetAddress address, int port) throws NativeException {
        InetAddress a = address;
        try {
            if (a == null) {
                a = InetAddress.getByAddress(new byte[family == Family.IPV4 ? 4 : 16]);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        try (Memory m = new Memory(28)) {
            int length = writeAddress(m, a, port);
            LibC.bind(fd(), m, length);
            return true;
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EADDRINUSE) {
                return false;
            }
            throw error("bind " + a.getHostAddress() + " port " + port, e);
        }
    }

    /** Asks for the kernel's receive time of every datagram (SO_TIMESTAMPNS). */
    public void enableTimestamps() throws NativeException {
        setInt(SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
    }

    /** Asks for the TTL or hop limit of every datagram received. */
    public void enableReceiveTtl() throws NativeException {
        if (family == Family.IPV4) {
            setInt(family.ipLevel, IP_RECVTTL, 1, "IP_RECVTTL");
        } else {
            setInt(family.ipLevel, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
        }
    }

    /**
     * Queues ICMP errors about sent packets for {@link #receive(byte[], boolean)} with the error
     * queue. The kernel then also leaves each such error pending on the socket, where the next send
     * or receive would report it as its own failure; this socket takes those as what they are, news
     * already in the error queue: a send is made again, a receive finds nothing.
     */
    public void enableErrorQueue() throws NativeException {
        if (family == Family.IPV4) {
            setInt(family.ipLevel, IP_RECVERR, 1, "IP_RECVERR");
        } else {
            setInt(family.ipLevel, IPV6_RECVERR, 1, "IPV6_RECVERR");
        }
        recvErr = true;
    }

    /** ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN: how a pending ICMP error shows on a call. */
    private boolean pendingIcmpError(LastErrorException e) {
        int n = e.getErrorCode();
        return recvErr && (n == 111 || n == 113 || n == 101 || n == 112);
    }

    /**
     * On a raw ICMP socket, lets only the given ICMP types through to this socket (ICMP_FILTER,
     * ICMP6_FILTER): a raw socket otherwise receives every ICMP packet the host gets, including,
     * on loopback, the requests it sends itself.
     */
    public void passOnlyIcmpTypes(int... types) throws NativeException {
        if (!raw) {
            return;
        }
        if (family == Family.IPV4) {
            int block = 0xffffffff;
            for (int t : types) {
                if (t < 32) {
                    block &= ~(1 << t);
                }
            }
            setInt(255, 1, block, "ICMP_FILTER");
            return;
        }
        try (Memory m = new Memory(32)) {
            int[] words = new int[8];
            java.util.Arrays.fill(words, 0xffffffff);
            for (int t : types) {
                words[t >> 5] &= ~(1 << (t & 31));
            }
            for (int i = 0; i < 8; i++) {
                m.setInt(i * 4L, words[i]);
            }
            LibC.setsockopt(fd(), 58, 1, m, 32);
        } catch (LastErrorException e) {
            throw error("setsockopt(ICMP6_FILTER)", e);
        }
    }

    public void setReceiveBuffer(int bytes) throws NativeException {
        setInt(SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
    }

    private void setInt(int level, int name, int value, String what) throws NativeException {
        try (Memory m = new Memory(4)) {
            m.setInt(0, value);
            LibC.setsockopt(fd(), level, name, m, 4);
        } catch (LastErrorException e) {
            throw error("setsockopt(" + what + ")", e);
        }
    }

    /** Sends {@code length} bytes of {@code data} to {@code address}; {@code port} is ignored by ICMP. */
    public void send(byte[] data, int length, InetAddress address, int port) throws NativeException {
        synchronized (sendLock) {
            sendBuffer.write(0, data, 0, length);
            int addressLength = writeAddress(sendAddress, address, port);
            for (int attempt = 0; ; attempt++) {
                try {
                    LibC.sendto(fd(), sendBuffer, length, 0, sendAddress, addressLength);
                    return;
                } catch (LastErrorException e) {
                    // a pending error about an earlier packet is cleared by the failed call: send again.
                    // Answers to packets still in flight can keep arriving meanwhile, so allow a few.
                    if (!pendingIcmpError(e) || attempt >= 15) {
                        throw error("sendto " + address.getHostAddress(), e);
                    }
                }
            }
        }
    }

    /**
     * Waits until a datagram or an error can be received, for at most {@code timeoutMillis}.
     *
     * @return {@link #READABLE} and/or {@link #ERROR}, or 0 on timeout
     */
    public int await(int timeoutMillis) throws NativeException {
        synchronized (receiveLock) {
            pollFd.setInt(0, fd());
            pollFd.setShort(4, (short) (POLLIN | POLLERR));
            pollFd.setShort(6, (short) 0);
            try {
                if (LibC.poll(pollFd, 1, timeoutMillis) <= 0) {
                    return 0;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() == 4) { // EINTR
                    return 0;
                }
                throw error("poll", e);
            }
            short revents = pollFd.getShort(6);
            return ((revents & POLLIN) != 0 ? READABLE : 0) | ((revents & POLLERR) != 0 ? ERROR : 0);
        }
    }

    /**
     * Waits until any of {@code sockets} can be read or has an error queued, for at most
     * {@code timeoutMillis}. Closed sockets are passed over.
     *
     * @return for each socket, {@link #READABLE} and/or {@link #ERROR}, or 0
     */
    public static int[] awaitAny(NativeSocket[] sockets, int timeoutMillis) throws NativeException {
        int[] ready = new int[sockets.length];
        if (sockets.length == 0) {
            try {
                Thread.sleep(timeoutMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ready;
        }
        try (Memory fds = new Memory(8L * sockets.length)) {
            for (int i = 0; i < sockets.length; i++) {
                fds.setInt(8L * i, sockets[i].fd.get());
                fds.setShort(8L * i + 4, (short) (POLLIN | POLLERR));
                fds.setShort(8L * i + 6, (short) 0);
            }
            try {
                if (LibC.poll(fds, sockets.length, timeoutMillis) <= 0) {
                    return ready;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() == 4) {
                    return ready;
                }
                throw error("poll", e);
            }
            for (int i = 0; i < sockets.length; i++) {
                short revents = fds.getShort(8L * i + 6);
                ready[i] = ((revents & POLLIN) != 0 ? READABLE : 0) | ((revents & POLLERR) != 0 ? ERROR : 0);
            }
            return ready;
        }
    }

    /**
     * Takes one datagram without waiting.
     *
     * @param into       receives the payload; for raw IPv4 ICMP it starts with the IP header
     * @param errorQueue take from the error queue instead (the payload is then the sent packet)
     * @return the datagram, or null if there is none
     */
    public Received receive(byte[] into, boolean errorQueue) throws NativeException {
        synchronized (receiveLock) {
            iov.setPointer(0, receiveBuffer);
            iov.setLong(8, Math.min(into.length, receiveBuffer.size()));
            message.clear();
            message.setPointer(0, receiveAddress);
            message.setInt(8, 28);
            message.setPointer(16, iov);
            message.setLong(24, 1);
            message.setPointer(32, control);
            message.setLong(40, control.size());
            long n;
            try {
                n = LibC.recvmsg(fd(), message, MSG_DONTWAIT | (errorQueue ? MSG_ERRQUEUE : 0));
            } catch (LastErrorException e) {
                // a pending ICMP error reported by a normal read: the error queue holds it
                if (e.getErrorCode() == EAGAIN || (!errorQueue && pendingIcmpError(e))) {
                    return null;
                }
                throw error("recvmsg", e);
            }
            int length = (int) Math.min(n, into.length);
            receiveBuffer.read(0, into, 0, length);
            InetAddress source = readAddress(receiveAddress, message.getInt(8));
            long time = 0;
            int ttl = -1;
            SocketError error = null;
            long controlLength = message.getLong(40);
            long offset = 0;
            while (offset + 16 <= controlLength) {
                long cmsgLength = control.getLong(offset);
                if (cmsgLength < 16) {
                    break;
                }
                int level = control.getInt(offset + 8);
                int type = control.getInt(offset + 12);
                long data = offset + 16;
                if (level == SOL_SOCKET && type == SO_TIMESTAMPNS) {
                    time = control.getLong(data) * 1_000_000_000L + control.getLong(data + 8);
                } else if ((level == 0 && type == IP_TTL) || (level == 41 && type == IPV6_HOPLIMIT)) {
                    ttl = control.getInt(data);
                } else if ((level == 0 && type == IP_RECVERR) || (level == 41 && type == IPV6_RECVERR)) {
                    // struct sock_extended_err, then the offender's sockaddr
                    int errno = control.getInt(data);
                    int origin = control.getByte(data + 4) & 0xff;
                    int icmpType = control.getByte(data + 5) & 0xff;
                    int icmpCode = control.getByte(data + 6) & 0xff;
                    int info = control.getInt(data + 8);
                    InetAddress offender = cmsgLength >= 16 + 16 + 8
                            ? readAddress(control.share(data + 16), (int) (cmsgLength - 32)) : null;
                    error = new SocketError(errno, origin, icmpType, icmpCode, offender, info);
                }
                offset += (cmsgLength + 7) & ~7L;
            }
            return new Received(length, source, time, ttl, error);
        }
    }

    @Override
    public void close() {
        int f = fd.getAndSet(-1);
        if (f >= 0) {
            try {
                LibC.close(f);
            } catch (LastErrorException e) {
                // EBADF cannot happen (the number was ours alone); EINTR/EIO: the descriptor is released anyway on Linux
            }
        }
    }

    public boolean isOpen() {
        return fd.get() >= 0;
    }

    private int fd() throws NativeException {
        int f = fd.get();
        if (f < 0) {
            throw new NativeException("socket", NativeException.EBADF, "the socket is closed");
        }
        return f;
    }

    private int writeAddress(Memory m, InetAddress address, int port) {
        m.clear();
        if (address instanceof Inet4Address) {
            if (family != Family.IPV4) {
                throw new IllegalArgumentException(address + " is not an " + family + " address");
            }
            m.setShort(0, (short) 2);
            m.setShort(2, Short.reverseBytes((short) port));
            m.write(4, address.getAddress(), 0, 4);
            return 16;
        }
        if (family != Family.IPV6) {
            throw new IllegalArgumentException(address + " is not an " + family + " address");
        }
        m.setShort(0, (short) 10);
        m.setShort(2, Short.reverseBytes((short) port));
        m.write(8, address.getAddress(), 0, 16);
        m.setInt(24, ((Inet6Address) address).getScopeId());
        return 28;
    }

    private static InetAddress readAddress(Pointer p, int length) {
        try {
            int af = p.getShort(0);
            if (af == 2 && length >= 8) {
                return InetAddress.getByAddress(p.getByteArray(4, 4));
            }
            if (af == 10 && length >= 24) {
                return InetAddress.getByAddress(p.getByteArray(8, 16));
            }
        } catch (UnknownHostException e) {
            // cannot happen for 4 or 16 bytes
        }
        return null;
    }

    private static NativeException error(String call, LastErrorException e) {
        int errno = e.getErrorCode();
        String detail;
        try {
            detail = LibC.strerror(errno);
        } catch (RuntimeException | LinkageError ex) {
            detail = e.getMessage();
        }
        return new NativeException(call, errno, detail);
    }
}
