package io.sonde.plugin.icmp.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.sonde.api.Target;
import io.sonde.sockets.Family;

/**
 * Echo rounds over one shared socket per address family. One thread paces the later requests of
 * each round and ends rounds at their deadline; one thread per family receives. No thread per
 * target or per packet.
 */
final class IcmpEngine implements AutoCloseable {

    /** Most channels of settings other than the default, each a socket and a thread. */
    static final int MAX_CHANNELS = 16;

    private final Channel v4;
    private final Channel v6;
    private final Mode forced;
    /** Channels of targets with a don't-fragment bit, DSCP or source address, by family and settings. */
    private final java.util.Map<Key, Channel> others = new java.util.concurrent.ConcurrentHashMap<>();

    private record Key(Family family, Channel.Options options) {
    }
    private final ScheduledExecutorService clock;
    private final AtomicLong nonces = new AtomicLong(ThreadLocalRandom.current().nextLong());

    /** @param forced a mode to use instead of the best available (tests), or null */
    IcmpEngine(Mode forced) {
        this.forced = forced;
        v4 = new Channel(Family.IPV4, forced);
        v6 = new Channel(Family.IPV6, forced);
        ScheduledThreadPoolExecutor c = new ScheduledThreadPoolExecutor(1, io.sonde.base.DaemonThreads.named("sonde-icmp-clock"));
        c.setRemoveOnCancelPolicy(true);
        clock = c;
    }

    Mode mode(Family f) {
        return channel(f).mode();
    }

    String unavailable(Family f) {
        return channel(f).unavailable();
    }

    Channel channel(Family f) {
        return f == Family.IPV4 ? v4 : v6;
    }

    /**
     * @return the channel of the family with these settings: the shared one for the default, else
     *         one opened for them (kept while the engine runs), or null when {@link #MAX_CHANNELS} are open
     */
    Channel channel(Family f, Channel.Options options) {
        if (options.isDefault()) {
            return channel(f);
        }
        Key key = new Key(f, options);
        Channel c = others.get(key);
        if (c != null) {
            c.retryIfRefused();
            return c;
        }
        synchronized (others) {
            c = others.get(key);
            if (c == null && others.size() < MAX_CHANNELS) {
                c = new Channel(f, forced, options);
                others.put(key, c);
            }
            return c;
        }
    }

    /**
     * Sends {@code count} echo requests to {@code address}, {@code interval} apart, and takes the
     * replies that arrive within {@code timeout} of the first: the timeout bounds the whole round.
     */
    CompletableFuture<PingResult> ping(Target target, InetAddress address, int count, Duration interval,
            Duration timeout, Instant startedAt) {
        return ping(target, address, count, interval, timeout, startedAt, Channel.Options.DEFAULT);
    }

    /** @param options the don't-fragment bit, DSCP and source address the round's requests go with */
    CompletableFuture<PingResult> ping(Target target, InetAddress address, int count, Duration interval,
            Duration timeout, Instant startedAt, Channel.Options options) {
        Channel ch = channel(Family.of(address), options);
        Round round = new Round(target, address, count, nonces.incrementAndGet(), startedAt);
        if (ch == null) {
            round.onFinish(r -> r.result(timeout));
            round.sendFailed("more than " + MAX_CHANNELS + " distinct sets of dont_fragment, dscp and source address among the"
                    + " icmp targets (each a socket of its own): use fewer");
            round.finishNow();
            return round.future;
        }
        long deadline = timeout.toNanos();
        Process[] process = new Process[1];
        ScheduledFuture<?>[] timer = new ScheduledFuture<?>[1];
        round.onFinish(r -> {
            if (timer[0] != null) {
                timer[0].cancel(false);
            }
            PingCommand.kill(process[0]);
            ch.forget(r);
            r.result(timeout);
        });
        round.future.whenComplete((r, e) -> round.finishNow()); // cancelled by the scheduler: clean up
        switch (ch.mode()) {
            case NONE -> {
                round.sendFailed(ch.unavailable());
                round.finishNow();
                return round.future;
            }
            case PING -> {
                process[0] = PingCommand.start(round, interval, timeout, options);
                timer[0] = clock.schedule(round::finishNow, deadline, TimeUnit.NANOSECONDS);
            }
            default -> {
                ch.expireAt(round, deadline); // the channel's receiver ends it at its deadline
                ch.send(round, 0);
                for (int i = 1; i < count; i++) {
                    int index = i;
                    clock.schedule(() -> ch.send(round, index), interval.toNanos() * i, TimeUnit.NANOSECONDS);
                }
            }
        }
        return round.future;
    }

    @Override
    public void close() {
        clock.shutdownNow();
        v4.close();
        v6.close();
        others.values().forEach(Channel::close);
    }
}
