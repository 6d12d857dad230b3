package io.sonde.plugin.http.internal;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;

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

    static final TargetOption METHOD = TargetOption.choice("method", "GET", "The request method", "GET", "HEAD");
    static final TargetOption HEADER = TargetOption.text(HEADER_PREFIX + "*", null,
            "A request header: header.NAME = value, for example header.Accept = text/html");
    static final TargetOption EXPECT_STATUS = TargetOption.text("expect_status", "2xx",
            "Status codes that count as success: codes (200), classes (2xx) and ranges (200-204), comma-separated");
    static final TargetOption BODY_REGEX = TargetOption.pattern("body_regex",
            "A regular expression the body must match (the first 1 MiB is searched)");
    static final TargetOption FOLLOW_REDIRECTS = TargetOption.bool("follow_redirects", true,
            "Whether to follow redirects, at most " + MAX_REDIRECTS);
    static final TargetOption CA_FILE = TargetOption.file("ca_file",
            "PEM file of the certificate authorities to trust instead of the system's");
    static final TargetOption INSECURE = TargetOption.bool("insecure_skip_verify", false,
            "Accept any certificate (the expiry is still measured)");

    /** {@code kind=http}: a URL, the port optional (it overrides the URL's). */
    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.URL, false,
            METHOD, HEADER, EXPECT_STATUS, BODY_REGEX, FOLLOW_REDIRECTS, CA_FILE, INSECURE);

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    static Request of(Target t) {
        URI url = URI.create(t.host());
        Map<String, String> headers = new LinkedHashMap<>();
        t.options().forEach((k, v) -> {
            if (k.startsWith(HEADER_PREFIX) && k.length() > HEADER_PREFIX.length()) {
                headers.put(k.substring(HEADER_PREFIX.length()), v);
            }
        });
        String regex = BODY_REGEX.value(t);
        return new Request(url, t.port(), METHOD.value(t), headers, StatusSet.parse(EXPECT_STATUS.value(t)),
                regex == null ? null : PATTERNS.computeIfAbsent(regex, Pattern::compile),
                FOLLOW_REDIRECTS.booleanValue(t), t.ipVersion(), CA_FILE.value(t), INSECURE.booleanValue(t));
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

        private static final Pattern PART = Pattern.compile("[1-5]xx|[1-5]\\d\\d|[1-5]\\d\\d\\s*-\\s*[1-5]\\d\\d");

        /** @return what is wrong with {@code text} as a list of codes, classes and ranges, or {@code null} */
        static String problem(String text) {
            for (String part : text.split(",")) {
                if (!PART.matcher(part.strip().toLowerCase(Locale.ROOT)).matches()) {
                    return "'" + part.strip() + "' is not a status code (200), a class (2xx) or a range (200-204)";
                }
            }
            return null;
        }

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
