package io.sonde.server.query.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.api.ResultSchema;
import io.sonde.api.TargetSchema;
import io.sonde.server.spi.AnnouncedKinds;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.AgentStore;
import io.sonde.wire.WireCodec;

/**
 * {@code GET /api/v1/kinds}: the probe kinds the agents run, each with the agents that announce
 * it, the options its targets take and what its results hold (values with their types, units and
 * roles; metric families). Where agents announce different schemas of a kind, the one most of them
 * announce. The dashboard draws any kind's results from this, and {@code sonde-cli} lists it.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/api/v1/kinds")
public final class KindsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient AgentStore store;

    @Activate
    public KindsServlet(@Reference AgentStore store) {
        this.store = store;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        Api.answer(response, () -> {
            Api.json(response, 200, Map.of("items", kinds(store.announcedKinds())));
        });
    }

    /** @param announced each agent's announcement, by agent */
    static List<Map<String, Object>> kinds(Map<String, String> announced) {
        Map<String, List<String>> agents = new TreeMap<>();
        announced.forEach((agent, json) -> {
            try {
                for (Map.Entry<String, JsonElement> e : JsonParser.parseString(json).getAsJsonObject().entrySet()) {
                    agents.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(agent);
                }
            } catch (RuntimeException e) {
                // an announcement that is not an object announces nothing
            }
        });
        Map<String, TargetSchema> options = AnnouncedKinds.merge(announced.values());
        Map<String, ResultSchema> results = AnnouncedKinds.results(announced.values());
        List<Map<String, Object>> out = new ArrayList<>();
        agents.forEach((kind, who) -> {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("kind", kind);
            k.put("agents", who);
            TargetSchema o = options.get(kind);
            k.put("options", o == null ? null : WireCodec.gson().toJsonTree(o));
            ResultSchema r = results.get(kind);
            JsonObject rj = r == null ? null : WireCodec.gson().toJsonTree(r).getAsJsonObject();
            k.put("results", rj);
            out.add(k);
        });
        return out;
    }
}
