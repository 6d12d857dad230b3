package io.sonde.plugin.tcp.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;

/**
 * A TCP exchange after connecting, as blackbox_exporter's {@code query_response}: steps in the order
 * of their numbers, each reading lines until one matches {@code expect.N} (a regular expression; a
 * line is what ends with LF, CR LF counting as LF) and then writing {@code send.N} and a newline.
 * In {@code send.N}, {@code \n}, {@code \r}, {@code \t} and {@code \\} are those characters, and
 * {@code $1} or {@code ${name}} a group of the same step's match. A line that never comes fails
 * the probe: {@code body_mismatch} when the connection ended, {@code timeout} when time ran out.
 * Runs on a thread of its own with blocking I/O, within the target's timeout.
 */
final class Conversation {

    static final String EXPECT_PREFIX = "expect.";
    static final String SEND_PREFIX = "send.";
    /** The longest line read: beyond it the line so far is matched and reading goes on. */
    static final int MAX_LINE = 64 * 1024;
    /** Steps at most. */
    static final int MAX_STEPS = 50;

    static final TargetOption EXPECT = TargetOption.pattern(EXPECT_PREFIX + "*",
            "Step N of an exchange after connecting: a regular expression a line the peer sends must match, before send.N");
    static final TargetOption SEND = TargetOption.text(SEND_PREFIX + "*", null,
            "Step N of an exchange after connecting: what to write, a newline added (\\n, \\r, \\t, \\\\ escapes; $1 or ${name} from"
                    + " expect.N's match)");

    /** One step: what to wait for, then what to say; either may be absent. */
    record Step(int number, Pattern expect, String send) {
    }

    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    private Conversation() {
    }

    /** @return the target's steps by number, empty for a connect alone */
    static List<Step> steps(Target t) {
        Map<Integer, Pattern> expects = new TreeMap<>();
        Map<Integer, String> sends = new TreeMap<>();
        t.options().forEach((k, v) -> {
            if (k.startsWith(EXPECT_PREFIX)) {
                expects.put(Integer.parseInt(k.substring(EXPECT_PREFIX.length())), PATTERNS.computeIfAbsent(v.strip(), Pattern::compile));
            } else if (k.startsWith(SEND_PREFIX)) {
                sends.put(Integer.parseInt(k.substring(SEND_PREFIX.length())), unescape(v));
            }
        });
        TreeMap<Integer, Step> steps = new TreeMap<>();
        expects.forEach((n, p) -> steps.put(n, new Step(n, p, null)));
        sends.forEach((n, s) -> steps.put(n, new Step(n, steps.containsKey(n) ? steps.get(n).expect() : null, s)));
        return List.copyOf(steps.values());
    }

    /** @return what is wrong with the step keys' numbers and escapes, each naming its key */
    static List<TargetProblem> problems(Target t) {
        List<TargetProblem> out = new ArrayList<>();
        for (Map.Entry<String, String> e : t.options().entrySet()) {
            String k = e.getKey();
            String n = k.startsWith(EXPECT_PREFIX) ? k.substring(EXPECT_PREFIX.length())
                    : k.startsWith(SEND_PREFIX) ? k.substring(SEND_PREFIX.length()) : null;
            if (n == null) {
                continue;
            }
            if (!n.matches("[1-9]\\d?") || Integer.parseInt(n) > MAX_STEPS) {
                out.add(new TargetProblem(k, "'" + n + "' is not a step number (1-" + MAX_STEPS + ")"));
            } else if (k.startsWith(SEND_PREFIX)) {
                String bad = escapeProblem(e.getValue());
                if (bad != null) {
                    out.add(new TargetProblem(k, bad));
                }
            }
        }
        return out;
    }

