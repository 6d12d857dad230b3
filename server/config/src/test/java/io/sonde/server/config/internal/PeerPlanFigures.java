package io.sonde.server.config.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The figures of docs/performance.md for peer assignment: the hash rings beside plain rendezvous
 * hashing (each member takes its {@code k} peers of highest weight) on the same members. Not a
 * test: run after {@code mvn -pl server/config -am test-compile} with
 * {@code java -cp server/config/target/classes:server/config/target/test-classes
 * io.sonde.server.config.internal.PeerPlanFigures [members] [fanout]}.
 */
public final class PeerPlanFigures {

    private PeerPlanFigures() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int k = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        List<String> ids = PeerPlanTest.agents(n);
        System.out.printf("%d members, fan-out %d%n", n, k);
        report("hash rings (PeerPlan)", ids, m -> PeerPlan.of("backbone", m, k).peers());
        report("rendezvous, k highest weights", ids, m -> rendezvous("backbone", m, k));
        for (int size : new int[] {1000, 10_000}) {
            List<String> many = PeerPlanTest.agents(size);
            for (int warm = 0; warm < 5; warm++) {
                PeerPlan.of("warm" + warm, many, k);
            }
            long[] times = new long[9];
            for (int i = 0; i < times.length; i++) {
                long t0 = System.nanoTime();
                PeerPlan.of("mesh" + i, many, k);
                times[i] = System.nanoTime() - t0;
            }
            Arrays.sort(times);
            System.out.printf("planning %,d members with fan-out %d: median %.1f ms (min %.1f, max %.1f)%n", size, k, times[4] / 1e6,
                    times[0] / 1e6, times[8] / 1e6);
        }
    }

    interface Planner {
        Map<String, List<String>> plan(List<String> members);
    }

    static void report(String name, List<String> ids, Planner planner) {
        Map<String, List<String>> all = planner.plan(ids);
        Map<String, Integer> in = new HashMap<>();
        all.values().forEach(l -> l.forEach(d -> in.merge(d, 1, Integer::sum)));
        int min = ids.stream().mapToInt(id -> in.getOrDefault(id, 0)).min().orElse(0);
        int max = ids.stream().mapToInt(id -> in.getOrDefault(id, 0)).max().orElse(0);
        int worst = 0;
        long sum = 0;
        int removals = 0;
        int stride = Math.max(1, ids.size() / 200); // 200 departures spread over the members
        for (int i = 0; i < ids.size(); i += stride) {
            removals++;
            List<String> without = new ArrayList<>(ids);
            without.remove(i);
            Map<String, List<String>> less = planner.plan(without);
            int moved = 0;
            for (Map.Entry<String, List<String>> e : less.entrySet()) {
                List<String> old = all.get(e.getKey());
                moved += (int) e.getValue().stream().filter(p -> !old.contains(p)).count();
            }
            worst = Math.max(worst, moved);
            sum += moved;
        }
        System.out.printf("%-32s probed by %d to %d; one member leaving (%d tried) moves %.1f on average, %d at most%n", name, min, max,
                removals, (double) sum / removals, worst);
    }

    /** Plain rendezvous hashing: each member's k peers of highest weight h(mesh, member, peer). */
    static Map<String, List<String>> rendezvous(String mesh, List<String> members, int k) {
        Map<String, List<String>> out = new HashMap<>();
        long[] base = new long[members.size()];
        for (int i = 0; i < base.length; i++) {
            base[i] = PeerPlan.mix(PeerPlan.fnv1a(mesh + '\u0000' + members.get(i)));
        }
        for (int s = 0; s < members.size(); s++) {
            long[] w = new long[members.size() - 1];
            int c = 0;
            for (int d = 0; d < members.size(); d++) {
                if (d != s) {
                    long weight = PeerPlan.mix(base[s] * 31 + base[d]) >>> 21;
                    w[c++] = (weight << 20) | d;
                }
            }
            Arrays.sort(w);
            List<String> peers = new ArrayList<>();
            for (int i = w.length - 1; i >= 0 && peers.size() < k; i--) {
                peers.add(members.get((int) (w[i] & (PeerPlan.MAX_MEMBERS - 1))));
            }
            out.put(members.get(s), peers);
        }
        return out;
    }
}
