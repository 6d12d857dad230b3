package io.sonde.scheduler.internal;

/** The arithmetic of fixed-rate scheduling, apart from threads and clocks so it can be tested. */
final class Plan {

    /**
     * Start times are put on a grid of this step, so targets that share a slot start together: one
     * wake-up of the scheduler, and of the prober, for all of them. 10,000 targets at 10 s make five
     * a slot, and 200 wake-ups a second instead of 1,000.
     */
    static final long SLOT_NANOS = 5_000_000;

    private Plan() {
    }

    /** @return the first slot boundary at or after {@code t} */
    static long align(long t) {
        long rest = Math.floorMod(t, SLOT_NANOS);
        return rest == 0 ? t : t + (SLOT_NANOS - rest);
    }

    /**
     * The next planned start after a run that was planned for {@code planned} and began at {@code now}.
     * Starts stay on the grid {@code planned + k * period}, so the schedule never drifts; turns that
     * have already passed are skipped.
     *
     * @return the next start, strictly after {@code now}
     */
    static long next(long planned, long now, long period) {
        long next = planned + period;
        if (next - now <= 0) {
            long behind = now - next;
            next += (behind / period + 1) * period;
        }
        return next;
    }

    /** @return how many turns lie strictly between {@code planned} and {@code next} */
    static long skippedTurns(long planned, long next, long period) {
        return (next - planned) / period - 1;
    }

    /**
     * Delay of the first run of the {@code index}-th of {@code count} targets started together: their
     * first runs are spread evenly over the interval, the first at once.
     */
    static long firstDelay(int index, int count, long period) {
        if (count <= 1) {
            return 0;
        }
        return (long) ((double) period * index / count);
    }
}
