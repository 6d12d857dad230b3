package io.sonde.server.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.Secrets;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.Principal;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * The one authentication of the API and the dashboard: a bearer credential (the admin token, kept
 * in {@code data/admin.token}, 0600, made at first start; a user's API token; an agent's) or a
 * dashboard session's cookie, whose changes must carry its CSRF token. It puts the
 * {@link Principal} into the request; what a principal may do, each endpoint decides. Only
 * enrollment, logging in, the login page and the dashboard's assets, and the API's description
 * are open; a dashboard page without a session redirects to the login page.
 */
@Component(service = {Filter.class, Authenticator.class, io.prometheus.client.Collector.class})
@HttpWhiteboardFilterPattern({"/api/*", "/ui/*"})
public final class Authenticator extends io.prometheus.client.Collector implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
    static final String ADMIN_PREFIX = "sonde_admin_";

    private final byte[] adminHash;
    private final AtomicLong failures = new AtomicLong();

    /** An agent's credential that worked: taken again while the store's credentials' epoch stays {@code epoch}. */
    private record Known(Principal principal, long epoch, Store store) {
    }

    /** The most agents' credentials kept; beyond, all go (and are looked up again). */
    static final int MAX_KNOWN = 200_000;
    /** By the credential's SHA-256. */
    private final java.util.Map<java.nio.ByteBuffer, Known> known = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong checksKept = new AtomicLong();
    private final AtomicLong checksLookedUp = new AtomicLong();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Store store;

    @Activate
    public Authenticator(BundleContext context) throws IOException {
        Path home = io.sonde.base.Home.of(context::getProperty);
        Path file = home.resolve("data").resolve("admin.token");
        if (!Files.exists(file)) {
            Secrets.writePrivate(file, (Secrets.token(ADMIN_PREFIX) + "\n").getBytes(StandardCharsets.US_ASCII));
            LOG.info("Admin token written to {} (mode 0600): use it as the bearer token of admin requests", file);
        } else {
            LOG.info("Admin token: {}", file);
        }
        adminHash = Secrets.sha256(Files.readString(file, StandardCharsets.US_ASCII).strip());
    }

    /** Its metrics, served at the server's /metrics (a Collector service, by DS). */
    @Override
    public java.util.List<MetricFamilySamples> collect() {
        io.prometheus.client.CounterMetricFamily checks = new io.prometheus.client.CounterMetricFamily(
                "sonde_server_agent_credential_checks_total", "Agents' credentials checked: from a check kept since no"
                        + " credential stopped working (kept), or in the store (store)", java.util.List.of("by"));
        checks.addMetric(java.util.List.of("kept"), checksKept.get());
        checks.addMetric(java.util.List.of("store"), checksLookedUp.get());
        return java.util.List.of(new io.prometheus.client.CounterMetricFamily("sonde_server_auth_failures_total",
                "API requests refused for a missing, unknown or revoked credential", failures.get()), checks);
    }

    /** The cookie of a dashboard session. */
    static final String COOKIE = "sonde_session";
    /** The header every change made with a session must carry, with the session's CSRF token. */
    static final String CSRF_HEADER = "X-CSRF-Token";
    /** The request attribute with the session a request carries (its CSRF token, for the session API). */
    static final String SESSION_ATTRIBUTE = "io.sonde.server.session";
    /** An API token's prefix: it says the token is a user's, not an agent's. */
    static final String USER_TOKEN_PREFIX = "sonde_user_";
    /** The dashboard's name for the admin token. */
    static final String ADMIN_USER = "admin";

    static boolean isOpen(String method, String path) {
        return ("POST".equals(method) && ("/api/v1/enroll".equals(path) || "/api/v1/session".equals(path)))
                || ("GET".equals(method) && ("/api/v1/openapi.json".equals(path) || path.startsWith("/api/docs")
                        || "/ui/login".equals(path) || path.startsWith("/ui/assets/") || path.startsWith("/ui/vendor/")
                        || path.startsWith("/status/"))); // the public status pages: they show only what an admin chose
    }

    /**
     * @return whether a browser's request comes from one of the server's own pages: no Origin header
     *         (not a browser's cross-site request), or an Origin with the host the request was sent to
     */
    static boolean sameOrigin(HttpServletRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null) {
            return true;
        }
        try {
            java.net.URI o = new java.net.URI(origin.strip());
            if (o.getScheme() == null || o.getHost() == null) {
                return false; // "null": a sandboxed or file page
            }
            // the host only: behind a proxy that ends TLS the scheme and port the server sees are not the page's
            return o.getHost().equalsIgnoreCase(request.getServerName());
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    /**
     * @return what is wrong with a query string's encoding (a percent escape that is not two hex
     *         digits, bytes that are not UTF-8), or null: every parameter a servlet reads decodes
     */
    static String queryProblem(String query) {
        if (query == null || query.indexOf('%') < 0) {
            return null;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(query.length());
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c == '%') {
                if (i + 2 >= query.length() || Character.digit(query.charAt(i + 1), 16) < 0 || Character.digit(query.charAt(i + 2), 16) < 0) {
                    return "'" + io.sonde.wire.WireCodec.abbreviate(query.substring(i, Math.min(query.length(), i + 3)))
                            + "' at " + i + " is not a percent escape (% and two hex digits)";
                }
                bytes.write(Character.digit(query.charAt(i + 1), 16) * 16 + Character.digit(query.charAt(i + 2), 16));
                i += 2;
            } else if (c == '&' || c == '=') {
                bytes.write('&'); // a boundary: an escape sequence does not run over it
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
            }
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
            return null;
        } catch (java.nio.charset.CharacterCodingException e) {
            return "its percent escapes are not UTF-8";
        }
    }

    static boolean isChange(String method) {
        return !("GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method));
    }

    /** @return the session cookie's value, or null */
    static String sessionCookie(HttpServletRequest request) {
        jakarta.servlet.http.Cookie[] cookies = request.getCookies();
        if (cookies != null) {
            for (jakarta.servlet.http.Cookie c : cookies) {
                if (COOKIE.equals(c.getName()) && c.getValue() != null && !c.getValue().isBlank()) {
                    return c.getValue();
                }
            }
        }
        return null;
    }

    /** @return the origin credentials made by the admin (logged in with the admin token) carry: a rotated token ends them */
    String adminOrigin() {
        return io.sonde.server.spi.UserCredential.originOf(java.util.HexFormat.of().formatHex(adminHash));
    }

    /** @return whether the admin token is this secret */
    boolean isAdminToken(String secret) {
        return MessageDigest.isEqual(Secrets.sha256(secret), adminHash);
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String badQuery = queryProblem(request.getQueryString());
        if (badQuery != null) {
            Api.error(response, 400, "the query string: " + badQuery);
            return;
        }
        // the path as the servlets see it: decoded and with its dot segments resolved, never the raw one
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        boolean page = path.equals("/ui") || path.startsWith("/ui/");
        String header = request.getHeader("Authorization");
        String cookie = sessionCookie(request);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            if (cookie != null) {
                session(cookie, path, request, response, chain, page);
                return;
            }
            if (isOpen(request.getMethod(), path)) {
                chain.doFilter(req, res);
                return;
            }
            if (page) {
                response.sendRedirect("/ui/login");
                return;
            }
            refuse(response, "a bearer credential is needed (Authorization: Bearer ...), or a dashboard session");
            return;
        }
        String secret = header.substring(7).strip();
        byte[] hash = Secrets.sha256(secret);
        if (MessageDigest.isEqual(hash, adminHash)) {
            request.setAttribute(Principal.ATTRIBUTE, Principal.ADMIN);
            chain.doFilter(req, res);
            return;
        }
        Store s = store;
        if (s == null) {
            response.setHeader("Retry-After", "5");
            Api.error(response, 503, "the store is not available yet");
            return;
        }
        try {
            if (secret.startsWith(USER_TOKEN_PREFIX)) {
                Principal p = user(s, hash, io.sonde.server.spi.UserCredential.TOKEN, request);
                if (p == null) {
                    refuse(response, "the API token is not known, or expired, or its user was deleted, or their password (or the admin"
                            + " token it was made with) changed since");
                    return;
                }
                request.setAttribute(Principal.ATTRIBUTE, p);
                chain.doFilter(req, res);
                return;
            }
            // an agent's credential checked a moment ago is taken while no credential stopped working since (the store's epoch)
            long epoch = s.credentialsEpoch();
            java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(hash);
            Known k = epoch < 0 ? null : known.get(key);
            if (k != null && k.epoch() == epoch && k.store() == s) {
                checksKept.incrementAndGet();
                request.setAttribute(Principal.ATTRIBUTE, k.principal());
                chain.doFilter(req, res);
                return;
            }
            checksLookedUp.incrementAndGet();
            Optional<AgentRecord> agent = s.agentByCredential(hash);
            if (agent.isEmpty()) {
                refuse(response, "the credential is not known");
                return;
            }
            if (agent.get().revokedAt() != null) {
                refuse(response, "agent '" + agent.get().agentId() + "' was revoked at " + agent.get().revokedAt());
                return;
            }
            Principal p = new Principal(false, agent.get().agentId());
            if (epoch >= 0) { // only credentials that work are kept: unknown ones cannot fill it
                if (known.size() >= MAX_KNOWN) {
                    known.clear();
                }
                known.put(key, new Known(p, epoch, s));
            }
            request.setAttribute(Principal.ATTRIBUTE, p);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 401);
            return;
        }
        chain.doFilter(req, res);
    }

    /** @return the principal of a user's session or token with this hash, or null if there is none, it expired, or its user is gone */
    private Principal user(Store s, byte[] hash, String kind, HttpServletRequest request) throws StoreException {
        Optional<io.sonde.server.spi.UserCredential> c = s.userCredential(hash);
        if (c.isEmpty() || !c.get().kind().equals(kind) || !c.get().expiresAt().isAfter(java.time.Instant.now())) {
            return null;
        }
        String origin = c.get().origin();
        if (c.get().user().equals(ADMIN_USER)) {
            if (!MessageDigest.isEqual(origin.getBytes(StandardCharsets.US_ASCII), adminOrigin().getBytes(StandardCharsets.US_ASCII))) {
                return null; // made with an admin token that was rotated since
            }
            request.setAttribute(SESSION_ATTRIBUTE, c.get());
            return new Principal(true, null, ADMIN_USER); // logged in with the admin token
        }
        Optional<io.sonde.server.spi.User> u = s.user(c.get().user());
        if (u.isEmpty() || !MessageDigest.isEqual(origin.getBytes(StandardCharsets.US_ASCII),
                io.sonde.server.spi.UserCredential.originOf(u.get().passwordHash()).getBytes(StandardCharsets.US_ASCII))) {
            return null; // the user is gone, or their password changed since
        }
        request.setAttribute(SESSION_ATTRIBUTE, c.get());
        return Principal.user(u.get());
    }

    /** A request with a session cookie: known and not expired, and a change carries its CSRF token. */
    private void session(String cookie, String path, HttpServletRequest request, HttpServletResponse response, FilterChain chain, boolean page)
            throws IOException, ServletException {
        Store s = store;
        if (s == null) {
            response.setHeader("Retry-After", "5");
            Api.error(response, 503, "the store is not available yet");
            return;
        }
        Principal p;
        try {
            p = user(s, Secrets.sha256(cookie), io.sonde.server.spi.UserCredential.SESSION, request);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 401);
            return;
        }
        if (p == null) {
            if (isOpen(request.getMethod(), path)) { // a login over an old session
                chain.doFilter(request, response);
            } else if (page) {
                response.sendRedirect("/ui/login");
            } else {
                refuse(response, "the session is not known or expired (or the password it was made with changed): log in again");
            }
            return;
        }
        if (isChange(request.getMethod()) && !sameOrigin(request)) {
            failures.incrementAndGet();
            Api.error(response, 403, "a change from another site (Origin " + io.sonde.wire.WireCodec.abbreviate(request.getHeader("Origin"))
                    + ") is refused");
            return;
        }
        if (isChange(request.getMethod()) && !isOpen(request.getMethod(), path)) { // logging in again needs none
            io.sonde.server.spi.UserCredential c = (io.sonde.server.spi.UserCredential) request.getAttribute(SESSION_ATTRIBUTE);
            String sent = request.getHeader(CSRF_HEADER);
            if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8), c.csrf().getBytes(StandardCharsets.UTF_8))) {
                failures.incrementAndGet();
                Api.error(response, 403, "a change made with a session needs its CSRF token in the " + CSRF_HEADER + " header");
                return;
            }
        }
        request.setAttribute(Principal.ATTRIBUTE, p);
        chain.doFilter(request, response);
    }

    private void refuse(HttpServletResponse response, String why) throws IOException {
        failures.incrementAndGet();
        response.setHeader("WWW-Authenticate", "Bearer realm=\"sonde\"");
        Api.error(response, 401, why);
    }
}
