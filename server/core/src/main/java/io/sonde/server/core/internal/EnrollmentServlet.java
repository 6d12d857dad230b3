package io.sonde.server.core.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.Secrets;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.AgentSelector;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.EnrollmentToken;
import io.sonde.server.spi.AgentStore;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.EnrollRequest;
import io.sonde.wire.EnrollResponse;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * {@code POST /api/v1/enrollment-tokens} (admin): a token of first contact with tags and an expiry;
 * {@code POST /api/v1/enroll} (open): an agent presents such a token once and gets its own credential.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/enroll", "/api/v1/enrollment-tokens", "/api/v1/enrollment-tokens/*"})
public final class EnrollmentServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentServlet.class);
    static final long MAX_BODY = 64 * 1024;
    static final Duration DEFAULT_EXPIRY = Duration.ofHours(24);
    static final Duration MAX_EXPIRY = Duration.ofDays(366);
    static final String AGENT_ID = "[A-Za-z0-9][A-Za-z0-9_.-]{0,199}";

    /** The body of a token request. */
    record TokenRequest(List<String> tags, String expiresAt, Boolean singleUse, Boolean agentTags) {
    }

    private final transient AgentStore store;

    @Activate
    public EnrollmentServlet(@Reference AgentStore store) {
        this.store = store;
    }

    /** {@code GET /api/v1/enrollment-tokens} (admin): the tokens that still work, never their secrets. */
    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!"/api/v1/enrollment-tokens".equals(request.getServletPath()) || !Api.requireAdmin(request, response)) {
            if ("/api/v1/enroll".equals(request.getServletPath())) {
                Api.error(response, 405, "POST to /api/v1/enroll");
            }
            return;
        }
        Api.answer(response, () -> {
            List<Map<String, Object>> items = new java.util.ArrayList<>();
            for (io.sonde.server.spi.EnrollmentToken t : store.enrollmentTokens(java.time.Instant.now())) {
                items.add(Map.of("id", t.id(), "tags", t.tags(), "expires_at", t.expiresAt().toString(), "single_use", t.singleUse(),
                        "created_at", t.createdAt().toString(), "agent_tags", t.agentTags()));
            }
            Api.json(response, 200, Map.of("items", items));
        });
    }

    /** {@code DELETE /api/v1/enrollment-tokens/{id}} (admin): the token stops working; agents enrolled with it keep their credentials. */
    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String id = Api.pathName(request);
        Api.answer(response, () -> {
            if (id == null || !id.matches("[0-9]{1,18}") || !store.deleteEnrollmentToken(Long.parseLong(id))) {
                Api.error(response, 404, "no enrollment token " + WireCodec.abbreviate(String.valueOf(id)));
                return;
            }
            LOG.info("Enrollment token {} revoked", id);
            response.setStatus(204);
        });
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            if ("/api/v1/enroll".equals(request.getServletPath())) {
                enroll(request, response);
            } else if (Api.requireAdmin(request, response)) {
                createToken(request, response);
            }
        } catch (WireException e) {
            Api.error(response, Api.status(e), e.getMessage());
        } catch (StoreException e) {
            Api.storeFailed(response, e, 403);
        }
    }

    static List<String> tags(List<String> tags, String field) throws WireException {
        if (tags == null) {
            return List.of();
        }
        if (tags.size() > 64) {
            throw new WireException(WireException.Problem.INVALID, field + ": " + tags.size() + " tags, at most 64");
        }
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (int i = 0; i < tags.size(); i++) {
            String t = tags.get(i);
            if (!AgentSelector.isTag(t)) {
                throw new WireException(WireException.Problem.INVALID, field + "[" + i + "]: '"
                        + (t == null ? "null" : WireCodec.abbreviate(t)) + "' is not a tag (letters, digits, _ . : / = -; at most 100)");
            }
            out.add(t);
        }
        return new ArrayList<>(out);
    }

    private void createToken(HttpServletRequest request, HttpServletResponse response)
            throws IOException, WireException, StoreException {
        TokenRequest req = Api.read(request, MAX_BODY, TokenRequest.class);
        Instant now = Instant.now();
        Instant expires = now.plus(DEFAULT_EXPIRY);
        if (req.expiresAt() != null) {
            try {
                expires = Instant.parse(req.expiresAt());
            } catch (DateTimeParseException e) {
                throw new WireException(WireException.Problem.INVALID, "expires_at: '" + WireCodec.abbreviate(req.expiresAt())
                        + "' is not an RFC 3339 time");
            }
            if (!expires.isAfter(now)) {
                throw new WireException(WireException.Problem.INVALID, "expires_at: " + expires + " has passed");
            }
            if (expires.isAfter(now.plus(MAX_EXPIRY))) {
                throw new WireException(WireException.Problem.INVALID, "expires_at: at most a year from now");
            }
        }
        List<String> tags = tags(req.tags(), "tags");
        boolean single = Boolean.TRUE.equals(req.singleUse());
        boolean agentTags = Boolean.TRUE.equals(req.agentTags());
        String secret = Secrets.token("sonde_enroll_");
        EnrollmentToken t = store.createEnrollmentToken(Secrets.sha256(secret), tags, expires, single, agentTags, now);
        LOG.info("Enrollment token {} made: tags {}, expires {}, single use {}, agents may add tags {}", t.id(), tags, expires, single,
                agentTags);
        Api.json(response, 201, Map.of("token", secret, "id", t.id(), "tags", tags, "expires_at", expires.toString(),
                "single_use", single, "agent_tags", agentTags));
    }

    private void enroll(HttpServletRequest request, HttpServletResponse response)
            throws IOException, WireException, StoreException {
        EnrollRequest req = Api.read(request, MAX_BODY, EnrollRequest.class);
        WireCodec.checkSchema(req.schema(), "enrollment");
        if (req.enrollmentToken() == null || req.enrollmentToken().isBlank()) {
            throw new WireException(WireException.Problem.INVALID, "enrollment_token: missing");
        }
        if (req.agentId() == null || !req.agentId().matches(AGENT_ID)) {
            throw new WireException(WireException.Problem.INVALID, "agent_id: '" + (req.agentId() == null ? "null"
                    : WireCodec.abbreviate(req.agentId())) + "' is not an agent id (letters, digits, _ . -; at most 200)");
        }
        String version = req.version() == null ? "" : WireCodec.abbreviate(req.version());
        List<String> tags = tags(req.tags(), "tags");
        // re-enrolling an existing id proves possession: its current credential as the bearer (the filter checked it)
        io.sonde.server.spi.Principal who = Api.principal(request);
        boolean proven = who != null && who.isAgent(req.agentId());
        if (who != null && !proven) {
            Api.error(response, 403, "the credential sent is not agent '" + WireCodec.abbreviate(req.agentId())
                    + "''s: enroll with none, or with the agent's own");
            return;
        }
        String credential = Secrets.token("sonde_agent_");
        AgentRecord a;
        try {
            a = store.enroll(Secrets.sha256(req.enrollmentToken().strip()), req.agentId(), tags, version,
                    Secrets.sha256(credential), proven, Instant.now());
        } catch (StoreException e) {
            if (e.kind() != StoreException.Kind.UNAVAILABLE) {
                LOG.warn("Enrollment of agent '{}' from {} refused: {}", req.agentId(), request.getRemoteAddr(), e.getMessage());
            }
            if (e.kind() == StoreException.Kind.REFUSED) {
                response.setHeader("WWW-Authenticate", "Bearer realm=\"sonde\"");
                Api.error(response, 401, e.getMessage());
                return;
            }
            throw e;
        }
        LOG.info("Agent '{}' {} from {} (version {}, tags {})", a.agentId(), proven ? "enrolled again (proved its credential)" : "enrolled",
                request.getRemoteAddr(), version, a.tags());
        Api.json(response, 200, new EnrollResponse(WireCodec.SCHEMA, a.agentId(), credential, a.tags()));
    }
}
