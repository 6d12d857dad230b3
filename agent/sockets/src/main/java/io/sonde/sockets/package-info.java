/**
 * ICMP and UDP sockets the JDK does not offer, through JNA: unprivileged ICMP datagram sockets,
 * raw ICMP sockets, TTL control, kernel receive timestamps and the socket error queue. Linux only.
 *
 * <p>This bundle is part of the agent's base layer and is never updated while the agent runs: a
 * native library cannot be loaded twice in one JVM. Probe plugins that use it can be replaced
 * freely; closing their sockets is their job.
 */
@Export
@Version("2.4.0")
package io.sonde.sockets;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
