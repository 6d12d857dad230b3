package io.sonde.sockets;

import java.net.InetAddress;

/**
 * One datagram taken from a socket.
 *
 * @param length         bytes written into the caller's buffer
 * @param source         the sender
 * @param kernelTimeNanos when the kernel received it, nanoseconds since the epoch, or 0 if the
 *                       socket has no timestamps enabled
 * @param ttl            TTL (IPv4) or hop limit (IPv6) of the packet, or -1 if not asked for
 * @param error          for a message from the error queue, what the kernel reported; else null
 */
public record Received(int length, InetAddress source, long kernelTimeNanos, int ttl, SocketError error) {
}
