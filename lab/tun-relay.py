#!/usr/bin/env python3
"""Delay and loss for the lab without netem: a router sends chosen destinations into a TUN
device, this relay holds each packet for a while (or drops it) and writes it back, and the
router forwards it on (policy routing: what comes in from the TUN device leaves by the main
path). The kernel decrements the TTL twice on the way through the router, once into the device
and once out of it, so the relay gives one back: traceroute sees the same hops as without it.

  tun-relay.py --dev d0 --rule 198.18.7.0/24:20:0 --rule fd00:18:7::/64:20:0 --rule 198.18.8.0/24:5:4

A rule is PREFIX:DELAY_MS:DROP_EVERY; DROP_EVERY n > 0 drops every n-th packet matching it
(deterministic, so a test knows the loss to expect). Packets that match no rule pass at once.
Runs until SIGTERM; started and stopped by router-chain.sh.
"""
import argparse
import fcntl
import heapq
import ipaddress
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


class Rule:
    def __init__(self, text):
        prefix, delay, drop = text.rsplit(":", 2)
        self.network = ipaddress.ip_network(prefix)
        self.delay = float(delay) / 1000.0
        self.drop_every = int(drop)
        self.seen = 0

    def drop(self):
        self.seen += 1
        return self.drop_every > 0 and self.seen % self.drop_every == 0


def ipv4_checksum(header):
    total = 0
    for i in range(0, len(header), 2):
        total += (header[i] << 8) + header[i + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def give_back_hop(packet):
    """Adds one to the TTL / hop limit the second pass through the router will take."""
    p = bytearray(packet)
    if p[0] >> 4 == 4:
        ihl = (p[0] & 0x0F) * 4
        p[8] = min(255, p[8] + 1)
        p[10:12] = b"\0\0"
        p[10:12] = struct.pack("!H", ipv4_checksum(p[:ihl]))
    elif p[0] >> 4 == 6:
        p[7] = min(255, p[7] + 1)
    return bytes(p)


def destination(packet):
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 20:
        return ipaddress.IPv4Address(packet[16:20])
    if version == 6 and len(packet) >= 40:
        return ipaddress.IPv6Address(packet[24:40])
    return None


def main():
    parser = argparse.ArgumentParser(description="delay and drop packets through a TUN device")
    parser.add_argument("--dev", required=True)
    parser.add_argument("--rule", action="append", default=[], type=Rule)
    args = parser.parse_args()

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", args.dev.encode(), IFF_TUN | IFF_NO_PI))
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))

    held = []  # (release time, order, packet)
    order = 0
    while running[0]:
        now = time.monotonic()
        while held and held[0][0] <= now:
            os.write(fd, heapq.heappop(held)[2])
        wait = max(0.0, held[0][0] - now) if held else 0.5
        try:
            ready, _, _ = select.select([fd], [], [], wait)
        except InterruptedError:
            continue
        if not ready:
            continue
        packet = os.read(fd, 65535)
        dst = destination(packet)
        rule = next((r for r in args.rule if dst is not None and dst.version == r.network.version
                     and dst in r.network), None)
        packet = give_back_hop(packet)
        if rule is None:
            os.write(fd, packet)
        elif not rule.drop():
            order += 1
            heapq.heappush(held, (time.monotonic() + rule.delay, order, packet))
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
