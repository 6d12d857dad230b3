package io.sonde.sockets;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/** An address family. */
public enum Family {
    IPV4(2, 0, 1),
    IPV6(10, 41, 58);

    final int af;
    final int ipLevel;
    final int icmpProtocol;

    Family(int af, int ipLevel, int icmpProtocol) {
        this.af = af;
        this.ipLevel = ipLevel;
        this.icmpProtocol = icmpProtocol;
    }

    /** @return the family of {@code address} */
    public static Family of(InetAddress address) {
        if (address instanceof Inet4Address) {
            return IPV4;
        }
        if (address instanceof Inet6Address) {
            return IPV6;
        }
        throw new IllegalArgumentException("not an IP address: " + address);
    }
}
