package io.sonde.plugin.icmp.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.sonde.sockets.Family;

/**
 * The last resort: the system's {@code ping} (iputils), one process a round, its output parsed.
 * Timing is the binary's, in microseconds at best.
 */
final class PingCommand {

    private static final List<String> PLACES = List.of("/usr/bin/ping", "/bin/ping", "/usr/sbin/ping", "/sbin/ping");
    private static final Pattern REPLY = Pattern.compile(
            "icmp_seq=(\\d+)\\s+(?:ttl|hlim)=(\\d+)\\s+time=([0-9.]+)\\s*ms(\\s*\\(DUP!\\))?");
    private static final Pattern TRANSMITTED = Pattern.compile("(\\d+) packets transmitted");

    private PingCommand() {
    }

    static String binary() {
        for (String p : PLACES) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    static boolean available(Family family) {
        return binary() != null;
    }

    /** The command line for one round. */
    static List<String> command(String binary, Round round, Duration interval, Duration timeout) {
        return command(binary, round, interval, timeout, Channel.Options.DEFAULT);
    }

    /** The command line for one round, with the don't-fragment bit (-M do), a TOS (-Q) and a source address (-I). */
    static List<String> command(String binary, Round round, Duration interval, Duration timeout, Channel.Options options) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        cmd.add(Family.of(round.address) == Family.IPV4 ? "-4" : "-6");
        cmd.add("-n");
        cmd.add("-s");
        cmd.add(Integer.toString(round.size));
        cmd.add("-c");
        cmd.add(Integer.toString(round.count));
        cmd.add("-i");
        cmd.add(String.format(Locale.ROOT, "%.3f", Math.max(interval.toNanos() / 1e9, 0.002)));
        // the timeout bounds the whole round: the last request gets what is left of it
        long lastWait = timeout.toNanos() - interval.toNanos() * (round.count - 1);
        cmd.add("-W");
        cmd.add(String.format(Locale.ROOT, "%.3f", Math.max(lastWait / 1e9, 0.001)));
        cmd.add("-w");
        cmd.add(Long.toString(Math.max(1, (long) Math.ceil(timeout.toNanos() / 1e9))));
        if (options.dontFragment()) {
            cmd.add("-M");
            cmd.add("do");
        }
        if (options.trafficClass() >= 0) {
            cmd.add("-Q");
            cmd.add(Integer.toString(options.trafficClass()));
        }
        if (options.source() != null) {
            cmd.add("-I");
            cmd.add(options.source().getHostAddress());
        }
        cmd.add(round.address.getHostAddress());
        return cmd;
    }

    /** Starts the round's ping process; its output is parsed into the round when it exits. */
    static Process start(Round round, Duration interval, Duration timeout) {
        return start(round, interval, timeout, Channel.Options.DEFAULT);
    }

    static Process start(Round round, Duration interval, Duration timeout, Channel.Options options) {
        String binary = binary();
        if (binary == null) {
            round.sendFailed("no ping binary found in " + PLACES);
            round.finishNow();
            return null;
        }
        try {
            Process p = new ProcessBuilder(command(binary, round, interval, timeout, options)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            p.onExit().thenAccept(done -> {
                try {
                    parse(new String(done.getInputStream().readAllBytes(), StandardCharsets.UTF_8), round);
                } catch (IOException e) {
                    round.sendFailed("reading ping's output failed: " + e.getMessage());
                }
                round.finishNow();
            });
            return p;
        } catch (IOException e) {
            round.sendFailed("cannot run " + binary + ": " + e.getMessage());
            round.finishNow();
            return null;
        }
    }

    /** Applies ping's output to the round. */
    static void parse(String output, Round round) {
        boolean any = false;
        for (String line : output.split("\n")) {
            Matcher m = REPLY.matcher(line);
            if (m.find()) {
                any = true;
                int index = Integer.parseInt(m.group(1)) - 1;
                if (index >= 0 && index < round.count) {
                    long nanos = (long) (Double.parseDouble(m.group(3)) * 1_000_000);
                    round.reply(index, nanos, Integer.parseInt(m.group(2)));
                }
                continue;
            }
            Matcher t = TRANSMITTED.matcher(line);
            if (t.find()) {
                int n = Math.min(round.count, Integer.parseInt(t.group(1)));
                for (int i = 0; i < n; i++) {
                    round.sent(i);
                }
            } else if (line.startsWith("ping:") && !any) {
                round.sendFailed(line.strip());
            }
        }
    }

    /** Ends a ping process that outlived its round. */
    static void kill(Process p) {
        if (p != null && p.isAlive()) {
            p.destroy();
            p.onExit().completeOnTimeout(p, 1, TimeUnit.SECONDS).thenAccept(q -> q.destroyForcibly());
        }
    }
}
