package io.sonde.api;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * What a kind takes in a target's {@code host}, declared by its {@link TargetSchema}: the one place
 * that says how a host is checked and which name of it is looked up before probing.
 *
 * @since 1.3
 */
public enum HostForm {

    /** A host name or an IPv4/IPv6 address (IPv6 may be in brackets); the name is looked up. */
    NAME,

    /** An {@code http://} or {@code https://} URL; the URL's host is looked up, the URL is probed as written. */
    URL,

    /** Text the kind interprets itself (a device, a queue name): not checked here and never looked up. */
    OTHER;

    /**
     * @param host the target's host, stripped of surrounding blanks and not empty
     * @return what is wrong with {@code host} for this form, as a sentence part, or {@code null}
     */
    public String problem(String host) {
        switch (this) {
            case URL:
                try {
                    URI uri = new URI(host);
                    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                    if (!scheme.equals("http") && !scheme.equals("https")) {
                        return "'" + host + "' is not an http:// or https:// URL";
                    }
                    if (uri.getHost() == null || uri.getHost().isEmpty()) {
                        return "'" + host + "' has no host";
                    }
                    return null;
                } catch (URISyntaxException e) {
                    return "'" + host + "' is not a URL: " + e.getReason();
                }
            case NAME:
                if (host.contains("://")) {
                    return "'" + host + "' looks like a URL; give a host name or address";
                }
                for (int i = 0; i < host.length(); i++) {
                    char c = host.charAt(i);
                    if (Character.isWhitespace(c) || c == '/' || c == '?' || c == '#' || c == '@') {
                        return "'" + host + "' is not a host name or address";
                    }
                }
                return null;
            default:
                return null;
        }
    }

    /**
     * @param host a host that {@link #problem} accepted
     * @return the host as the target keeps it: for {@link #NAME} without IPv6 brackets, else unchanged
     */
    public String normalize(String host) {
        return this == NAME ? unbracket(host) : host;
    }

    /**
     * @param host a host that {@link #problem} accepted
     * @return the name or address to look up before probing, without brackets; {@code null} for {@link #OTHER}
     */
    public String lookupName(String host) {
        switch (this) {
            case URL:
                return unbracket(URI.create(host).getHost());
            case NAME:
                return unbracket(host);
            default:
                return null;
        }
    }


    private static String unbracket(String h) {
        return h.length() > 1 && h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }
}
