package io.sonde.server.core.internal;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.Principal;
import io.sonde.server.spi.ResultIngest;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.AgentStatus;
import io.sonde.wire.BatchAck;
import io.sonde.wire.ResultBatch;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

// Over 500 lines: the agent resource's seven endpoints (list, one, delete, reset, address, results, status) under one path and one set of access rules; admission is AgentAdmission's, the views AgentView's, the address and configuration checks AgentAddress' and AgentConfigReport's.
/**
 * The agents: {@code GET /api/v1/agents} and {@code GET|DELETE /api/v1/agents/{id}} (admin);
 * {@code GET /api/v1/agents/{id}/config} (admin, or the agent itself);
 * {@code POST /api/v1/agents/{id}/results} and {@code .../status} (the agent itself).
 */
@Component(service = Servlet.class, configurationPid = ServerConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@HttpWhiteboardServletPattern({"/api/v1/agents", "/api/v1/agents/*"})
public final class AgentsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AgentsServlet.class);

    private final transient Store store;
    private final transient ResultIngest ingest;
    private final Duration offlineAfter;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private transient volatile AgentConfigs configs;

    @Activate
    public AgentsServlet(@Reference Store store, @Reference ResultIngest ingest, @Reference io.sonde.server.spi.OfflineRule offline,
            @Reference AgentStatusCounts statuses, ServerConfig config) {
        this.store = store;
        this.statuses = statuses;
        this.ingest = ingest;
        this.offlineAfter = offline.offlineAfter();
        this.advertised = config.advertised__addresses();
        this.lastSeen = new LastSeen(store, offlineAfter.toMillis());
    }

    /** When each agent was last heard and what its status said of its spool, written together. */
    private final transient LastSeen lastSeen;
    /** The configuration report each agent last made to this instance and it wrote, its time left out. */
    private final transient Map<String, AgentRecord.ConfigReport> reported = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * The kinds an agent last announced in full to this instance: {@code stored}, the SHA-256 of what
     * was written (a status that carries the same is not written again); {@code as}, the hash the
     * agent gave them (its later statuses name them by it), or null from an agent before wire 1.5.
     */
    private record Announced(byte[] stored, String as) {
    }

    private final transient Map<String, Announced> announced = new java.util.concurrent.ConcurrentHashMap<>();
    /** What each agent's status last told this instance of itself and it wrote (version, address), and when. */
    private final transient Map<String, Told> told = new java.util.concurrent.ConcurrentHashMap<>();

    /** An agent's version and address as a status said them, when they were written, and when it last said them. */
    private record Told(String version, String address, String source, long writtenAt, long heardAt) {
        boolean same(Told o) {
            return version.equals(o.version) && java.util.Objects.equals(address, o.address) && source.equals(o.source);
        }
    }

    /**
     * How long a version and address this instance wrote stand before a status writes them again
     * though they did not change: another instance over the same store may have written others.
     */
    static final long TOLD_FOR_MS = 300_000;

    /** Statuses by what they said of the agent's kinds: in full, by their hash, by a hash this instance asked to be resent, nothing. */
    private final transient AgentStatusCounts statuses;

    @Deactivate
    void deactivate() {
        lastSeen.close();
    }

    /**
     * The answer to a stored batch, with the cadence bounded by a third of the "offline after"
     * time (an agent that sends is never taken for offline) and the version of the agent's
     * configuration document, so that it asks for the document only when it changed.
     */
    private BatchAck answer(String agentId, BatchAck ack) {
        String version = null;
        AgentConfigs documents = configs;
        if (documents != null) {
            try {
                version = documents.version(agentId).orElse(null);
            } catch (StoreException e) {
                version = null; // the agent asks for its document as it always did
            }
        }
        // no status of this agent since this instance started (or its credential was reset): asked for one
        return ack.with(Math.min(ack.batchIntervalMs(), offlineAfter.toMillis() / 3), version, !told.containsKey(agentId));
    }

    /** @return the spool count a batch's header tells: -1 when there is none, -2 when it is not a count */
    static long spoolRecords(String header) {
        if (header == null) {
            return -1;
        }
        String v = header.strip();
        if (v.isEmpty() || v.length() > 19 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -2;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return -2; // beyond a long
        }
    }

    private final boolean advertised;

    /**
     * {@code GET /api/v1/agents/{id}/config} (the admin, or the agent itself): the agent's
     * configuration document, its version as the entity tag ({@code If-None-Match} answered 304),
     * gzip where the client takes it.
     */
    private void config(String agentId, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal who = Api.principal(request);
        if (who == null || !(who.mayRead() || who.isAgent(agentId))) {
            Api.error(response, who == null ? 401 : 403, who == null ? "a credential is needed"
                    : "this credential may not read the configuration of agent '" + WireCodec.abbreviate(agentId) + "'");
            return;
        }
        AgentConfigs documents = configs;
        if (documents == null) {
            response.setHeader("Retry-After", "5");
            Api.error(response, 503, "the configuration service is not running");
            return;
        }
        Api.answer(response, () -> {
            String match = request.getHeader("If-None-Match");
            if (match != null) { // the agent has a version: the version alone may answer
                Optional<String> version = documents.version(agentId);
                String etag = version.map(v -> "\"" + v + "\"").orElse(null);
                if (etag != null && (match.strip().equals(etag) || match.strip().equals("W/" + etag))) {
                    response.setHeader("ETag", etag);
                    response.setHeader("Cache-Control", "no-cache");
                    response.setStatus(304);
                    return;
                }
            }
            Optional<AgentConfigs.Document> doc = documents.document(agentId);
            if (doc.isEmpty()) {
                Api.error(response, 404, "no agent '" + WireCodec.abbreviate(agentId) + "'");
                return;
            }
            response.setHeader("ETag", "\"" + doc.get().version() + "\"");
            response.setHeader("Cache-Control", "no-cache");
            byte[] body = doc.get().json().getBytes(StandardCharsets.UTF_8);
            String accept = request.getHeader("Accept-Encoding");
            if (accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("gzip")) {
                body = WireCodec.gzip(body);
                response.setHeader("Content-Encoding", "gzip");
            }
            response.setStatus(200);
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            response.setContentLength(body.length);
            try (java.io.OutputStream out = response.getOutputStream()) {
                out.write(body);
            }
        });
    }

    /** @return {id} and the rest of the path after /api/v1/agents, or null for the list itself */
    private static String[] parts(HttpServletRequest request) {
        String info = request.getPathInfo();
        if (info == null || info.equals("/")) {
            return null;
        }
        String[] p = info.substring(1).split("/", 2);
        p[0] = URLDecoder.decode(p[0], StandardCharsets.UTF_8);
        return p.length == 2 ? p : new String[] {p[0], ""};
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String[] p = parts(request);
        if (p != null && p[1].equals("config")) {
            config(p[0], request, response);
            return;
        }
        if (!Api.requireRead(request, response)) {
            return;
        }
        Api.answer(response, () -> {
            Instant now = Instant.now();
            if (p == null) {
                String staleOnly = request.getParameter("stale");
                if (staleOnly != null && !staleOnly.equals("true") && !staleOnly.equals("false")) {
                    Api.error(response, 400, "stale: '" + WireCodec.abbreviate(staleOnly) + "' is neither true nor false");
                    return;
                }
                io.sonde.server.spi.AgentSelector selector = io.sonde.server.spi.AgentSelector.ALL;
                String selectorText = request.getParameter("selector");
                if (selectorText != null) {
                    try {
                        selector = io.sonde.server.spi.AgentSelector.parse(selectorText);
                    } catch (io.sonde.server.spi.AgentSelector.ParseException e) {
                        Api.error(response, 400, "selector: " + e.getMessage());
                        return;
                    }
                }
                int limit;
                try {
                    limit = pageLimit(request.getParameter("limit"));
                } catch (WireException e) {
                    Api.error(response, 400, e.getMessage());
                    return;
                }
                String after = request.getParameter("after"); // the last agent id of the page before: the next page starts past it
                List<AgentRecord> all = new ArrayList<>(store.agents());
                all.sort(java.util.Comparator.comparing(AgentRecord::agentId)); // one order on every database, the cursor's
                List<Map<String, Object>> items = new ArrayList<>();
                Map<String, Integer> summary = new LinkedHashMap<>();
                for (String k : List.of("online", "offline", "stale", "refusing", "revoked")) {
                    summary.put(k, 0);
                }
                int total = 0;
                String next = null;
                for (AgentRecord a : all) {
                    if (!selector.matches(a.tags())) {
                        continue; // the preview of a selector: the agents it takes now
                    }
                    Map<String, Object> v = AgentView.of(a, now, configs, offlineAfter);
                    @SuppressWarnings("unchecked")
                    boolean stale = (Boolean) ((Map<String, Object>) v.get("config")).get("stale");
                    if (staleOnly != null && stale != staleOnly.equals("true")) {
                        continue;
                    }
                    total++;
                    boolean revoked = a.revokedAt() != null;
                    summary.merge(revoked ? "revoked" : (Boolean) v.get("online") ? "online" : "offline", 1, Integer::sum);
                    summary.merge("stale", stale ? 1 : 0, Integer::sum);
                    summary.merge("refusing", (Integer) v.get("refused") > 0 ? 1 : 0, Integer::sum);
                    if (after != null && a.agentId().compareTo(after) <= 0) {
                        continue;
                    }
                    if (items.size() < limit) {
                        items.add(v);
                    } else if (next == null) {
                        next = (String) items.get(items.size() - 1).get("agent_id");
                    }
                }
                Map<String, Object> page = new LinkedHashMap<>();
                page.put("items", items);
                page.put("next", next);
                page.put("total", total);
                page.put("summary", summary);
                Api.json(response, 200, page);
                return;
            }
            if (!p[1].isEmpty()) {
                Api.error(response, 404, "no such resource: " + request.getRequestURI());
                return;
            }
            for (AgentRecord a : store.agents()) {
                if (a.agentId().equals(p[0])) {
                    Map<String, Object> v = AgentView.of(a, now, configs, offlineAfter);
                    v.put("sequence", AgentView.sequence(store.epochCounts(a.agentId())));
                    Api.json(response, 200, v);
                    return;
                }
            }
            Api.error(response, 404, "no agent '" + WireCodec.abbreviate(p[0]) + "'");
        });
    }

    /** The agents one page of the list holds unless {@code limit} says otherwise, and the most it may say. */
    static final int DEFAULT_PAGE = 1000;
    static final int MAX_PAGE = 10_000;

    /** @return the page size {@code limit} asks for */
    static int pageLimit(String text) throws WireException {
        if (text == null) {
            return DEFAULT_PAGE;
        }
        try {
            int n = Integer.parseInt(text.strip());
            if (n >= 1 && n <= MAX_PAGE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new WireException(WireException.Problem.INVALID, "limit: '" + WireCodec.abbreviate(text) + "' is not a whole number from 1 to "
                + MAX_PAGE);
    }

    /** {@code PUT /api/v1/agents/{id}/tags} (admin): {@code {"tags": [...]}} in place of the agent's tags; its documents follow within seconds. */
    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String[] p = parts(request);
        if (p != null && p[1].equals("address")) {
            pinAddress(p[0], request, response);
            return;
        }
        if (p == null || !p[1].equals("tags")) {
            Api.error(response, 405, "PUT an agent's tags at /api/v1/agents/{agent_id}/tags, or its address at .../address");
            return;
        }
        try {
            record Tags(List<String> tags) {
            }
            Tags body = Api.read(request, 64 * 1024, Tags.class);
            if (body == null || body.tags() == null) {
                throw new io.sonde.wire.WireException(io.sonde.wire.WireException.Problem.INVALID, "tags: missing (a list, maybe empty)");
            }
            List<String> tags = EnrollmentServlet.tags(body.tags(), "tags");
            if (!store.setAgentTags(p[0], tags)) {
                Api.error(response, 404, "no agent '" + WireCodec.abbreviate(p[0]) + "'");
                return;
            }
            LOG.info("Agent '{}' tagged {}", p[0], tags);
            Api.json(response, 200, Map.of("agent_id", p[0], "tags", tags));
        } catch (io.sonde.wire.WireException e) {
            Api.error(response, Api.status(e), e.getMessage());
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }

    /**
     * {@code PUT /api/v1/agents/{id}/address} (admin): {@code {"address": "10.0.0.5"}} pins the
     * address the agent's mesh peers probe it at, whatever it says or connects from;
     * {@code {"address": null}} takes the agent's own again.
     */
    private void pinAddress(String agentId, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Api.answer(response, () -> {
            com.google.gson.JsonObject body = Api.read(request, 4096, com.google.gson.JsonObject.class);
            com.google.gson.JsonElement e = body == null ? null : body.get("address");
            if (body == null || !body.has("address") || !(e.isJsonNull() || e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
                throw new WireException(WireException.Problem.INVALID, "address: an IP address or a host name, or null to unpin");
            }
            String pin = e.isJsonNull() ? null : AgentAddress.of(e.getAsString());
            if (!store.pinAgentAddress(agentId, pin)) {
                Api.error(response, 404, "no agent '" + WireCodec.abbreviate(agentId) + "'");
                return;
            }
            LOG.info("Agent '{}': address {}", WireCodec.abbreviate(agentId), pin == null ? "unpinned" : "pinned to " + pin);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("agent_id", agentId);
            m.put("address", pin);
            m.put("address_source", pin == null ? null : AgentRecord.PINNED);
            Api.json(response, 200, m);
        });
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String[] p = parts(request);
        if (p == null || !p[1].isEmpty()) {
            Api.error(response, 405, "DELETE takes one agent: /api/v1/agents/{agent_id}");
            return;
        }
        Api.answer(response, () -> {
            if (store.revokeAgent(p[0], Instant.now())) {
                LOG.info("Agent '{}' revoked", p[0]);
                response.setStatus(204);
            } else {
                Api.error(response, 404, "no agent '" + WireCodec.abbreviate(p[0]) + "'");
            }
        });
    }

    /**
     * {@code POST /api/v1/agents/{id}/reset} (admin): the agent's credential stops working at once;
     * the agent (or a new host under its id) enrolls again with an enrollment token and keeps its
     * results, tags and spool. For a lost or stolen credential, or an agent locked out.
     */
    private void reset(String agentId, HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        Api.answer(response, () -> {
            Optional<AgentRecord> a = store.agents().stream().filter(x -> x.agentId().equals(agentId)).findFirst();
            if (a.isEmpty()) {
                Api.error(response, 404, "no agent '" + WireCodec.abbreviate(agentId) + "'");
                return;
            }
            if (a.get().revokedAt() != null) {
                Api.error(response, 409, "agent '" + WireCodec.abbreviate(agentId) + "' was revoked at " + a.get().revokedAt()
                        + ": a revoked id never enrolls again");
                return;
            }
            store.resetAgentCredential(agentId);
            reported.remove(agentId); // what it says after enrolling again is written again
            announced.remove(agentId);
            told.remove(agentId);
            LOG.info("Agent '{}': credential reset by an admin; it enrolls again with an enrollment token", WireCodec.abbreviate(agentId));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("agent_id", agentId);
            m.put("reset", true);
            m.put("next", "the agent's credential no longer works: give it an enrollment token (enrollment_token in its"
                    + " etc/io.sonde.uplink.cfg) and it enrolls again under its id, keeping its spool");
            Api.json(response, 200, m);
        });
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String[] p = parts(request);
        if (p != null && p[1].equals("reset")) {
            reset(p[0], request, response);
            return;
        }
        if (p == null || !(p[1].equals("results") || p[1].equals("status"))) {
            Api.error(response, 404, "no such resource: POST " + request.getRequestURI());
            return;
        }
        Principal who = Api.principal(request);
        if (who == null || !who.isAgent(p[0])) {
            Api.error(response, who == null ? 401 : 403, who == null ? "a credential is needed"
                    : "this credential may not write for agent '" + WireCodec.abbreviate(p[0]) + "'");
            return;
        }
        try {
            if (p[1].equals("results")) {
                String spoolHeader = request.getHeader(ResultBatch.SPOOL_HEADER);
                long spool = spoolRecords(spoolHeader);
                if (spool < -1) {
                    Api.error(response, 400, "header " + ResultBatch.SPOOL_HEADER + ": the results left in the spool must be a whole"
                            + " number from 0 to " + Long.MAX_VALUE + ", not '" + WireCodec.abbreviate(spoolHeader) + "'");
                    return;
                }
                BatchAck ack = ingest.ingest(p[0], request.getInputStream(), Api.isGzip(request));
                // written with the others' within seconds; the spool count the batch tells, or the last status's
                lastSeen.heard(p[0], System.currentTimeMillis(), spool);
                Api.json(response, 200, answer(p[0], ack));
            } else {
                AgentStatus s = Api.read(request, 512 * 1024, AgentStatus.class);
                WireCodec.checkSchema(s.schema(), "status");
                if (s.kindsHash() != null && !s.kindsHash().matches("[0-9a-f]{64}")) {
                    Api.error(response, 400, "status: kinds_hash must be a SHA-256 in 64 lower-case hex digits, not '"
                            + WireCodec.abbreviate(s.kindsHash()) + "'");
                    return;
                }
                // the kinds named by their hash only, and this instance does not hold them under it: asked for
                Announced was = announced.get(p[0]);
                boolean kindsWanted = s.kinds() == null && s.kindsHash() != null && (was == null || !s.kindsHash().equals(was.as()));
                // checked whole before anything of it is kept
                boolean own = advertised && s.address() != null && !s.address().isBlank();
                String address = own ? AgentAddress.of(s.address()) : request.getRemoteAddr();
                Instant now = Instant.now();
                AgentRecord.ConfigReport report = s.configVersion() != null || s.configSource() != null ? AgentConfigReport.of(s, now) : null;
                // what an agent announces every 15 s mostly did not change: checked and written only when it did
                byte[] announcement = s.kinds() == null ? null : io.sonde.server.spi.Secrets.sha256(s.kinds().toString());
                boolean newKinds = announcement != null && (was == null || !java.util.Arrays.equals(announcement, was.stored()));
                String kinds = newKinds ? io.sonde.server.spi.AnnouncedKinds.check(s.kinds()).toString() : null;
                AgentRecord.ConfigReport said = report == null ? null : new AgentRecord.ConfigReport(report.version(), report.source(),
                        report.rejected(), Instant.EPOCH, report.updates());
                boolean newReport = said != null && !said.equals(reported.get(p[0]));
                long ms = now.toEpochMilli();
                Told t = new Told(s.version() == null ? "" : WireCodec.abbreviate(s.version()), address,
                        own ? AgentRecord.ADVERTISED : AgentRecord.CONNECTION, ms, ms);
                Told before = told.get(p[0]);
                // an agent silent for half its offline time may be listed offline now: written at once, so it is listed back
                boolean quiet = before != null && before.same(t) && ms - before.writtenAt() < TOLD_FOR_MS
                        && ms - before.heardAt() < offlineAfter.toMillis() / 2;
                if (quiet) {
                    // nothing but its time and spool changed: written with the others' within seconds
                    lastSeen.heard(p[0], ms, Math.max(0, s.spoolRecords()));
                }
                // what changed, in one write (an agent's first status: its time, its document's report, its kinds); the
                // report's time is when the agent began to report it
                store.status(p[0], quiet ? null : new Store.Touch(now, t.version(), Math.max(0, s.spoolRecords()), address, t.source()),
                        newReport ? report : null, newKinds ? kinds : null);
                if (quiet) {
                    told.put(p[0], new Told(before.version(), before.address(), before.source(), before.writtenAt(), ms));
                } else {
                    told.put(p[0], t);
                }
                if (newReport) {
                    reported.put(p[0], said);
                }
                if (announcement != null) {
                    announced.put(p[0], new Announced(announcement, s.kindsHash() != null ? s.kindsHash() : was == null ? null : was.as()));
                }
                statuses.counted(s.kinds() != null ? "full" : kindsWanted ? "asked" : s.kindsHash() != null ? "hash" : "none");
                if (kindsWanted) {
                    Api.json(response, 200, new io.sonde.wire.StatusAck(WireCodec.SCHEMA, true));
                } else {
                    response.setStatus(204);
                }
            }
        } catch (WireException e) {
            Api.error(response, Api.status(e), e.getMessage());
        } catch (ResultIngest.Busy e) {
            response.setHeader("Retry-After", Integer.toString(e.retryAfterSeconds()));
            // the connection stays when the body was read: the agent sends again on it, after Retry-After (and its jitter)
            Api.json(response, 429, new io.sonde.wire.ErrorDocument(e.getMessage()), !e.bodyRead());
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }
}
