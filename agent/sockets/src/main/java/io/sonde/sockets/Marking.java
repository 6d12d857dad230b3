package io.sonde.sockets;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;

/**
 * Where a probe's packets come from and how they are marked, for the kinds whose sockets allow it:
 * {@code source_address} (an address of this host) or {@code source_interface} (its first address
 * of the target's family), and {@code dscp} (a number 0-63 or a name: {@code EF}, {@code AF41},
 * {@code CS6}, {@code LE}, ...), set as the IP TOS byte or IPv6 traffic class. A kind declares the
 * options it honours in its schema ({@link #OPTIONS}); the values are checked here.
 *
 * @since 2.2
 */
public final class Marking {

    public static final TargetOption SOURCE_ADDRESS = TargetOption.text("source_address", null,
            "The address of this host the probe's packets come from");
    public static final TargetOption SOURCE_INTERFACE = TargetOption.text("source_interface", null,
            "The interface whose first address of the target's family the probe's packets come from (instead of source_address)");
    public static final TargetOption DSCP = TargetOption.text("dscp", null,
            "The DSCP mark of the probe's packets: 0-63 or a name (EF, AF11-AF43, CS0-CS7, LE, VA)");

    /** The three options, for a kind's schema. */
    public static final List<TargetOption> OPTIONS = List.of(SOURCE_ADDRESS, SOURCE_INTERFACE, DSCP);

    private static final Map<String, Integer> NAMES = names();

    private Marking() {
    }

    private static Map<String, Integer> names() {
        Map<String, Integer> m = new java.util.HashMap<>();
        for (int i = 0; i <= 7; i++) {
            m.put("CS" + i, i * 8);
        }
        for (int c = 1; c <= 4; c++) {
            for (int d = 1; d <= 3; d++) {
                m.put("AF" + c + d, c * 8 + d * 2);
            }
        }
        m.put("EF", 46);
        m.put("VA", 44);
        m.put("LE", 1);
        return Map.copyOf(m);
    }

    /** @return what is wrong with the target's marking keys, each naming its key */
    public static List<TargetProblem> problems(Target t) {
        List<TargetProblem> out = new ArrayList<>();
        String source = SOURCE_ADDRESS.value(t);
        if (source != null) {
            if (!Resolver.isLiteral(source)) {
                out.add(new TargetProblem(SOURCE_ADDRESS.name(), "'" + source + "' is not an IPv4 or IPv6 address"));
            } else if (t.ipVersion() != 0 && family(literal(source)) != t.ipVersion()) {
                out.add(new TargetProblem(SOURCE_ADDRESS.name(), "'" + source + "' is not an IPv" + t.ipVersion()
                        + " address, as ip_version asks"));
            }
            if (SOURCE_INTERFACE.value(t) != null) {
                out.add(new TargetProblem(SOURCE_INTERFACE.name(), "set source_address or source_interface, not both"));
            }
        }
        String iface = SOURCE_INTERFACE.value(t);
        if (iface != null && !iface.matches("[A-Za-z0-9._@:-]{1,15}")) {
            out.add(new TargetProblem(SOURCE_INTERFACE.name(), "'" + iface + "' is not an interface name"));
        }
        String dscp = DSCP.value(t);
        if (dscp != null && dscp(dscp) < 0) {
            out.add(new TargetProblem(DSCP.name(), "'" + dscp + "' is neither 0-63 nor a DSCP name (EF, AF11-AF43, CS0-CS7, LE, VA)"));
        }
        return out;
    }

    /** @return the code point of {@code text}, or -1 */
    static int dscp(String text) {
        String s = text.strip().toUpperCase(Locale.ROOT);
        Integer named = NAMES.get(s);
        if (named != null) {
            return named;
        }
        try {
            int n = Integer.parseInt(s);
            return n >= 0 && n <= 63 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** @return the IP TOS byte (traffic class) the target's {@code dscp} makes, or -1 when it sets none */
    public static int trafficClass(Target t) {
        String dscp = DSCP.value(t);
        return dscp == null ? -1 : dscp(dscp) << 2;
    }

    /**
     * @param destination the address the probe goes to: the source is of its family
     * @return the address to bind the probe's socket to, or null for the system's choice
     * @throws SocketException naming the key when the interface is gone or has no address of that family
     */
    public static InetAddress source(Target t, InetAddress destination) throws SocketException {
        String address = SOURCE_ADDRESS.value(t);
        if (address != null) {
            InetAddress a = literal(address);
            if (family(a) != family(destination)) {
                throw new SocketException("source_address " + address + " is not of the family of " + destination.getHostAddress());
            }
            return a;
        }
        String name = SOURCE_INTERFACE.value(t);
        if (name == null) {
            return null;
        }
        NetworkInterface nic = NetworkInterface.getByName(name);
        if (nic == null) {
            throw new SocketException("source_interface " + name + ": no such interface on this host");
        }
        for (InterfaceAddress ia : nic.getInterfaceAddresses()) {
            InetAddress a = ia.getAddress();
            if (family(a) == family(destination) && !(a instanceof Inet6Address v6 && v6.isLinkLocalAddress()
                    && !(destination instanceof Inet6Address d && d.isLinkLocalAddress()))) {
                return a;
            }
        }
        throw new SocketException("source_interface " + name + " has no IPv" + family(destination) + " address");
    }

    /**
     * Marks {@code socket} with the target's {@code dscp} and binds it to the target's source, before
     * it connects to {@code destination}.
     *
     * @throws java.net.BindException when the source address is not this host's
     * @throws SocketException naming the key when the source cannot be found (see {@link #source})
     */
    public static void apply(Target t, java.net.Socket socket, InetAddress destination) throws java.io.IOException {
        int tos = trafficClass(t);
        if (tos >= 0) {
            socket.setTrafficClass(tos);
        }
        InetAddress source = source(t, destination);
        if (source != null) {
            socket.bind(new java.net.InetSocketAddress(source, 0));
        }
    }

    /**
     * A blocking TCP socket of {@code destination}'s family: the JDK's own sockets are IPv6 sockets
     * that take IPv4 too, on which a traffic class set marks IPv6 packets only; one of the right
     * family marks what it sends.
     */
    public static java.net.Socket socket(InetAddress destination) throws java.io.IOException {
        return channel(destination).socket();
    }

    /** @return a TCP channel of {@code destination}'s family (see {@link #socket}) */
    public static java.nio.channels.SocketChannel channel(InetAddress destination) throws java.io.IOException {
        return java.nio.channels.SocketChannel.open(destination instanceof Inet4Address ? java.net.StandardProtocolFamily.INET
                : java.net.StandardProtocolFamily.INET6);
    }

    private static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address.startsWith("[") ? address.substring(1, address.length() - 1) : address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(address + " is not an address", e); // checked as a literal before
        }
    }

    private static int family(InetAddress a) {
        return a instanceof Inet4Address ? 4 : 6;
    }
}
