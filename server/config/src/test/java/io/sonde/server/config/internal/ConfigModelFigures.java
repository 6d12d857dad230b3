package io.sonde.server.config.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Definition;

/**
 * The figure of docs/performance.md for documents: every agent's document from the definitions,
 * model included, for 10,000 agents, 20 meshes and 1,000 targets by tag. Not a test: run after
 * {@code mvn -pl server/config -am test-compile} with {@code java -cp <the module's
 * classes, test classes, and the gson, api, wire and server-spi jars>
 * io.sonde.server.config.internal.ConfigModelFigures [agents] [meshes] [targets]}.
 */
public final class ConfigModelFigures {

    private ConfigModelFigures() {
    }

    public static void main(String[] args) {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int meshes = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int targets = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
        Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
        String[] regions = {"eu", "us", "ap"};
        List<AgentRecord> fleet = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            fleet.add(new AgentRecord("agent-" + i, List.of(regions[i % 3], "site=s" + (i % meshes), i % 10 == 0 ? "edge" : "core"),
                    "v", t0, t0, null, 0, "127.0." + (i / 250) + "." + (i % 250 + 1)));
        }
        List<Definition> defs = new ArrayList<>();
        for (int i = 0; i < targets; i++) {
            String selector = switch (i % 4) {
                case 0 -> regions[i % 3];
                case 1 -> regions[i % 3] + " AND NOT edge";
                case 2 -> "site=s" + (i % meshes) + " OR edge";
                default -> "*";
            };
            defs.add(new Definition(Definition.TARGET, "t" + i, "{\"name\":\"t" + i + "\",\"agents\":\"" + selector
                    + "\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + (1000 + i) + ",\"interval_ms\":10000}", t0));
        }
        List<Definition> meshDefs = new ArrayList<>();
        for (int m = 0; m < meshes; m++) {
            meshDefs.add(new Definition(Definition.MESH, "m" + m, "{\"name\":\"m" + m + "\",\"members\":\"" + (m == 0 ? "eu" : "site=s" + m)
                    + "\",\"fanout\":10,\"interval_ms\":30000,\"kinds\":{\"icmp\":{},\"tcp\":{\"port\":7}}}", t0));
        }
        long[] times = new long[7];
        long bytes = 0;
        for (int round = -2; round < times.length; round++) {
            long start = System.nanoTime();
            ConfigModel model = new ConfigModel(defs, meshDefs, fleet);
            long sum = 0;
            for (AgentRecord a : fleet) {
                sum += model.document(a.agentId()).orElseThrow().json().length();
            }
            if (round >= 0) {
                times[round] = System.nanoTime() - start;
                bytes = sum;
            }
        }
        Arrays.sort(times);
        System.out.printf("%,d agents, %d meshes (fan-out 10, icmp + tcp), %,d targets by tag: every document in %.0f ms median "
                + "(min %.0f, max %.0f of %d), %,d bytes of JSON in all (%,d a document)%n", agents, meshes, targets, times[3] / 1e6,
                times[0] / 1e6, times[6] / 1e6, times.length, bytes, bytes / agents);
    }
}
