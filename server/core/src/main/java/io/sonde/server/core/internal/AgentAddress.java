package io.sonde.server.core.internal;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The address an agent advertises to the peers of its meshes (its status, or an admin's pin): an IP
 * literal or a host name, checked as text (nothing is looked up).
 */
final class AgentAddress {

    private AgentAddress() {
    }

    /** @return the address given, brackets of an IPv6 literal taken off */
    static String of(String given) throws WireException {
        String a = given.strip();
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (!isValid(a)) {
            throw new WireException(WireException.Problem.INVALID, "address: '" + WireCodec.abbreviate(a)
                    + "' is neither an IP address nor a host name (advertise_address in the agent's etc/io.sonde.uplink.cfg)");
        }
        return a;
    }

    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");
    private static final java.util.regex.Pattern LABEL = java.util.regex.Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    /** @return whether the text is an IPv4 or IPv6 literal or a host name (RFC 1123), resolving nothing */
    static boolean isValid(String a) {
        if (a.isEmpty() || a.length() > 253) {
            return false;
        }
        if (a.indexOf(':') >= 0) { // IPv6, maybe with a zone
            String ip = a.indexOf('%') >= 0 ? a.substring(0, a.indexOf('%')) : a;
            if (!ip.matches("[0-9A-Fa-f:.]+") || ip.indexOf(":::") >= 0) {
                return false;
            }
            try {
                return java.net.InetAddress.getByName(ip) instanceof java.net.Inet6Address || ip.contains(".");
            } catch (java.net.UnknownHostException e) {
                return false; // a literal is parsed, never looked up: this is a malformed one
            }
        }
        if (a.matches("[0-9.]+")) {
            return IPV4.matcher(a).matches();
        }
        String name = a.endsWith(".") ? a.substring(0, a.length() - 1) : a;
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }
}
