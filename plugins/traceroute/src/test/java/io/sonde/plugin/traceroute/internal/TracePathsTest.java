package io.sonde.plugin.traceroute.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.Target;

/** How a trace on several flows makes its distinct paths from the answers, without a network. */
public class TracePathsTest {

    private static final Target TARGET = new Target("mp", "traceroute", "198.18.9.1", 0, Duration.ofSeconds(60),
            Duration.ofSeconds(5), Set.of(), Map.of(), "test");

    private static InetAddress ip(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    /** A trace of {@code flows} flows (one query) where {@code hops[flow][ttl-1]} answered, null for silence. */
    private static TracerouteResult trace(String[][] hops) throws Exception {
        InetAddress dst = ip("198.18.9.1");
        int flows = hops.length;
        Trace t = new Trace(TARGET, dst, 33434, 8, 1, flows, Duration.ofMillis(100), 42L, Instant.now(), null);
        for (int ttl = 1; ttl <= 4; ttl++) {
            for (int slot = 0; slot < flows; slot++) {
                if (ttl <= hops[slot].length) {
                    t.sent(ttl, slot, Trace.epochNow());
                }
            }
            for (int slot = 0; slot < flows; slot++) {
                String a = ttl <= hops[slot].length ? hops[slot][ttl - 1] : null;
                if (a != null) {
                    boolean atDestination = ip(a).equals(dst);
                    t.answer(ttl, slot, ip(a), 0, false, atDestination ? 3 : 11, atDestination ? 3 : 0);
                }
            }
        }
        return t.finish();
    }

    private static List<String> text(List<InetAddress> hops) {
        List<String> out = new ArrayList<>();
        for (InetAddress a : hops) {
            out.add(a == null ? "*" : io.sonde.api.ResultSchema.text(a));
        }
        return out;
    }

    @Test
    public void aSilentHopOrASilentTailIsNoPathOfItsOwn() throws Exception {
        TracerouteResult r = trace(new String[][] {
                {"198.18.0.2", "198.18.1.2", "198.18.9.1"},
                {"198.18.0.2", null, "198.18.9.1"},
                {"198.18.0.2", "198.18.10.2", "198.18.9.1"},
                {"198.18.0.2", "198.18.10.2", null, null}});
        assertTrue(r.reached());
        assertEquals(2, r.paths().size());
        assertEquals(List.of(0, 1), r.paths().get(0).flows());
        assertEquals(List.of("198.18.0.2", "198.18.1.2", "198.18.9.1"), text(r.paths().get(0).hops()));
        assertEquals(List.of(2, 3), r.paths().get(1).flows());
        assertEquals(List.of("198.18.0.2", "198.18.10.2", "198.18.9.1"), text(r.paths().get(1).hops()));
        assertEquals(2, r.values().get("path_count"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> paths = (List<Map<String, Object>>) r.values().get("paths");
        assertEquals(List.of(2, 3), paths.get(1).get("flows"));
        assertEquals(List.of("198.18.0.2", "198.18.10.2", "198.18.9.1"), paths.get(1).get("hops"));
    }

    @Test
    public void theDestinationAtAnotherHopIsAnotherPath() throws Exception {
        TracerouteResult r = trace(new String[][] {
                {"198.18.0.2", "198.18.9.1"},
                {"198.18.0.2", "198.18.1.2", "198.18.9.1"}});
        assertEquals(2, r.paths().size());
        assertEquals(List.of("198.18.0.2", "198.18.9.1"), text(r.hops().stream().map(TracerouteResult.Hop::address).toList()));
    }

    @Test
    public void theRouteHashIsOfTheSetOfPathsWhicheverFlowsTookThem() throws Exception {
        String[] a = {"198.18.0.2", "198.18.1.2", "198.18.9.1"};
        String[] b = {"198.18.0.2", "198.18.10.2", "198.18.9.1"};
        String[] c = {"198.18.0.2", "198.18.11.2", "198.18.9.1"};
        Object one = trace(new String[][] {a, b, a}).values().get("route_hash");
        Object swapped = trace(new String[][] {b, a, b}).values().get("route_hash");
        Object other = trace(new String[][] {a, c, a}).values().get("route_hash");
        assertEquals(one, swapped);
        assertNotEquals(one, other);
        // one path on every flow hashes as a single flow does
        Object single = trace(new String[][] {a}).values().get("route_hash");
        assertEquals(single, trace(new String[][] {a, a, a}).values().get("route_hash"));
    }
}
