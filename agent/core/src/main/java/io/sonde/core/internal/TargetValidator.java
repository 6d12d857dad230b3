package io.sonde.core.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sonde.agent.spi.ConfigSource;
import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.agent.spi.TargetKeys;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/**
 * Turns one raw configuration entry (a ConfigAdmin dictionary or one entry of a targets file) into
 * a {@link Target}, or into the list of what is wrong with it. The generic keys ({@link #GENERIC_KEYS})
 * are checked here; every other key belongs to the kind, whose prober declares them in its
 * {@link TargetSchema} and checks their combinations in {@link io.sonde.api.Prober#check}. An entry
 * whose kind has no prober yet is {@link State#NO_PROBER held}, and one whose host is being looked up
 * {@link State#RESOLVING waits}: neither is an error. Pure but for the prober's check and the host
 * check it is given.
 */
final class TargetValidator {

    static final long MIN_INTERVAL_MS = TargetKeys.MIN_INTERVAL_MS;
    static final long MAX_INTERVAL_MS = TargetKeys.MAX_INTERVAL_MS;

    /** The keys every target has, whatever its kind; all others are the kind's. */
    static final List<String> GENERIC_KEYS = TargetSchema.GENERIC_KEYS;

    /** Interval and timeout of targets that set none. */
    record Defaults(Duration interval, Duration timeout, Map<String, String> backoff) {
        Defaults(Duration interval, Duration timeout) {
            this(interval, timeout, Map.of());
        }

        /** @param backoff the agent's backoff settings that differ from the built-in ones, by key */
        Defaults {
            backoff = Map.copyOf(backoff);
        }
    }

    /** Generic keys that stay in {@link Target#options()}, for the scheduler and the probers to read. */
    private static final Set<String> CARRIED = Set.of(Target.IP_VERSION, "backoff", "backoff_after", "backoff_max_ms",
            "degraded_loss_percent", "degraded_latency_ms");

    /** Where an entry stands. */
    enum State {
        /** A target, ready to probe. */
        OK,
        /** Something is wrong with it: see the problems. */
        INVALID,
        /** Its kind has no prober yet: checked when one comes. */
        NO_PROBER,
        /** Its host is being looked up: checked again when the answer comes. */
        RESOLVING
    }

    /**
     * The outcome: a target, the problems that prevent one, or why it waits.
     *
     * @param prober the service id of the prober that checked the target, -1 if none did
     */
    record Outcome(State state, Target target, List<ConfigProblem> problems, long prober) {
        boolean ok() {
            return state == State.OK;
        }

        static Outcome invalid(List<ConfigProblem> problems) {
            return new Outcome(State.INVALID, null, List.copyOf(problems), -1);
        }
    }

    /**
     * An entry that passed its kind's checks, before its host is looked up: what {@link Catalog}
     * keeps so that an unchanged entry is not checked again, and {@link #lookUp} finishes.
     *
     * @param outcome    the outcome so far: {@link State#OK} with the target, or final
     * @param lookupName the name to look up before the target is accepted, or {@code null}
     */
    record Checked(Outcome outcome, String lookupName) {
    }

    private TargetValidator() {
    }

    /** Checks {@code raw} and looks its host up: {@link #check} then {@link #lookUp}. */
    static Outcome validate(Map<String, ?> raw, String fallbackName, Defaults defaults, String source, String origin,
            ProberKind.Lookup kinds, HostNames.Check hostCheck) {
        return lookUp(check(raw, fallbackName, defaults, source, origin, kinds), source, hostCheck);
    }

    /** Finishes a {@link Checked} entry with the verdict on its host. */
    static Outcome lookUp(Checked checked, String source, HostNames.Check hostCheck) {
        Outcome o = checked.outcome();
        if (!o.ok() || checked.lookupName() == null) {
            return o;
        }
        HostNames.Answer a = hostCheck.check(checked.lookupName(), o.target().ipVersion());
        if (a.pending()) {
            return new Outcome(State.RESOLVING, null, List.of(), o.prober());
        }
        if (a.problem() != null) {
            return Outcome.invalid(List.of(new ConfigProblem(source, "host", a.problem())));
        }
        return o;
    }

