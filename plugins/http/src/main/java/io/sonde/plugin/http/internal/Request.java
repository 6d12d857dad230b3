package io.sonde.plugin.http.internal;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import io.sonde.api.Target;
import io.sonde.sockets.Resolver;

/**
 * What one {@code kind=http} target asks for, read from its keys: the URL in {@code host}
 * ({@code port} overrides the URL's), {@code method} (GET or HEAD), {@code header.NAME = value},
 * {@code expect_status} (default {@code 2xx}; codes, classes like {@code 3xx} and ranges like
 * {@code 200-204}, comma-separated), {@code body_regex}, {@code follow_redirects} (default true, at
 * most {@value #MAX_REDIRECTS}), {@code ip_version}, {@code ca_file}, {@code insecure_skip_verify}.
 */
record Request(URI url, int port, String method, Map<String, String> headers, StatusSet expect, Pattern bodyRegex,
        boolean followRedirects, int ipVersion, String caFile, boolean insecure) {

    static final int MAX_REDIRECTS = 10;
    static final String HEADER_PREFIX = "header.";

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    static Request of(Target t) {
        URI url = URI.create(t.host());
        Map<String, String> headers = new LinkedHashMap<>();
        t.options().forEach((k, v) -> {
            if (k.startsWith(HEADER_PREFIX) && k.length() > HEADER_PREFIX.length()) {
                headers.put(k.substring(HEADER_PREFIX.length()), v);
            }
        });
        String regex = t.option("body_regex", null);
        return new Request(url, t.port(), t.option("method", "GET").toUpperCase(Locale.ROOT), headers,
                StatusSet.parse(t.option("expect_status", "2xx")),
                regex == null || regex.isEmpty() ? null : PATTERNS.computeIfAbsent(regex, Pattern::compile),
                Boolean.parseBoolean(t.option("follow_redirects", "true")),
                Resolver.ipVersion(t.option(Resolver.IP_VERSION, null)), t.option("ca_file", null),
                Boolean.parseBoolean(t.option("insecure_skip_verify", "false")));
    }

    boolean tls(URI u) {
        return "https".equalsIgnoreCase(u.getScheme());
    }

    /** The port to connect to for {@code u}: the target's {@code port} for its own URL, else the URL's, else the scheme's. */
    int port(URI u) {
        if (u == url && port > 0) {
            return port;
        }
        return u.getPort() > 0 ? u.getPort() : tls(u) ? 443 : 80;
    }

    /** Status codes that count as success. */
    record StatusSet(List<int[]> ranges, String text) {

        static StatusSet parse(String text) {
            List<int[]> ranges = new ArrayList<>();
            for (String part : text.split(",")) {
                String p = part.strip().toLowerCase(Locale.ROOT);
                if (p.isEmpty()) {
                    continue;
                }
                if (p.length() == 3 && p.endsWith("xx") && Character.isDigit(p.charAt(0))) {
                    int c = (p.charAt(0) - '0') * 100;
                    ranges.add(new int[] {c, c + 99});
                } else if (p.contains("-")) {
                    String[] b = p.split("-", 2);
                    ranges.add(new int[] {Integer.parseInt(b[0].strip()), Integer.parseInt(b[1].strip())});
                } else {
                    int c = Integer.parseInt(p);
                    ranges.add(new int[] {c, c});
                }
            }
            if (ranges.isEmpty()) {
                throw new IllegalArgumentException("no status codes in '" + text + "'");
            }
            return new StatusSet(List.copyOf(ranges), text.strip());
        }

        boolean matches(int status) {
            for (int[] r : ranges) {
                if (status >= r[0] && status <= r[1]) {
                    return true;
                }
            }
            return false;
        }
    }
}
