package io.sonde.wire;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rules of the agent's side of the contract in {@code etc/io.sonde.uplink.cfg}: the server's
 * URLs and the pin of its CA. The uplink applies them, and {@code sonde-cli validate} checks a file
 * by the same code, so that what validate passes the agent takes.
 *
 * @since 1.2
 */
public final class UplinkSettings {

    private UplinkSettings() {
    }

    /**
     * @param text {@code server_url}: one https URL, or several separated by commas (failover)
     * @return the URLs, each without a trailing slash, in order and once each
     * @throws IllegalArgumentException naming the key and what is wrong
     */
    public static List<URI> serverUrls(String text) {
        LinkedHashSet<URI> out = new LinkedHashSet<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                out.add(serverUrl(part));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("key 'server_url': no URL given");
        }
        return List.copyOf(out);
    }

    /** @return one server URL: https with a host; a plain http one is refused (results and credentials travel over it) */
    public static URI serverUrl(String given) {
        String text = given.strip();
        try {
            URI u = new URI(text);
            if (!"https".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("key 'server_url': '" + text + "' is not an https:// URL with a host");
            }
            String s = u.toString();
            return URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("key 'server_url': '" + text + "' is not a URL: " + e.getMessage());
        }
    }

    /**
     * @param text {@code server_ca_sha256}: 64 hex digits, colons and spaces allowed
     * @return the fingerprint's bytes
     * @throws IllegalArgumentException when it is not a SHA-256 fingerprint (a SHA-1 one is 40 digits)
     */
    public static byte[] fingerprint(String text) {
        String hex = text.replace(":", "").replace(" ", "").strip().toLowerCase(Locale.ROOT);
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("key 'server_ca_sha256': '" + text + "' is not a SHA-256 fingerprint (64 hex digits,"
                    + " colons allowed" + (hex.matches("[0-9a-f]{40}") ? "; this is a SHA-1 one: take -sha256 with openssl" : "") + ")");
        }
        return HexFormat.of().parseHex(hex);
    }

    /**
     * @param props the keys of {@code etc/io.sonde.uplink.cfg}, as text
     * @return what the uplink would refuse of them, one sentence each
     */
    public static List<String> problems(Map<String, String> props) {
        List<String> out = new ArrayList<>();
        String url = props.get("server_url");
        if (url == null || url.isBlank()) {
            out.add("key 'server_url': missing; the server's https:// URL");
        } else {
            try {
                serverUrls(url);
            } catch (IllegalArgumentException e) {
                out.add(e.getMessage());
            }
        }
        String pin = props.get("server_ca_sha256");
        String caFile = props.get("server_ca_file");
        if (pin != null && !pin.isBlank()) {
            try {
                fingerprint(pin);
            } catch (IllegalArgumentException e) {
                out.add(e.getMessage());
            }
        } else if (caFile == null || caFile.isBlank()) {
            out.add("set 'server_ca_sha256' (the fingerprint the server logs at its first start) or 'server_ca_file'");
        }
        return out;
    }
}
