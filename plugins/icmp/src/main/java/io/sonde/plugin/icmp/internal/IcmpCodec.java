package io.sonde.plugin.icmp.internal;

import io.sonde.sockets.Family;

/**
 * ICMP echo packets: building requests and reading what comes back, for datagram and raw sockets,
 * IPv4 and IPv6. Pure functions on byte arrays.
 */
final class IcmpCodec {

    static final int HEADER = 8;
    static final int PAYLOAD = 16;
    /** The largest payload an echo request may carry: what fits in an IPv4 packet. */
    static final int MAX_PAYLOAD = 65_507 - 8;

    /** What a received packet is to us. */
    enum Kind { ECHO_REPLY, UNREACHABLE, OTHER }

    /**
     * A parsed packet: for an echo reply its own identifier, sequence and payload offset; for an
     * unreachable error those of the request it quotes.
     */
    record Parsed(Kind kind, int identifier, int sequence, int payloadOffset, int payloadLength, int ttl, int code) {
    }

    private IcmpCodec() {
    }

    static int echoRequestType(Family f) {
        return f == Family.IPV4 ? 8 : 128;
    }

    static int echoReplyType(Family f) {
        return f == Family.IPV4 ? 0 : 129;
    }

    static int unreachableType(Family f) {
        return f == Family.IPV4 ? 3 : 1;
    }

    /**
     * Writes an echo request into {@code out} (at least {@link #HEADER} + {@link #PAYLOAD} bytes):
     * the payload carries {@code nonce} and {@code index} so that a reply can be checked.
     *
     * @return the packet's length
     */
    static int echoRequest(Family f, byte[] out, int identifier, int sequence, long nonce, int index) {
        return echoRequest(f, out, identifier, sequence, nonce, index, PAYLOAD);
    }

    /**
     * As {@link #echoRequest(Family, byte[], int, int, long, int)}, with {@code payload} bytes after
     * the header ({@link #PAYLOAD} or more): Sonde's 16, then a counting pattern as ping sends.
     */
    static int echoRequest(Family f, byte[] out, int identifier, int sequence, long nonce, int index, int payload) {
        out[0] = (byte) echoRequestType(f);
        out[1] = 0;
        out[2] = 0;
        out[3] = 0;
        putShort(out, 4, identifier);
        putShort(out, 6, sequence);
        putLong(out, 8, nonce);
        putInt(out, 16, index);
        putInt(out, 20, 0x534f4e44); // "SOND"
        int length = HEADER + Math.max(PAYLOAD, payload);
        for (int i = HEADER + PAYLOAD; i < length; i++) {
            out[i] = (byte) i;
        }
        if (f == Family.IPV4) { // the kernel computes ICMPv6 checksums itself, and IPv4 ones on datagram sockets
            putShort(out, 2, checksum(out, 0, length));
        }
        return length;
    }

    /** @return true if the payload at {@code offset} is the one sent with {@code nonce} and {@code index} */
    static boolean payloadMatches(byte[] in, int offset, int length, long nonce, int index) {
        return length >= PAYLOAD && getLong(in, offset) == nonce && getInt(in, offset + 8) == index
                && getInt(in, offset + 12) == 0x534f4e44;
    }

    /**
     * Reads a packet received on an ICMP socket.
     *
     * @param raw true for a raw socket: IPv4 packets then start with their IP header
     * @param ttl the TTL or hop limit from the socket's control data, or -1
     */
    static Parsed parse(Family f, boolean raw, byte[] in, int length, int ttl) {
        int at = 0;
        if (raw && f == Family.IPV4) {
            if (length < 20) {
                return null;
            }
            at = (in[0] & 0x0f) * 4;
            if (ttl < 0) {
                ttl = in[8] & 0xff;
            }
        }
        if (length - at < HEADER) {
            return null;
        }
        int type = in[at] & 0xff;
        int code = in[at + 1] & 0xff;
        if (type == echoReplyType(f)) {
            return new Parsed(Kind.ECHO_REPLY, getShort(in, at + 4), getShort(in, at + 6), at + HEADER,
                    length - at - HEADER, ttl, code);
        }
        if (type == unreachableType(f)) {
            // quotes the request: (IPv4 header +) ICMP header of our echo request
            int q = at + HEADER;
            if (f == Family.IPV4) {
                if (length - q < 20) {
                    return null;
                }
                q += (in[q] & 0x0f) * 4;
            } else {
                q += 40;
            }
            if (length - q < HEADER || (in[q] & 0xff) != echoRequestType(f)) {
                return null;
            }
            return new Parsed(Kind.UNREACHABLE, getShort(in, q + 4), getShort(in, q + 6), q + HEADER,
                    length - q - HEADER, ttl, code);
        }
        return new Parsed(Kind.OTHER, 0, 0, 0, 0, ttl, code);
    }

    /** The Internet checksum (RFC 1071) of {@code length} bytes from {@code offset}. */
    static int checksum(byte[] b, int offset, int length) {
        long sum = 0;
        int i = offset;
        for (; i + 1 < offset + length; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if (i < offset + length) {
            sum += (b[i] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }

    static int getShort(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    static void putInt(byte[] b, int at, int v) {
        putShort(b, at, v >>> 16);
        putShort(b, at + 2, v);
    }

    static int getInt(byte[] b, int at) {
        return (getShort(b, at) << 16) | getShort(b, at + 2);
    }

    static void putLong(byte[] b, int at, long v) {
        putInt(b, at, (int) (v >>> 32));
        putInt(b, at + 4, (int) v);
    }

    static long getLong(byte[] b, int at) {
        return ((long) getInt(b, at) << 32) | (getInt(b, at + 4) & 0xffffffffL);
    }
}
