package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.Target;

/** Load shedding under the ceilings: which targets stretch, in which order, and how far. */
public class ResourceGovernorTest {

    private static Target t(String name, String kind, long intervalMs) {
        return new Target(name, kind, "127.0.0.1", 1, Duration.ofMillis(intervalMs), Duration.ofMillis(100), Set.of(), Map.of(), "x");
    }

    /** What the plugins of these kinds declare as probe.cost; "gopher" says nothing. */
    private static final Map<String, Integer> COSTS = Map.of("tcp", 1, "http", 10, "traceroute", 30);

    private static int cost(String kind) {
        return COSTS.getOrDefault(kind, ProberKind.UNKNOWN_COST);
    }

    private static final ResourceGovernor.Usage HOT = new ResourceGovernor.Usage(50, 10L << 20);
    private static final ResourceGovernor.Usage COOL = new ResourceGovernor.Usage(1, 10L << 20);

    @Test
    public void overTheCeilingTheDearestAndMostFrequentStretchFirstAnEighthAtATime() {
        List<Target> targets = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            targets.add(t("tcp" + i, "tcp", 1000));
        }
        targets.add(t("trace", "traceroute", 60_000));
        targets.add(t("fast-http", "http", 500));
        targets.add(t("slow-http", "http", 5000));
        ResourceGovernor g = new ResourceGovernor();
        g.ceilings(new ResourceGovernor.Ceilings(10, 0));
        assertSame("no shedding under the ceiling", targets, g.apply(targets, ResourceGovernorTest::cost));

        ResourceGovernor.Change c = g.sample(HOT);
        assertTrue(c.cpuOver() && c.levelChanged());
        assertEquals(1, g.level());
        List<Target> out = g.apply(targets, ResourceGovernorTest::cost); // 11 targets: the first eighth is one target, the traceroute
        assertEquals(120_000, interval(out, "trace"));
        assertEquals(500, interval(out, "fast-http"));
        g.sample(HOT);
        g.sample(HOT);
        out = g.apply(targets, ResourceGovernorTest::cost); // three eighths: 4 targets, traceroute, the two http (fastest first), a tcp
        assertEquals(1000, interval(out, "fast-http"));
        assertEquals(10_000, interval(out, "slow-http"));
        assertEquals(2000, interval(out, "tcp0"));
        assertEquals(1000, interval(out, "tcp1"));
        assertEquals("timeouts stay", 100, out.get(0).timeout().toMillis());
        for (int i = 0; i < 40; i++) {
            g.sample(HOT);
        }
        assertEquals(ResourceGovernor.MAX_LEVEL, g.level());
        assertEquals("x16 at most", 16_000, interval(g.apply(targets, ResourceGovernorTest::cost), "tcp7"));

        // under the ceiling but above the low water mark: holds; well under: comes down a level a sample
        g.sample(new ResourceGovernor.Usage(9, 0));
        assertEquals(ResourceGovernor.MAX_LEVEL, g.level());
        assertFalse(g.cpuOver());
        g.sample(COOL);
        assertEquals(ResourceGovernor.MAX_LEVEL - 1, g.level());
    }

    @Test
    public void aKindWhosePluginSaysNoCostIsTakenAsDearAndAStatedCostOrdersIt() {
        List<Target> targets = new ArrayList<>(List.of(t("tcp", "tcp", 1000), t("trace", "traceroute", 1000),
                t("gopher", "gopher", 1000), t("web", "http", 1000)));
        ResourceGovernor g = new ResourceGovernor();
        g.ceilings(new ResourceGovernor.Ceilings(10, 0));
        for (int i = 0; i < 4; i++) {
            g.sample(HOT); // half: two of four
        }
        List<Target> out = g.apply(targets, ResourceGovernorTest::cost);
        assertEquals(2000, interval(out, "gopher"));
        assertEquals(2000, interval(out, "trace"));
        assertEquals(1000, interval(out, "web"));
        assertEquals(1000, interval(out, "tcp"));
        assertEquals(ProberKind.UNKNOWN_COST, ProberKind.cost(null));
        assertEquals(ProberKind.UNKNOWN_COST, ProberKind.cost("dear"));
        assertEquals(ProberKind.UNKNOWN_COST, ProberKind.cost(0));
        assertEquals(30, ProberKind.cost(30));
        assertEquals(10, ProberKind.cost(" 10 "));
    }

    @Test
    public void memoryCeilingCountsTooAndNoCeilingMeansNoShedding() {
        ResourceGovernor g = new ResourceGovernor();
        g.ceilings(new ResourceGovernor.Ceilings(0, 64));
        assertTrue(g.sample(new ResourceGovernor.Usage(99, 65L << 20)).memoryOver());
        assertEquals(1, g.level());
        g.ceilings(new ResourceGovernor.Ceilings(0, 0));
        assertEquals(0, g.level());
        assertFalse(g.sample(HOT).levelChanged());
    }

    @Test
    public void cpuTicksAreReadPastACommandNameWithSpaces() {
        String stat = "4242 (java (sonde) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 40 0 100 0 0";
        assertEquals(325, ResourceUsage.cpuTicks(stat));
    }

    private static long interval(List<Target> out, String name) {
        return out.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow().interval().toMillis();
    }
}
