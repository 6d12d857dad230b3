package io.sonde.exporter.internal;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The networks {@code /probe} may reach ({@code probe_allow}): CIDR blocks, IPv4 or IPv6,
 * comma-separated; an address alone is its own /32 or /128. Empty: every address.
 */
final class Networks {

    private record Block(byte[] network, int bits, String text) {
        boolean contains(byte[] a) {
            if (a.length != network.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != network[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            return rest == 0 || ((a[full] ^ network[full]) & (0xff << (8 - rest)) & 0xff) == 0;
        }
    }

    private final List<Block> blocks;
    private final String text;

    private Networks(List<Block> blocks, String text) {
        this.blocks = blocks;
        this.text = text;
    }

    static final Networks ANY = new Networks(List.of(), "");

    /**
     * @throws IllegalArgumentException naming the block that is not one
     */
    static Networks parse(String list) {
        if (list == null || list.isBlank()) {
            return ANY;
        }
        List<Block> out = new ArrayList<>();
        for (String raw : list.split(",")) {
            String b = raw.strip();
            if (b.isEmpty()) {
                continue;
            }
            String ip = b.contains("/") ? b.substring(0, b.indexOf('/')) : b;
            if (!ip.matches("[0-9A-Fa-f:.]+") || !(ip.contains(".") || ip.contains(":"))) {
                throw new IllegalArgumentException("'" + b + "' is not a network (10.0.0.0/8, fd00::/8, 198.18.0.7)");
            }
            byte[] net = literal(ip);
            if (net == null) {
                throw new IllegalArgumentException("'" + b + "' is not a network (10.0.0.0/8, fd00::/8, 198.18.0.7)");
            }
            int bits = net.length * 8;
            if (b.contains("/")) {
                try {
                    bits = Integer.parseInt(b.substring(b.indexOf('/') + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > net.length * 8) {
                    throw new IllegalArgumentException("'" + b + "': the prefix length is not 0 to " + net.length * 8);
                }
                if (!new BigInteger(1, net).shiftLeft(bits).mod(BigInteger.ONE.shiftLeft(net.length * 8)).equals(BigInteger.ZERO)) {
                    throw new IllegalArgumentException("'" + b + "' has bits set after its prefix");
                }
            }
            out.add(new Block(net, bits, b));
        }
        return new Networks(List.copyOf(out), String.join(", ", out.stream().map(Block::text).toList()));
    }

    private static final java.util.regex.Pattern IPV4 =
            java.util.regex.Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");

    /** @return the bytes of an IP literal, or null; never a name look-up (an IPv4 text that is not a literal would be one) */
    static byte[] literal(String ip) {
        if (ip.indexOf(':') < 0) {
            if (!IPV4.matcher(ip).matches()) {
                return null;
            }
            String[] p = ip.split("\\.");
            return new byte[] {(byte) Integer.parseInt(p[0]), (byte) Integer.parseInt(p[1]), (byte) Integer.parseInt(p[2]),
                    (byte) Integer.parseInt(p[3])};
        }
        try {
            return InetAddress.getByName(ip).getAddress(); // with a ':' only an IPv6 literal is taken, never a name
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** @return whether every address is allowed */
    boolean any() {
        return blocks.isEmpty();
    }

    boolean allows(InetAddress a) {
        if (blocks.isEmpty()) {
            return true;
        }
        byte[] bytes = a.getAddress();
        for (Block b : blocks) {
            if (b.contains(bytes)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return text;
    }
}
