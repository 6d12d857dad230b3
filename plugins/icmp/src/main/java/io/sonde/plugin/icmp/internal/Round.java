package io.sonde.plugin.icmp.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/** The echo requests of one probe of one target, and what came back. */
final class Round {

    final Target target;
    final InetAddress address;
    final int count;
    /** Payload bytes of each request ({@code size}). */
    final int size;
    final long nonce;
    final Instant startedAt;
    final CompletableFuture<PingResult> future = new CompletableFuture<>();
    /** The sequence number of each request, -1 until sent; written by the sender, read by whoever finishes the round. */
    private final int[] sequences;
    private final long[] rtt;
    private int sent;
    private int received;
    private int duplicates;
    private int ttl = -1;
    private String unreachable;
    private String sendError;
    private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
    private java.util.function.Consumer<Round> finisher = r -> { };

    /** What to run, once, when the round is over: set by the engine before the first request. */
    void onFinish(java.util.function.Consumer<Round> f) {
        finisher = f;
    }

    /** When the round's timeout ends it, by {@link System#nanoTime()}; set by the channel that sweeps it. */
    volatile long deadline;

    boolean finished() {
        return finished.get();
    }

    /** Ends the round now (every reply is in, or the deadline came); later calls do nothing. */
    void finishNow() {
        if (finished.compareAndSet(false, true)) {
            finisher.accept(this);
        }
    }

    Round(Target target, InetAddress address, int count, long nonce, Instant startedAt) {
        this.target = target;
        this.address = address;
        this.count = count;
        this.size = IcmpProber.SIZE.intValue(target);
        this.nonce = nonce;
        this.startedAt = startedAt;
        this.sequences = new int[count];
        java.util.Arrays.fill(sequences, -1);
        this.rtt = new long[count];
        java.util.Arrays.fill(rtt, -1);
    }

    synchronized void sequence(int index, int seq) {
        sequences[index] = seq;
    }

    synchronized int[] sequences() {
        return sequences.clone();
    }

    synchronized void sent(int index) {
        sent++;
    }

    synchronized void unsent(int index) {
        sent--;
    }

    synchronized void sendFailed(String message) {
        sendError = message;
    }

    /** @return true when every request has its reply */
    synchronized boolean reply(int index, long rttNanos, int replyTtl) {
        if (rtt[index] >= 0) {
            duplicates++;
            return false;
        }
        rtt[index] = Math.max(0, rttNanos);
        received++;
        if (replyTtl >= 0) {
            ttl = replyTtl;
        }
        return received == count;
    }

    synchronized void unreachable(String message) {
        unreachable = message;
    }

    /** Completes the future with what is known now. */
    synchronized PingResult result(Duration timeout) {
        List<Duration> rtts = new ArrayList<>(received);
        for (long r : rtt) {
            if (r >= 0) {
                rtts.add(Duration.ofNanos(r));
            }
        }
        FailureReason reason = null;
        String message = null;
        if (rtts.isEmpty()) {
            if (sendError != null) {
                reason = FailureReason.ERROR;
                message = sendError;
            } else if (unreachable != null) {
                reason = FailureReason.UNREACHABLE;
                message = unreachable;
            } else {
                reason = FailureReason.TIMEOUT;
                message = "no reply from " + address.getHostAddress() + " to " + sent + " echo requests within "
                        + timeout.toMillis() + " ms";
            }
        }
        PingResult result = new PingResult(target, startedAt, avg(rtts), reason, message, address, sent, rtts,
                duplicates, ttl);
        future.complete(result);
        return result;
    }

    private static Duration avg(List<Duration> rtts) {
        return rtts.isEmpty() ? Duration.ZERO
                : Duration.ofNanos(rtts.stream().mapToLong(Duration::toNanos).sum() / rtts.size());
    }
}
