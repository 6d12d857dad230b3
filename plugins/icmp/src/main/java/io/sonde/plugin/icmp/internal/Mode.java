package io.sonde.plugin.icmp.internal;

import io.sonde.sockets.Family;

/** How the agent sends ICMP echo requests, best first. */
enum Mode {
    /** Unprivileged ICMP datagram sockets: the process's group is in net.ipv4.ping_group_range. */
    DATAGRAM,
    /** Raw ICMP sockets: root or CAP_NET_RAW. */
    RAW,
    /** The system's ping binary, its output parsed: a round per process, coarser timing. */
    PING,
    /** None of the above: probes fail and say what to change. */
    NONE;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** What the operator can do when no way to send ICMP is open. */
    static String advice(Family family, String lastError) {
        return "cannot send ICMP echo over " + family + (lastError == null ? "" : " (" + lastError + ")")
                + ": allow unprivileged ICMP with 'sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"' (or a range"
                + " holding the agent's group), or give Java CAP_NET_RAW with 'setcap cap_net_raw+ep <path of java>',"
                + " or install a ping binary (Debian: iputils-ping)";
    }
}
