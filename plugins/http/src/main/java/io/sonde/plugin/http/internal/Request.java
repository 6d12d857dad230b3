package io.sonde.plugin.http.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/**
 * What one {@code kind=http} target asks for, read from its keys: the URL in {@code host}
 * ({@code port} overrides the URL's), the request ({@code method}, {@code header.NAME = value},
 * {@code body} or {@code body_file}, basic or bearer authentication from files), how it travels
 * ({@code proxy_url} unless the host is in {@code no_proxy}, {@code server_name}, {@code ca_file},
 * {@code cert_file} and {@code key_file}, {@code insecure_skip_verify}, {@code ip_version},
 * {@code follow_redirects} and {@code max_redirects}) and what the answer must be
 * ({@code expect_status}, default {@code 2xx}: codes, classes like {@code 3xx} and ranges like
 * {@code 200-204}, comma-separated; {@code body_regex}; the rest in {@link Assertions}).
 *
 * <p>Secrets are read from their files at each probe (so a rotated token is taken at once) and never
 * appear in a result or a message.
 */
record Request(URI url, int port, String method, Map<String, String> headers, StatusSet expect, Pattern bodyRegex,
        int maxRedirects, int ipVersion, String caFile, boolean insecure, String body, String bodyFile, String basicUser,
        String basicPasswordFile, String bearerTokenFile, String serverName, String certFile, String keyFile, URI proxy,
        List<String> noProxy, String httpVersion, Assertions assertions) {

    static final int MAX_REDIRECTS = 10;
    static final String HEADER_PREFIX = "header.";

    static final TargetOption METHOD = TargetOption.choice("method", "GET", "The request method", "GET", "HEAD", "POST", "PUT",
            "PATCH", "DELETE", "OPTIONS");
    static final TargetOption HEADER = TargetOption.text(HEADER_PREFIX + "*", null,
            "A request header: header.NAME = value, for example header.Accept = text/html");
    static final TargetOption BODY = TargetOption.text("body", null, "The request body, sent as written (UTF-8) with its Content-Length");
    static final TargetOption BODY_FILE = TargetOption.file("body_file", "A file whose bytes are the request body (instead of body)");
    static final TargetOption BASIC_AUTH_USER = TargetOption.text("basic_auth_user", null,
            "The user name of HTTP basic authentication (with basic_auth_password_file)");
    static final TargetOption BASIC_AUTH_PASSWORD_FILE = TargetOption.file("basic_auth_password_file",
            "A file holding the basic authentication password (read at each probe, surrounding white space left out)");
    static final TargetOption BEARER_TOKEN_FILE = TargetOption.file("bearer_token_file",
            "A file holding a token sent as Authorization: Bearer (read at each probe, surrounding white space left out)");
    static final TargetOption EXPECT_STATUS = TargetOption.text("expect_status", "2xx",
            "Status codes that count as success: codes (200), classes (2xx) and ranges (200-204), comma-separated");
    static final TargetOption BODY_REGEX = TargetOption.pattern("body_regex",
            "A regular expression the body must match (the first 1 MiB is searched)");
    static final TargetOption FOLLOW_REDIRECTS = TargetOption.bool("follow_redirects", true,
            "Whether to follow redirects (at most max_redirects)");
    static final TargetOption MAX_REDIRECTS_OPTION = TargetOption.integer("max_redirects", MAX_REDIRECTS, 0, 50,
            "The most redirects followed; the answer after them is checked as the final one");
    static final TargetOption CA_FILE = TargetOption.file("ca_file",
            "PEM file of the certificate authorities to trust instead of the system's");
    static final TargetOption CERT_FILE = TargetOption.file("cert_file",
            "PEM file of the client certificate (and its chain) shown to a server that asks for one (with key_file)");
    static final TargetOption KEY_FILE = TargetOption.file("key_file",
            "PEM file of the client certificate's private key, PKCS #8 unencrypted (BEGIN PRIVATE KEY)");
    static final TargetOption SERVER_NAME = TargetOption.text("server_name", null,
            "The name sent in TLS (SNI) and looked for in the server's certificate, instead of the URL's host");
    static final TargetOption INSECURE = TargetOption.bool("insecure_skip_verify", false,
            "Accept any certificate (the expiry is still measured)");
    static final TargetOption PROXY_URL = TargetOption.text("proxy_url", null,
            "An HTTP proxy, http://HOST:PORT: HTTPS goes through it by CONNECT, HTTP as absolute requests");
    static final TargetOption NO_PROXY = TargetOption.text("no_proxy", null,
            "Hosts reached without the proxy, comma-separated: names (a name also covers its subdomains), addresses, or *");

    static final TargetOption HTTP_VERSION = TargetOption.choice("http_version", "auto",
            "The protocol: auto (HTTP/2 where TLS agrees to it by ALPN, else HTTP/1.1, as browsers, curl and blackbox_exporter do), "
                    + "1.1 (HTTP/1.1 only), 2 (HTTP/2 only: by ALPN over TLS, by prior knowledge over http://)",
            "auto", "1.1", "2");

    /** {@code kind=http}: a URL, the port optional (it overrides the URL's). */
    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.URL, false, options());

    private static TargetOption[] options() {
        List<TargetOption> all = new ArrayList<>(List.of(METHOD, HEADER, BODY, BODY_FILE, BASIC_AUTH_USER, BASIC_AUTH_PASSWORD_FILE,
                BEARER_TOKEN_FILE, EXPECT_STATUS, BODY_REGEX, FOLLOW_REDIRECTS, MAX_REDIRECTS_OPTION, CA_FILE, CERT_FILE, KEY_FILE,
                SERVER_NAME, INSECURE, PROXY_URL, NO_PROXY, HTTP_VERSION, io.sonde.sockets.Marking.SOURCE_ADDRESS, io.sonde.sockets.Marking.SOURCE_INTERFACE,
                io.sonde.sockets.Marking.DSCP));
        all.addAll(Assertions.OPTIONS);
        return all.toArray(TargetOption[]::new);
    }

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();
    private static final Map<String, List<JsonCondition>> CONDITIONS = new ConcurrentHashMap<>();

    /** @return what is wrong with the target's keys beyond each one's own type, each naming its key */
    static List<TargetProblem> problems(Target t) {
        List<TargetProblem> out = new ArrayList<>();
        String status = StatusSet.problem(EXPECT_STATUS.value(t));
        if (status != null) {
            out.add(new TargetProblem(EXPECT_STATUS.name(), status));
        }
        if (BODY.value(t) != null && BODY_FILE.value(t) != null) {
            out.add(new TargetProblem(BODY_FILE.name(), "set body or body_file, not both"));
        }
        if (BASIC_AUTH_USER.value(t) != null && BASIC_AUTH_PASSWORD_FILE.value(t) == null) {
            out.add(new TargetProblem(BASIC_AUTH_PASSWORD_FILE.name(), "basic_auth_user needs basic_auth_password_file"));
        }
        if (BASIC_AUTH_PASSWORD_FILE.value(t) != null && BASIC_AUTH_USER.value(t) == null) {
            out.add(new TargetProblem(BASIC_AUTH_USER.name(), "basic_auth_password_file needs basic_auth_user"));
        }
        if (BASIC_AUTH_USER.value(t) != null && BASIC_AUTH_USER.value(t).contains(":")) {
            out.add(new TargetProblem(BASIC_AUTH_USER.name(), "a basic authentication user name has no ':'"));
        }
        if (BEARER_TOKEN_FILE.value(t) != null && BASIC_AUTH_USER.value(t) != null) {
            out.add(new TargetProblem(BEARER_TOKEN_FILE.name(), "set basic authentication or a bearer token, not both"));
        }
        for (String h : t.options().keySet()) {
            if (HEADER.matches(h) && h.substring(HEADER_PREFIX.length()).equalsIgnoreCase("Authorization")
                    && (BEARER_TOKEN_FILE.value(t) != null || BASIC_AUTH_USER.value(t) != null)) {
                out.add(new TargetProblem(h, "an Authorization header beside basic_auth_user or bearer_token_file"));
            }
        }
        if ((CERT_FILE.value(t) == null) != (KEY_FILE.value(t) == null)) {
            out.add(new TargetProblem(CERT_FILE.value(t) == null ? CERT_FILE.name() : KEY_FILE.name(),
                    "a client certificate needs both cert_file and key_file"));
        } else if (CERT_FILE.value(t) != null) {
            String p = Trust.clientKeyProblem(CERT_FILE.value(t), KEY_FILE.value(t));
            if (p != null) {
                out.add(new TargetProblem(p.startsWith("cert_file") ? CERT_FILE.name() : KEY_FILE.name(), p));
            }
        }
        String server = SERVER_NAME.value(t);
        if (server != null && !server.matches("[A-Za-z0-9._-]{1,253}")) {
            out.add(new TargetProblem(SERVER_NAME.name(), "'" + server + "' is not a host name"));
        }
        String proxy = PROXY_URL.value(t);
        if (proxy != null) {
            String p = proxyProblem(proxy);
            if (p != null) {
                out.add(new TargetProblem(PROXY_URL.name(), p));
            }
        }
        if (NO_PROXY.value(t) != null && proxy == null) {
            out.add(new TargetProblem(NO_PROXY.name(), "no_proxy without proxy_url"));
        }
        if ("2".equals(HTTP_VERSION.value(t)) && proxy != null && proxyProblem(proxy) == null && t.host().regionMatches(true, 0, "http:", 0, 5)) {
            String host;
            try {
                host = HostForm.URL.lookupName(t.host());
            } catch (IllegalArgumentException e) {
                host = null; // not a URL: the host's own check says so
            }
            if (host != null && proxied(noProxy(NO_PROXY.value(t)), host)) {
                out.add(new TargetProblem(HTTP_VERSION.name(), "HTTP/2 by prior knowledge does not go through an HTTP proxy (proxy_url): "
                        + "use https:// (a CONNECT tunnel), 1.1 or auto, or no_proxy for the host"));
            }
        }
        out.addAll(Assertions.problems(t));
        out.addAll(io.sonde.sockets.Marking.problems(t));
        return out;
    }

    private static String proxyProblem(String proxy) {
        URI u;
        try {
            u = new URI(proxy);
        } catch (URISyntaxException e) {
            return "'" + proxy + "' is not a URL: " + e.getReason();
        }
        if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
            return "'" + proxy + "' is not http://HOST:PORT (an HTTP proxy; HTTPS goes through it by CONNECT)";
        }
        if (u.getRawUserInfo() != null) {
            return "credentials in proxy_url are not taken: they would be kept in the configuration in clear";
        }
        if (u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/") || u.getRawQuery() != null) {
            return "'" + proxy + "' has a path or a query; a proxy is http://HOST:PORT";
        }
        return null;
    }

    static Request of(Target t) {
        URI url = URI.create(t.host());
        Map<String, String> headers = new LinkedHashMap<>();
        t.options().forEach((k, v) -> {
            if (k.startsWith(HEADER_PREFIX) && k.length() > HEADER_PREFIX.length()) {
                headers.put(k.substring(HEADER_PREFIX.length()), v);
            }
        });
        String regex = BODY_REGEX.value(t);
        String proxy = PROXY_URL.value(t);
        return new Request(url, t.port(), METHOD.value(t), headers, StatusSet.parse(EXPECT_STATUS.value(t)),
                regex == null ? null : PATTERNS.computeIfAbsent(regex, Pattern::compile),
                FOLLOW_REDIRECTS.booleanValue(t) ? MAX_REDIRECTS_OPTION.intValue(t) : 0, t.ipVersion(), CA_FILE.value(t),
                INSECURE.booleanValue(t), BODY.value(t), BODY_FILE.value(t), BASIC_AUTH_USER.value(t),
                BASIC_AUTH_PASSWORD_FILE.value(t), BEARER_TOKEN_FILE.value(t), SERVER_NAME.value(t), CERT_FILE.value(t),
                KEY_FILE.value(t), proxy == null ? null : URI.create(proxy), noProxy(NO_PROXY.value(t)), HTTP_VERSION.value(t),
                Assertions.of(t, PATTERNS, CONDITIONS));
    }

    /** @return {@code no_proxy}'s entries, lower case */
    private static List<String> noProxy(String value) {
        List<String> out = new ArrayList<>();
        if (value != null) {
            for (String h : value.split(",")) {
                if (!h.isBlank()) {
                    out.add(h.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        return List.copyOf(out);
    }

    /** @return whether a request to {@code host} goes through the proxy */
    boolean proxied(String host) {
        return proxy != null && proxied(noProxy, host);
    }

    /** @return whether {@code host} is one the proxy serves, {@code no_proxy} being {@code noProxy} */
    private static boolean proxied(List<String> noProxy, String host) {
        String h = host.toLowerCase(Locale.ROOT);
        for (String n : noProxy) {
            String bare = n.startsWith(".") ? n.substring(1) : n;
            if (n.equals("*") || h.equals(bare) || h.endsWith("." + bare)) {
                return false;
            }
        }
        return true;
    }

    /** @return whether the response's body is kept to be searched */
    boolean keepsBody() {
        return bodyRegex != null || assertions.readsBody();
    }

    /**
     * @return the request body's bytes, empty for none
     * @throws IOException naming {@code body_file} when it cannot be read
     */
    byte[] bodyBytes() throws IOException {
        if (bodyFile != null) {
            try {
                return Files.readAllBytes(Path.of(bodyFile));
            } catch (IOException e) {
                throw new IOException("body_file " + bodyFile + " cannot be read: " + e.getClass().getSimpleName());
            }
        }
        return body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @return the Authorization header's value, or null; read from its file now
     * @throws IOException naming the file (never its content) when it cannot be read
     */
    String authorization() throws IOException {
        if (bearerTokenFile != null) {
            return "Bearer " + secret(BEARER_TOKEN_FILE, bearerTokenFile);
        }
        if (basicUser != null) {
            String pair = basicUser + ":" + secret(BASIC_AUTH_PASSWORD_FILE, basicPasswordFile);
            return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        }
        return null;
    }

    private static String secret(TargetOption key, String file) throws IOException {
        String s;
        try {
            s = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
        } catch (IOException e) { // the exception's text is not the file's, but keep to the class to be sure
            throw new IOException(key.name() + " " + file + " cannot be read: " + e.getClass().getSimpleName());
        }
        if (s.isEmpty() || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            throw new IOException(key.name() + " " + file + (s.isEmpty() ? " is empty" : " holds more than one line"));
        }
        return s;
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
