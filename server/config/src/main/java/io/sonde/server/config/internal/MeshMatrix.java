package io.sonde.server.config.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.SeriesWindow;
import io.sonde.server.spi.ResultStore;
import io.sonde.server.spi.StoreException;

/**
 * A mesh as a source × destination grid over a time range, the view perfSONAR's MaDDash made
 * familiar: per planned pair, from the results the source stored for its target of the peer
 * ({@code mesh/<mesh>/<kind>/<peer>}), the count, loss and median latency over the range, and the
 * state of the last {@link #LAST} of it. An agent that is offline is marked as such, so a dead
 * vantage point is not read as loss on its paths.
 */
final class MeshMatrix {

    /** The stretch at the end of the range that the state of a cell is taken from. */
    static final Duration LAST = Duration.ofMinutes(2);

    /** The range when none is asked for: the last 15 minutes. */
    static final Duration DEFAULT_RANGE = Duration.ofMinutes(15);

    /** The longest range read whole from the raw results; a longer one comes from the rollups, pair by pair. */
    static final Duration RAW_UP_TO = Duration.ofHours(1);

    private MeshMatrix() {
    }

    /** @return the windows by source and target; a pair's kinds are one (a mesh's target names its kind) */
    private static Map<String, SeriesWindow> byPair(List<SeriesWindow> windows) {
        Map<String, SeriesWindow> by = new java.util.HashMap<>();
        for (SeriesWindow w : windows) {
            by.merge(w.agentId() + "\u0000" + w.target(), w, (a, b) -> a.count() >= b.count() ? a : b);
        }
        return by;
    }

    /**
     * @param kind         the kind whose targets are shown
     * @param agents       the agents by id (for online and offline)
     * @param offlineAfter the server's offline rule
     * @return the matrix as the API shows it
     */
    static Map<String, Object> of(ResultStore store, String meshName, ConfigModel.Mesh mesh, String kind, Instant from, Instant to,
            Map<String, AgentRecord> agents, Instant now, Duration offlineAfter) throws StoreException {
        // one step over the whole range, from a whole minute so that it comes from the rollups where it is long; the step
        // starts at the range's start (counted from the epoch, a multiple of the step could split the range in two)
        Instant start = Instant.ofEpochMilli(Math.floorDiv(from.toEpochMilli(), 60_000L) * 60_000L);
        Instant end = Instant.ofEpochMilli(Math.floorDiv(to.toEpochMilli() + 59_999, 60_000L) * 60_000L); // whole minutes: the rollups
        Instant lastFrom = to.minus(LAST).isAfter(from) ? to.minus(LAST) : from;
        List<Map<String, Object>> members = new ArrayList<>();
        for (String m : mesh.members()) {
            AgentRecord a = agents.get(m);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("agent_id", m);
            row.put("online", a != null && a.online(now, offlineAfter));
            members.add(row);
        }
        // the mesh's results at once: every pair's last stretch, and a range of up to RAW_UP_TO whole; a longer range from
        // the rollups, pair by pair (two reads a pair: 9,900 pairs at 100 members took about 3 s, one read of all 0.15 s)
        String prefix = ConfigModel.MESH_PREFIX + meshName + "/" + kind + "/";
        Map<String, SeriesWindow> lastOf = byPair(store.window(prefix, lastFrom, to));
        Map<String, SeriesWindow> wholeOf = Duration.between(from, to).compareTo(RAW_UP_TO) <= 0
                ? byPair(store.window(prefix, from, to)) : null;
        List<Map<String, Object>> cells = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : mesh.plan().peers().entrySet()) {
            String source = e.getKey();
            boolean sourceOnline = agents.containsKey(source) && agents.get(source).online(now, offlineAfter);
            for (String peer : e.getValue()) {
                String target = ConfigModel.MESH_PREFIX + meshName + "/" + kind + "/" + peer;
                Map<String, Object> cell = new LinkedHashMap<>();
                cell.put("source", source);
                cell.put("destination", peer);
                cell.put("target", target); // the pair's results are this target's, the source's
                if (wholeOf != null) {
                    SeriesWindow w = wholeOf.get(source + "\u0000" + target);
                    cell.put("count", w == null ? 0 : w.count());
                    cell.put("loss", w == null ? null : w.loss());
                    cell.put("median_seconds", w == null ? null : w.p50());
                } else {
                    List<SeriesStep> all = store.series(SeriesQuery.whole(source, target, start, end.isAfter(start) ? end : start.plusSeconds(60)));
                    SeriesStep s = all.isEmpty() ? null : all.get(0);
                    cell.put("count", s == null ? 0 : s.count());
                    cell.put("loss", s == null ? null : s.loss());
                    cell.put("median_seconds", s == null ? null : s.p50());
                }
                String state;
                if (!sourceOnline) {
                    state = "source_offline";
                } else if (!(agents.containsKey(peer) && agents.get(peer).online(now, offlineAfter))) {
                    state = "destination_offline";
                } else {
                    SeriesWindow last = lastOf.get(source + "\u0000" + target);
                    long n = last == null ? 0 : last.count();
                    long failed = last == null ? 0 : last.failures();
                    state = n == 0 ? "no_data" : failed == n ? "down" : failed > 0 ? "degraded" : "up";
                }
                cell.put("state", state);
                cells.add(cell);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mesh", meshName);
        out.put("kind", kind);
        out.put("from", from.toString());
        out.put("to", to.toString());
        out.put("members", members);
        out.put("cells", cells);
        return out;
    }
}
