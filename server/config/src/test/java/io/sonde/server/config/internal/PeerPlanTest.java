package io.sonde.server.config.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.Test;

public class PeerPlanTest {

    static List<String> agents(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("agent-" + i + ".example");
        }
        return ids;
    }

    /** Every member probes exactly the fan-out, never itself, never one peer twice. */
    static void wellFormed(PeerPlan plan, int members, int fanout) {
        assertEquals(members, plan.peers().size());
        for (Map.Entry<String, List<String>> e : plan.peers().entrySet()) {
            assertEquals(e.getKey(), fanout, e.getValue().size());
            assertFalse(e.getKey() + " probes itself", e.getValue().contains(e.getKey()));
            assertEquals(e.getKey() + " probes a peer twice", fanout, new HashSet<>(e.getValue()).size());
        }
    }

    @Test
    public void aThousandMembersWithFanoutTenAreEachProbedByEightToTwelve() {
        PeerPlan plan = PeerPlan.of("backbone", agents(1000), 10);
        wellFormed(plan, 1000, 10);
        assertEquals(10, plan.fanout());
        assertTrue("fewest probers " + plan.minInDegree(), plan.minInDegree() >= 8);
        assertTrue("most probers " + plan.maxInDegree(), plan.maxInDegree() <= 12);
    }

    @Test
    public void theSpreadOfProbersStaysNarrowAtEverySize() {
        for (int n : new int[] {5, 12, 50, 200, 3000}) {
            for (int k : new int[] {1, 3, 10}) {
                if (k >= n - 1) {
                    continue;
                }
                PeerPlan plan = PeerPlan.of("m", agents(n), k);
                wellFormed(plan, n, k);
                assertTrue(n + "/" + k + ": fewest probers " + plan.minInDegree(), plan.minInDegree() >= Math.max(1, k - 3));
                assertTrue(n + "/" + k + ": most probers " + plan.maxInDegree(), plan.maxInDegree() <= k + 3);
            }
        }
    }

    @Test
    public void oneMemberLeavingOrJoiningMovesAboutTheFanoutNotTheWholePlan() {
        List<String> ids = agents(1000);
        PeerPlan all = PeerPlan.of("backbone", ids, 10);
        int worst = 0;
        long sum = 0;
        for (int i = 0; i < ids.size(); i++) { // every member in turn
            List<String> without = new ArrayList<>(ids);
            without.remove(i);
            PeerPlan less = PeerPlan.of("backbone", without, 10);
            int moved = PeerPlan.moved(all, less);
            worst = Math.max(worst, moved);
            sum += moved;
            if (i < 50) {
                assertEquals("joining again restores the plan", all.peers(), PeerPlan.of("backbone", ids, 10).peers());
                int back = PeerPlan.moved(less, all);
                assertTrue("joining moved " + back, back <= 30);
            }
        }
        assertTrue("the most a departure moved: " + worst, worst <= 30);
        assertTrue("on average about the fan-out: " + sum / 1000.0, sum / 1000.0 <= 12);
    }

    @Test
    public void everyInstanceComputesTheSamePlanWhateverOrderItReadsTheMembersIn() {
        List<String> ids = agents(300);
        PeerPlan a = PeerPlan.of("eu-mesh", ids, 5);
        List<String> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled, new Random(3));
        shuffled.add(ids.get(7)); // read twice: counts once
        assertEquals(a.peers(), PeerPlan.of("eu-mesh", shuffled, 5).peers());
        assertNotEquals("another mesh over the same members has other peers", a.peers(), PeerPlan.of("us-mesh", ids, 5).peers());
    }

    /** The hashes are the published ones: a plan may not change with the JVM, the platform or a refactoring. */
    @Test
    public void theHashesAreTheStandardOnes() {
        // FNV-1a 64 test vectors (Fowler, Noll, Vo)
        assertEquals(0xcbf29ce484222325L, PeerPlan.fnv1a(""));
        assertEquals(0xaf63dc4c8601ec8cL, PeerPlan.fnv1a("a"));
        assertEquals(0x85944171f73967e8L, PeerPlan.fnv1a("foobar"));
        // SplitMix64 seeded with 0: its first three outputs
        long state = 0;
        long[] expected = {0xe220a8397b1dcdafL, 0x6e789e6aa1b965f4L, 0x06c45d188009454fL};
        for (long e : expected) {
            state += 0x9E3779B97F4A7C15L;
            assertEquals(e, PeerPlan.mix(state));
        }
    }

    @Test
    public void aFanoutOfTheWholeMeshOrAllIsAFullMesh() {
        for (int fanout : new int[] {PeerPlan.ALL, 5, 6}) {
            PeerPlan plan = PeerPlan.of("full", agents(6), fanout);
            wellFormed(plan, 6, 5);
            assertEquals(5, plan.minInDegree());
            assertEquals(5, plan.maxInDegree());
        }
        PeerPlan nine = PeerPlan.of("full", agents(12), PeerPlan.ALL);
        wellFormed(nine, 12, 11);
    }

    @Test
    public void tinyMeshes() {
        assertTrue(PeerPlan.of("m", List.of(), 3).peers().isEmpty());
        assertEquals(Map.of("a", List.of()), PeerPlan.of("m", List.of("a"), 3).peers());
        assertEquals(Map.of("a", List.of("b"), "b", List.of("a")), PeerPlan.of("m", List.of("b", "a"), 3).peers());
        wellFormed(PeerPlan.of("m", agents(3), 1), 3, 1);
        assertEquals(1, PeerPlan.of("m", agents(3), 1).minInDegree());
    }

    @Test
    public void aFanoutUnderOneIsRefused() {
        for (int bad : new int[] {0, -1, Integer.MIN_VALUE}) {
            try {
                PeerPlan.of("m", agents(3), bad);
                fail("accepted " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("fanout: " + bad));
            }
        }
    }
}
