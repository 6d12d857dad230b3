package io.sonde.agent.spi;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;

import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The health model, written once: the state of one (agent, target) from its latest result, and a
 * target's overall state from those of its vantage agents. The agent's {@code /metrics} and
 * {@code /status}, the server's API, its alert evaluation, the dashboard and {@code sonde-cli} all
 * take their states from here; nobody else compares a result with a target's thresholds.
 *
 * <p>The two keys {@link #DEGRADED_LOSS_PERCENT} and {@link #DEGRADED_LATENCY_MS} are generic
 * target keys (any kind): a successful result past either is {@link State#DEGRADED}. Both are off
 * (0) unless set.
 *
 * @since 1.8
 */
public final class Health {

    /** Loss in percent past which a target that answers is degraded; 0: never. */
    public static final TargetOption DEGRADED_LOSS_PERCENT = TargetOption.integer("degraded_loss_percent", 0, 0, 100,
            "Packet loss in percent past which a target that answers is degraded (0: never)");

    /** Median latency in milliseconds past which a target that answers is degraded; 0: never. */
    public static final TargetOption DEGRADED_LATENCY_MS = TargetOption.integer("degraded_latency_ms", 0, 0, 86_400_000,
            "Latency in milliseconds past which a target that answers is degraded (0: never)");

    /** The two threshold keys, for the validators. */
    public static final List<TargetOption> KEYS = List.of(DEGRADED_LOSS_PERCENT, DEGRADED_LATENCY_MS);

    /**
     * The states, worst first: the order in which lists are sorted and by which a target's overall
     * state is the worst of its vantage agents'.
     */
    public enum State {
        /** The latest probe failed. */
        DOWN("the latest probe failed"),
        /** Down and probed less often (the circuit breaker): down for every consumer. */
        BACKOFF("down, probed less often until it answers"),
        /** Answers, with loss or latency past the target's thresholds. */
        DEGRADED("answers, with loss or latency past the target's thresholds"),
        /** The agent refused the target's definition. */
        REFUSED("the agent refused the definition"),
        /** No installed plugin probes the target's kind. */
        NO_PROBER("no installed plugin probes its kind"),
        /** No result: the agent is offline, has not probed it yet, or its results are overdue. */
        UNKNOWN("no result: the agent is offline, has not probed it yet, or is overdue"),
        /** The latest probe succeeded within the thresholds. */
        UP("the latest probe succeeded within the thresholds");

        private final String meaning;

        State(String meaning) {
            this.meaning = meaning;
        }

        /** @return the state as every surface names it: {@code up}, {@code down}, {@code no_prober} ... */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @return what the state means, in words (the README's and the dashboard's table) */
        public String meaning() {
            return meaning;
        }

        /** @return whether the target counts as down: {@link #DOWN} or {@link #BACKOFF} */
        public boolean isDown() {
            return this == DOWN || this == BACKOFF;
        }

        /** @return the state named {@code label}, or null for a name that is none */
        public static State of(String label) {
            for (State s : values()) {
                if (s.label().equalsIgnoreCase(label == null ? "" : label.strip())) {
                    return s;
                }
            }
            return null;
        }
    }

    /**
     * A target's degradation thresholds.
     *
     * @param lossPercent loss in percent past which it is degraded, 0 for never
     * @param latencyMs   latency in milliseconds past which it is degraded, 0 for never
     */
    public record Thresholds(long lossPercent, long latencyMs) {

        /** No thresholds: a target that answers is up. */
        public static final Thresholds NONE = new Thresholds(0, 0);

        /** @return the thresholds a checked target sets, or their defaults */
        public static Thresholds of(Target target) {
            return new Thresholds(DEGRADED_LOSS_PERCENT.longValue(target), DEGRADED_LATENCY_MS.longValue(target));
        }

        /**
         * @param keys a target description's keys (a definition's, as text); a value that is not a
         *             good one counts as unset, since the description was checked before
         * @return the thresholds it sets
         */
        public static Thresholds of(Function<String, String> keys) {
            return new Thresholds(read(DEGRADED_LOSS_PERCENT, keys.apply(DEGRADED_LOSS_PERCENT.name())),
                    read(DEGRADED_LATENCY_MS, keys.apply(DEGRADED_LATENCY_MS.name())));
        }

        private static long read(TargetOption o, String v) {
            if (v == null || v.isBlank() || o.problem(v.strip()) != null) {
                return 0;
            }
            return Long.parseLong(v.strip());
        }
    }

    private Health() {
    }

    /**
     * The state of one (agent, target) from its latest result.
     *
     * @param success        whether the latest probe succeeded
     * @param loss           lost over sent packets (0..1) where the kind measures it, else NaN
     * @param latencySeconds the latency to judge (the latest, or a window's median), NaN when none
     * @param thresholds     the target's
     * @param backoff        whether the agent probes it less often because it keeps failing
     * @return {@link State#UP}, {@link State#DEGRADED}, {@link State#DOWN} or {@link State#BACKOFF}
     */
    public static State of(boolean success, double loss, double latencySeconds, Thresholds thresholds, boolean backoff) {
        if (!success) {
            return backoff ? State.BACKOFF : State.DOWN;
        }
        return degraded(loss, latencySeconds, thresholds) != null ? State.DEGRADED : State.UP;
    }

    /**
     * @return why a target that answers is degraded ({@code "loss 12.0 % > 5 %"}), or null when it
     *         is within its thresholds
     */
    public static String degraded(double loss, double latencySeconds, Thresholds t) {
        if (t.lossPercent() > 0 && !Double.isNaN(loss) && loss * 100 > t.lossPercent()) {
            return String.format(Locale.ROOT, "loss %.1f %% > %d %%", loss * 100, t.lossPercent());
        }
        if (t.latencyMs() > 0 && !Double.isNaN(latencySeconds) && latencySeconds * 1000 > t.latencyMs()) {
            return String.format(Locale.ROOT, "latency %.1f ms > %d ms", latencySeconds * 1000, t.latencyMs());
        }
        return null;
    }

    /**
     * A target's state over its vantage agents.
     *
     * @param state    the worst state of the agents that have one ({@link State#UNKNOWN} only when
     *                 every agent is unknown, or there is none)
     * @param affected how many agents are in {@code state} (down counts backoff with it)
     * @param vantages how many agents have a known state: online and with a standing result, or
     *                 refusing it
     * @param counts   agents per state, unknown ones included
     */
    public record Overall(State state, int affected, int vantages, Map<State, Integer> counts) {

        /** Takes an immutable copy of the counts. */
        public Overall {
            counts = Map.copyOf(counts);
        }

        /** @return the state and its reach in words: {@code down from 2 of 2}, {@code up}, {@code unknown} */
        public String text() {
            if (state == State.UNKNOWN || vantages == 0) {
                return State.UNKNOWN.label();
            }
            String s = state.isDown() ? State.DOWN.label() : state.label();
            return s + " from " + affected + " of " + vantages;
        }
    }

    /**
     * @param states the state of the target from each of its vantage agents (unknown where an agent
     *               is offline or has no standing result)
     * @return the worst state over the agents whose state is known; a target is down when any
     *         vantage says down or backoff, and its overall state is then {@link State#DOWN} or,
     *         when every down vantage backs off, {@link State#BACKOFF}
     */
    public static Overall overall(Collection<State> states) {
        Map<State, Integer> counts = new EnumMap<>(State.class);
        for (State s : states) {
            counts.merge(s, 1, Integer::sum);
        }
        int known = states.size() - counts.getOrDefault(State.UNKNOWN, 0);
        if (known == 0) {
            return new Overall(State.UNKNOWN, counts.getOrDefault(State.UNKNOWN, 0), 0, counts);
        }
        int down = counts.getOrDefault(State.DOWN, 0);
        int backoff = counts.getOrDefault(State.BACKOFF, 0);
        if (down + backoff > 0) {
            return new Overall(down > 0 ? State.DOWN : State.BACKOFF, down + backoff, known, counts);
        }
        for (State s : State.values()) {
            if (s != State.UNKNOWN && counts.containsKey(s)) {
                return new Overall(s, counts.get(s), known, counts);
            }
        }
        throw new AssertionError("a known state that is none");
    }
}
