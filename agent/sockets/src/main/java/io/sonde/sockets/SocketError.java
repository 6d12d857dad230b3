package io.sonde.sockets;

import java.net.InetAddress;

/**
 * An error the kernel queued for a socket (IP_RECVERR): typically an ICMP message about a packet
 * the socket sent, such as time exceeded or port unreachable.
 *
 * @param errno    the error the kernel maps it to, for example 113 (EHOSTUNREACH)
 * @param origin   where it came from: 2 = ICMP, 3 = ICMPv6, 1 = local
 * @param type     ICMP type of the message
 * @param code     ICMP code of the message
 * @param offender the address that sent the ICMP message, or null
 * @param info     the kernel's ee_info: for a packet too big (EMSGSIZE), the MTU the offender or the
 *                 local interface reported; else 0
 */
public record SocketError(int errno, int origin, int type, int code, InetAddress offender, int info) {

    /** An error without ee_info. */
    public SocketError(int errno, int origin, int type, int code, InetAddress offender) {
        this(errno, origin, type, code, offender, 0);
    }

    /** {@code origin} of an error raised by this host (a packet larger than the interface's MTU). */
    public static final int ORIGIN_LOCAL = 1;
    /** {@code errno} of a packet too big for the path. */
    public static final int EMSGSIZE = 90;

    /** {@code origin} of an error carried by ICMP. */
    public static final int ORIGIN_ICMP = 2;
    /** {@code origin} of an error carried by ICMPv6. */
    public static final int ORIGIN_ICMP6 = 3;
}