    /**
     * @param raw          the entry's keys and values; values are strings, numbers or lists
     * @param fallbackName name to use when the entry has none (from a file name), or {@code null}
     * @param defaults     interval and timeout for targets that set none
     * @param source       where the entry comes from, for messages
     * @param origin       the file the target comes from, as {@link Target#source()} holds it
     * @param kinds        the probers installed, by kind
     */
    static Checked check(Map<String, ?> raw, String fallbackName, Defaults defaults, String source, String origin,
            ProberKind.Lookup kinds) {
        TargetKeys.Generic generic = TargetKeys.check(raw, fallbackName, defaults.interval().toMillis());
        List<ConfigProblem> problems = new ArrayList<>();
        for (TargetProblem p : generic.problems()) {
            problems.add(new ConfigProblem(source, p.key(), p.reason()));
        }
        String name = generic.name();
        String kind = generic.kind();
        String host = generic.host();
        int port = generic.port();
        Duration interval = generic.intervalMs() != null ? Duration.ofMillis(generic.intervalMs()) : defaults.interval();
        Duration timeout = generic.timeoutMs() != null ? Duration.ofMillis(generic.timeoutMs())
                : defaults.timeout().compareTo(interval) > 0 ? interval : defaults.timeout();
        Set<String> tags = generic.tags();

        Map<String, String> options = new LinkedHashMap<>();
        defaults.backoff().forEach((key, value) -> {
            if (isAbsent(raw.get(key))) {
                options.put(key, value); // the agent's setting, where the target sets none
            }
        });
        for (Map.Entry<String, ?> e : raw.entrySet()) {
            String key = e.getKey();
            if ((GENERIC_KEYS.contains(key) && !CARRIED.contains(key)) || ConfigSource.isFrameworkKey(key)
                    || e.getValue() == null) {
                continue;
            }
            String value = text(e.getValue()).strip();
            options.put(key, value.length() <= 8 ? value.intern() : value); // "3", "100", "reset": shared
        }

        ProberKind prober = kind == null ? null : kinds.kind(kind);
        if (prober == null) {
            return new Checked(problems.isEmpty() && kind != null
                    ? new Outcome(State.NO_PROBER, null, List.of(), -1)
                    : Outcome.invalid(problems), null);
        }
        TargetSchema schema = prober.schema();
        // a prober built before api 1.3 declares nothing: its host is checked as a name, not looked up
        HostForm form = schema == null ? HostForm.NAME : schema.host();
        if (host != null) {
            String hostProblem = form.problem(host);
            if (hostProblem != null) {
                problems.add(new ConfigProblem(source, "host", hostProblem));
            } else {
                host = form.normalize(host);
            }
        }
        if (schema != null) {
            checkOptions(schema, kind, options, port, source, problems);
        }
        checkLabels(prober, kind, tags, source, problems);
        if (!problems.isEmpty()) {
            return new Checked(Outcome.invalid(problems), null);
        }
        Target target = new Target(name, kind, host, port, interval, timeout, tags, options, origin);
        List<TargetProblem> found;
        try {
            found = prober.prober().check(target);
        } catch (RuntimeException e) {
            found = List.of(new TargetProblem(null, "the " + kind + " plugin (" + prober.bundle()
                    + ") failed to check it: " + e));
        }
        if (found != null && !found.isEmpty()) {
            for (TargetProblem p : found) {
                problems.add(new ConfigProblem(source, p.key(), p.reason()));
            }
            return new Checked(Outcome.invalid(problems), null);
        }
        Outcome ok = new Outcome(State.OK, target, List.of(), prober.serviceId());
        String lookupName = schema == null ? null : form.lookupName(host);
        if (lookupName != null && HostNames.isLiteral(lookupName)) {
            // an address needs no name service and its verdict never changes: decided once, kept with the entry
            return new Checked(lookUp(new Checked(ok, lookupName), source, HostNames.LITERALS), null);
        }
        return new Checked(ok, lookupName);
    }

    /** A label may not be one the kind's own metric families set (a sample would carry the name twice). */
    private static void checkLabels(ProberKind prober, String kind, Set<String> tags, String source, List<ConfigProblem> problems) {
        java.util.SortedMap<String, String> labels = TargetKeys.labels(tags);
        if (labels.isEmpty()) {
            return;
        }
        io.sonde.api.ResultSchema results;
        try {
            results = prober.prober().resultSchema();
        } catch (RuntimeException e) {
            return; // the exporter does without the kind's families then
        }
        if (results == null) {
            return;
        }
        for (io.sonde.api.ResultSchema.Family f : results.metrics()) {
            Set<String> used = f.type() == io.sonde.api.ResultSchema.Sample.INFO ? f.sources().keySet()
                    : f.label() == null ? Set.of() : Set.of(f.label());
            for (String l : used) {
                if (labels.containsKey(l)) {
                    problems.add(new ConfigProblem(source, TargetKeys.LABELS + "." + l, "the " + kind + " kind's metric " + f.name()
                            + " has a label '" + l + "' of its own; name yours otherwise"));
                }
            }
        }
    }

    /** The kind's own keys against its schema, by the schema's one rule, and the port it may need. */
    private static void checkOptions(TargetSchema schema, String kind, Map<String, String> options, int port,
            String source, List<ConfigProblem> problems) {
        if (schema.portRequired() && port == 0 && problems.stream().noneMatch(p -> "port".equals(p.key()))) {
            problems.add(new ConfigProblem(source, "port", "missing; " + kind + " targets need a port (1-65535)"));
        }
        for (TargetProblem p : schema.problems(kind, options)) {
            problems.add(new ConfigProblem(source, p.key(), p.reason()));
        }
    }

    /** A kind as written: lower case, aliases of the Latency Probe replaced. */
    static String canonicalKind(String kind) {
        return Target.canonicalKind(kind);
    }

    private static boolean isAbsent(Object value) {
        return TargetKeys.isAbsent(value);
    }

    /** Parses a whole number from a string or number ({@link TargetKeys#whole}); records a problem and returns null otherwise. */
    static Long whole(Object value, String key, String source, List<ConfigProblem> problems) {
        List<TargetProblem> found = new ArrayList<>(1);
        Long n = TargetKeys.whole(value, key, found);
        found.forEach(p -> problems.add(new ConfigProblem(source, p.key(), p.reason())));
        return n;
    }

    static String text(Object value) {
        return TargetKeys.text(value);
    }

    /** Tags from a comma-separated string, a collection or an array. */
    static Set<String> tags(Object value) {
        return TargetKeys.tags(value);
    }
}
