package io.sonde.server.core.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Objects;
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
 * The one authentication of the API: a bearer credential, the admin token (kept in
 * {@code data/admin.token}, 0600, made at first start) or an agent's. It puts the
 * {@link Principal} into the request; what a principal may do, each endpoint decides. Only
 * enrollment and the API's description are open.
 */
@Component(service = Filter.class)
@HttpWhiteboardFilterPattern("/api/*")
public final class Authenticator implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(Authenticator.class);
    static final String ADMIN_PREFIX = "sonde_admin_";

    private final byte[] adminHash;
    private final AtomicLong failures = new AtomicLong();
    private final org.osgi.framework.ServiceRegistration<io.prometheus.client.Collector> metrics;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Store store;

    @Activate
    public Authenticator(BundleContext context) throws IOException {
        Path home = Path.of(Objects.requireNonNullElse(context.getProperty("sonde.home"), "."));
        Path file = home.resolve("data").resolve("admin.token");
        if (!Files.exists(file)) {
            Secrets.writePrivate(file, (Secrets.token(ADMIN_PREFIX) + "\n").getBytes(StandardCharsets.US_ASCII));
            LOG.info("Admin token written to {} (mode 0600): use it as the bearer token of admin requests", file);
        } else {
            LOG.info("Admin token: {}", file);
        }
        adminHash = Secrets.sha256(Files.readString(file, StandardCharsets.US_ASCII).strip());
        metrics = context.registerService(io.prometheus.client.Collector.class, new io.prometheus.client.Collector() {
            @Override
            public java.util.List<MetricFamilySamples> collect() {
                return java.util.List.of(new io.prometheus.client.CounterMetricFamily("sonde_server_auth_failures_total",
                        "API requests refused for a missing, unknown or revoked credential", failures.get()));
            }
        }, null);
    }

    @org.osgi.service.component.annotations.Deactivate
    void deactivate() {
        metrics.unregister();
    }

    static boolean isOpen(String method, String path) {
        return ("POST".equals(method) && "/api/v1/enroll".equals(path))
                || ("GET".equals(method) && ("/api/v1/openapi.json".equals(path) || path.startsWith("/api/docs")));
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String path = request.getRequestURI();
        String header = request.getHeader("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            if (isOpen(request.getMethod(), path)) {
                chain.doFilter(req, res);
                return;
            }
            refuse(response, "a bearer credential is needed (Authorization: Bearer ...)");
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
        Optional<AgentRecord> agent;
        try {
            agent = s.agentByCredential(hash);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 401);
            return;
        }
        if (agent.isEmpty()) {
            refuse(response, "the credential is not known");
            return;
        }
        if (agent.get().revokedAt() != null) {
            refuse(response, "agent '" + agent.get().agentId() + "' was revoked at " + agent.get().revokedAt());
            return;
        }
        request.setAttribute(Principal.ATTRIBUTE, new Principal(false, agent.get().agentId()));
        chain.doFilter(req, res);
    }

    private void refuse(HttpServletResponse response, String why) throws IOException {
        failures.incrementAndGet();
        response.setHeader("WWW-Authenticate", "Bearer realm=\"sonde\"");
        Api.error(response, 401, why);
    }
}
