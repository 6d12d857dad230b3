package io.sonde.core.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.sonde.api.HostForm;
import io.sonde.api.ProbeResult;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/**
 * Probers for the validator's tests, each declaring a schema the way a plugin does: {@code tcp}
 * (a name, a port, {@code close}), {@code http} (a URL), {@code icmp} (two numbers and a check of
 * both), and {@code legacy}, built before schemas existed.
 */
final class TestKinds implements ProberKind.Lookup {

    static final TargetOption CLOSE = TargetOption.choice("close", "fin", "How a connection ends", "fin", "reset");
    static final TargetOption COUNT = TargetOption.integer("count", 3, 1, 1000, "Requests per round");
    static final TargetOption SPACING = TargetOption.integer("packet_interval_ms", 100, 1, 60_000, "Spacing");

    private final Map<String, ProberKind> kinds = new HashMap<>();
    private long nextId = 1;

    static TestKinds standard() {
        TestKinds k = new TestKinds();
        k.put("tcp", TargetSchema.of(HostForm.NAME, true, CLOSE), null);
        k.put("http", TargetSchema.of(HostForm.URL, false, TargetOption.choice("method", "GET", "Method", "GET", "HEAD"),
                TargetOption.text("header.*", null, "A header")), null);
        k.put("icmp", TargetSchema.of(HostForm.NAME, false, COUNT, SPACING), t -> {
            long c = COUNT.longValue(t);
            long s = SPACING.longValue(t);
            return (c - 1) * s >= t.timeout().toMillis()
                    ? List.of(new TargetProblem("count", c + " requests " + s + " ms apart do not fit in the timeout"))
                    : List.of();
        });
        k.put("legacy", null, null);
        return k;
    }

    /** Registers (or replaces) the prober of {@code kind}; a new service id each time. */
    ProberKind put(String kind, TargetSchema schema, java.util.function.Function<Target, List<TargetProblem>> check) {
        return put(kind, schema, check, io.sonde.api.ResultSchema.NONE);
    }

    /** @param results what the kind's results hold and the metric families they make */
    ProberKind put(String kind, TargetSchema schema, java.util.function.Function<Target, List<TargetProblem>> check,
            io.sonde.api.ResultSchema results) {
        Prober p = new Prober() {
            @Override
            public io.sonde.api.ResultSchema resultSchema() {
                return results;
            }

            @Override
            public CompletableFuture<ProbeResult> probe(Target target) {
                throw new AssertionError("not probed here");
            }

            @Override
            public TargetSchema schema() {
                return schema;
            }

            @Override
            public List<TargetProblem> check(Target target) {
                return check == null ? List.of() : check.apply(target);
            }
        };
        ProberKind pk = new ProberKind(p, schema, nextId++, "test." + kind);
        kinds.put(kind, pk);
        return pk;
    }

    void remove(String kind) {
        kinds.remove(kind);
    }

    @Override
    public ProberKind kind(String kind) {
        return kinds.get(kind);
    }
}