    /** @return the first escape {@link #unescape} does not know, said as a problem, or null */
    static String escapeProblem(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\\') {
                if (i + 1 >= s.length() || "nrt\\".indexOf(s.charAt(i + 1)) < 0) {
                    return "'\\" + (i + 1 < s.length() ? s.charAt(i + 1) : "") + "' is not an escape (\\n, \\r, \\t, \\\\)";
                }
                i++;
            }
        }
        return null;
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(switch (n) {
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    case 't' -> '\t';
                    default -> n;
                });
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The inverse of {@link #unescape}: text as a {@code send.N} value writes it. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t");
    }

    /**
     * Connects to {@code address} and talks; never throws.
     *
     * @param start     {@link System#nanoTime()} when the probe began (its resolving included)
     * @param reset     end with a reset rather than a FIN ({@code close = reset})
     * @param onSocket  told the socket once it exists, so a probe given up on can close it
     */
    static TcpConnectResult run(Target target, Instant startedAt, long start, InetSocketAddress address, List<Step> steps,
            boolean reset, java.util.function.Consumer<Socket> onSocket) {
        long deadline = start + target.timeout().toNanos();
        Socket socket;
        try {
            socket = io.sonde.sockets.Marking.socket(address.getAddress());
        } catch (IOException e) {
            return result(target, startedAt, start, FailureReason.ERROR, "opening a socket: " + e.getMessage(), address, false);
        }
        onSocket.accept(socket);
        String at = "connecting";
        Pattern waitingFor = null;
        String last = null;
        try (socket) {
            socket.setTcpNoDelay(true);
            if (reset) {
                socket.setSoLinger(true, 0);
            }
            io.sonde.sockets.Marking.apply(target, socket, address.getAddress());
            socket.connect(address, millisLeft(deadline));
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            Lines lines = new Lines(in);
            for (Step step : steps) {
                Matcher match = null;
                if (step.expect() != null) {
                    at = EXPECT_PREFIX + step.number();
                    waitingFor = step.expect();
                    last = null;
                    while (match == null) {
                        socket.setSoTimeout(millisLeft(deadline));
                        String line = lines.next();
                        if (line == null) {
                            return result(target, startedAt, start, FailureReason.BODY_MISMATCH, at + ": /" + step.expect().pattern()
                                    + "/ matched no line before " + address + " closed the connection"
                                    + (last == null ? " (it sent none)" : " (last line: '" + cut(last) + "')"), address, true);
                        }
                        last = line;
                        Matcher m = step.expect().matcher(line);
                        if (m.find()) {
                            match = m;
                        }
                    }
                }
                waitingFor = null;
                if (step.send() != null) {
                    at = SEND_PREFIX + step.number();
                    out.write((expand(step.send(), match) + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
            return result(target, startedAt, start, null, null, address, false);
        } catch (SocketTimeoutException e) {
            return result(target, startedAt, start, FailureReason.TIMEOUT, at + ": " + (waitingFor == null ? "no answer"
                    : "/" + waitingFor.pattern() + "/ matched no line") + " from " + address + " within " + target.timeout().toMillis()
                    + " ms" + (waitingFor == null ? "" : last == null ? " (it sent none)" : " (last line: '" + cut(last) + "')"), address,
                    false);
        } catch (IOException e) {
            return classify(target, startedAt, start, address, e, at); // closed by a probe given up on: nobody reads it
        }
    }

    private static TcpConnectResult classify(Target target, Instant startedAt, long start, InetSocketAddress address, IOException e,
            String at) {
        if (at.equals("connecting")) {
            Connector.Outcome o = Connector.classify(e, address, System.nanoTime() - start);
            return result(target, startedAt, start, o.failure(), o.message(), address, false);
        }
        return result(target, startedAt, start, FailureReason.ERROR, at + ": " + address + ": " + e.getMessage(), address, false);
    }

    /** {@code $1} and {@code ${name}} from the step's match; a {@code $} that names no group stays as written. */
    static String expand(String send, Matcher match) {
        if (match == null || send.indexOf('$') < 0) {
            return send;
        }
        Matcher ref = Pattern.compile("\\$(\\d+|\\{(\\w+)\\})").matcher(send);
        StringBuilder b = new StringBuilder();
        while (ref.find()) {
            String value;
            try {
                value = ref.group(2) != null ? match.group(ref.group(2)) : match.group(Integer.parseInt(ref.group(1)));
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                value = ref.group();
            }
            ref.appendReplacement(b, Matcher.quoteReplacement(value == null ? "" : value));
        }
        ref.appendTail(b);
        return b.toString();
    }

    private static int millisLeft(long deadline) throws SocketTimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("the timeout has passed");
        }
        return (int) Math.max(1, left / 1_000_000);
    }

    private static TcpConnectResult result(Target target, Instant startedAt, long start, FailureReason reason, String message,
            InetSocketAddress address, boolean regex) {
        return new TcpConnectResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message, address, regex);
    }

    private static String cut(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    /** Lines of a stream: LF ends one, a CR before it is dropped; a line over {@link #MAX_LINE} is cut there. */
    static final class Lines {
        private final InputStream in;
        private final byte[] buffer = new byte[4096];
        private int pos;
        private int end;

        Lines(InputStream in) {
            this.in = in;
        }

        /** @return the next line, or null at the end of the stream with nothing read */
        String next() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                if (pos == end) {
                    end = in.read(buffer);
                    pos = 0;
                    if (end < 0) {
                        end = 0;
                        return line.size() == 0 ? null : text(line);
                    }
                }
                byte c = buffer[pos++];
                if (c == '\n') {
                    return text(line);
                }
                line.write(c);
                if (line.size() >= MAX_LINE) {
                    return text(line);
                }
            }
        }

        private static String text(ByteArrayOutputStream line) {
            String s = line.toString(StandardCharsets.UTF_8);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
    }
}
