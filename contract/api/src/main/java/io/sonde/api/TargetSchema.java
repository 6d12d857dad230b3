package io.sonde.api;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import io.sonde.api.internal.Suggestion;

/**
 * What a kind accepts in a target's configuration beyond the generic keys ({@code name},
 * {@code kind}, {@code host}, {@code port}, {@code interval_ms}, {@code timeout_ms}, {@code tags},
 * {@code ip_version}): the form of its host, whether it needs a port, and its own keys. Declared by
 * {@link Prober#schema()}; the core checks every target of the kind against it, and a key it does
 * not list is an error.
 *
 * @param host         what the kind takes in {@code host}
 * @param portRequired whether a target of the kind must set {@code port}
 * @param options      the kind's own keys
 * @since 1.3
 */
public record TargetSchema(HostForm host, boolean portRequired, List<TargetOption> options) {

    /** The keys every target has, whatever its kind, checked by the agent itself (its backoff, labels and health thresholds among them). */
    public static final List<String> GENERIC_KEYS = List.of("name", "kind", "host", "port", "interval_ms", "timeout_ms",
            "tags", Target.IP_VERSION, "backoff", "backoff_after", "backoff_max_ms", "labels",
            "degraded_loss_percent", "degraded_latency_ms");

    /** Requires a host form; refuses two options of one name. */
    public TargetSchema {
        Objects.requireNonNull(host, "host");
        options = options == null ? List.of() : List.copyOf(options);
        Set<String> names = new HashSet<>();
        for (TargetOption o : options) {
            if (!names.add(o.name())) {
                throw new IllegalArgumentException("option " + o.name() + " is declared twice");
            }
        }
    }

    /** @return the schema of a kind whose host is {@code host}, with {@code options} */
    public static TargetSchema of(HostForm host, boolean portRequired, TargetOption... options) {
        return new TargetSchema(host, portRequired, List.of(options));
    }

    /** @return the option that {@code key} is, if the kind declares it */
    public Optional<TargetOption> option(String key) {
        for (TargetOption o : options) {
            if (o.matches(key)) {
                return Optional.of(o);
            }
        }
        return Optional.empty();
    }

    /**
     * Checks a target's own keys against the schema: each one known (a misspelt key is named with
     * the closest known one), each value good, the required ones set. What a prober's
     * {@link Prober#check} adds is not asked here. Used by the agent for every target, and by
     * anyone who checks a target description without probing it.
     *
     * @param kind    the kind, for messages
     * @param options the target's keys but the generic ones ({@link #GENERIC_KEYS} are skipped), values stripped
     * @return what is wrong; an unknown key has no {@link TargetProblem#key()} and a reason that names it
     */
    public List<TargetProblem> problems(String kind, java.util.Map<String, String> options) {
        List<TargetProblem> problems = new java.util.ArrayList<>();
        for (java.util.Map.Entry<String, String> e : options.entrySet()) {
            String key = e.getKey();
            if (GENERIC_KEYS.contains(key)) {
                continue;
            }
            Optional<TargetOption> option = option(key);
            if (option.isEmpty()) {
                problems.add(new TargetProblem(null, unknown(kind, key)));
            } else if (!e.getValue().isBlank()) {
                String p = option.get().problem(e.getValue().strip());
                if (p != null) {
                    problems.add(new TargetProblem(key, p));
                }
            }
        }
        for (TargetOption o : this.options) {
            if (o.required() && options.entrySet().stream().noneMatch(e -> o.matches(e.getKey()) && !e.getValue().isBlank())) {
                problems.add(new TargetProblem(o.name(), "missing; " + kind + " targets need it: " + o.description()));
            }
        }
        return problems;
    }

    /**
     * The known key a misspelt one most likely meant, by the rule every Sonde check uses for its
     * "did you mean" hints (an insertion, deletion, substitution or swap of neighbours counts one;
     * at most 2, and less than a third of the word).
     *
     * @return the closest of {@code known}, or {@code null} if none is that close
     * @since 2.0
     */
    public static String closest(String key, java.util.Collection<String> known) {
        return Suggestion.closest(key, known);
    }

    private String unknown(String kind, String key) {
        List<String> known = new java.util.ArrayList<>(GENERIC_KEYS);
        options.forEach(o -> known.add(o.name()));
        String close = Suggestion.closest(key, known);
        String m = "key '" + key + "' is not known for kind " + kind;
        if (close != null) {
            return m + "; did you mean '" + close + "'?";
        }
        return m + "; its own keys are " + (options.isEmpty() ? "none, only the generic ones"
                : String.join(", ", options.stream().map(TargetOption::name).sorted().toList()));
    }
}
