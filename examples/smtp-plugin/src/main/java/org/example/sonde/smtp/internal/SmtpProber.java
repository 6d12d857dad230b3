package org.example.sonde.smtp.internal;

import static io.sonde.api.ResultSchema.Family.labelled;
import static io.sonde.api.ResultSchema.Family.of;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.ResultSchema.Role;
import io.sonde.api.ResultSchema.Sample;
import io.sonde.api.ResultSchema.Type;
import io.sonde.api.ResultSchema.Value;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;

/**
 * {@code kind=smtp}: connects to an SMTP server ({@code port}, default 25), reads its greeting,
 * says EHLO and QUIT. Success is a 220 greeting and a 250 answer to EHLO. It reports each phase's
 * time, the greeting's code and text, the EHLO extensions, whether STARTTLS is offered and the
 * SIZE limit. Every read is bounded (a line 4 KiB, an answer 100 lines) and the whole by the
 * target's timeout.
 */
@Component(service = Prober.class)
@ProbeKind(type = "smtp", cost = 3)
public final class SmtpProber implements Prober {

    static final int MAX_LINE = 4096;
    static final int MAX_LINES = 100;

    static final TargetOption HELO_NAME = TargetOption.text("helo_name", "sonde.invalid", "The name this side gives in EHLO");

    static final TargetSchema OPTIONS = TargetSchema.of(HostForm.NAME, false, HELO_NAME);

    static final ResultSchema RESULTS = new ResultSchema("1", List.of(
            Value.of("phases", Type.DURATION_MAP, "seconds", Role.PHASES, "connect, banner (to the greeting), ehlo (its answer)"),
            Value.of("status_code", Type.NUMBER, "", Role.STATUS_CODE, "the greeting's reply code"),
            Value.of("banner", Type.TEXT, "", Role.NONE, "the greeting's first line, after its code"),
            Value.of("extensions", Type.NUMBER, "", Role.NONE, "the extensions EHLO lists"),
            Value.of("starttls", Type.BOOLEAN, "", Role.NONE, "whether STARTTLS is offered"),
            Value.of("size_limit", Type.NUMBER, "bytes", Role.NONE, "the largest message the server takes (SIZE), 0 for no limit")),
            List.of(labelled("probe_smtp_duration_seconds", Sample.GAUGE, "Each phase of the last probe", "phase",
                    "connect", "phases.connect", "banner", "phases.banner", "ehlo", "phases.ehlo"),
                    of("probe_smtp_status_code", Sample.GAUGE, "The last greeting's reply code", "status_code"),
                    of("probe_smtp_starttls_offered", Sample.GAUGE, "1 if the last EHLO offered STARTTLS", "starttls"),
                    of("probe_smtp_size_limit_bytes", Sample.GAUGE, "The SIZE the last EHLO gave, 0 for no limit", "size_limit"),
                    of("probe_smtp_extensions", Sample.GAUGE, "Extensions the last EHLO listed", "extensions")),
            List.of(labelled("probe_smtp_duration_seconds", Sample.GAUGE, "Each phase of the probe", "phase",
                    "connect", "phases.connect", "banner", "phases.banner", "ehlo", "phases.ehlo"),
                    of("probe_smtp_status_code", Sample.GAUGE, "The greeting's reply code", "status_code"),
                    of("probe_smtp_starttls_offered", Sample.GAUGE, "1 if EHLO offered STARTTLS", "starttls")));

    private final ExecutorService threads = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "smtp-probe");
        t.setDaemon(true);
        return t;
    });

    @Deactivate
    void deactivate() {
        threads.shutdownNow();
    }

    @Override
    public TargetSchema schema() {
        return OPTIONS;
    }

    @Override
    public ResultSchema resultSchema() {
        return RESULTS;
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        AtomicReference<Socket> open = new AtomicReference<>();
        Future<?> task;
        try {
            task = threads.submit(() -> result.complete(new Exchange(target, open).run()));
        } catch (RejectedExecutionException e) {
            result.complete(MeasuredResult.failure(target, Instant.now(), Duration.ZERO, FailureReason.ERROR, "the prober is stopping",
                    RESULTS, Map.of()));
            return result;
        }
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) { // the scheduler's timeout: close the socket
                task.cancel(true);
                Socket s = open.get();
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing is all that is asked
                    }
                }
            }
        });
        return result;
    }

    /** One probe, on a thread of the prober's. */
    private static final class Exchange {
        private final Target target;
        private final AtomicReference<Socket> open;
        private final Instant startedAt = Instant.now();
        private final long start = System.nanoTime();
        private final Map<String, Object> values = new LinkedHashMap<>();
        private final Map<String, Duration> phases = new LinkedHashMap<>();

        Exchange(Target target, AtomicReference<Socket> open) {
            this.target = target;
            this.open = open;
        }

        MeasuredResult run() {
            try (Socket s = new Socket()) {
                open.set(s);
                InetAddress address = InetAddress.getByName(target.host());
                long t = System.nanoTime();
                s.connect(new InetSocketAddress(address, target.port() == 0 ? 25 : target.port()), (int) Math.max(1, left().toMillis()));
                phases.put("connect", since(t));
                s.setSoTimeout((int) Math.max(1, left().toMillis()));
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                t = System.nanoTime();
                List<String> greeting = reply(in);
                phases.put("banner", since(t));
                String first = greeting.get(0);
                int code = code(first);
                values.put("status_code", code);
                values.put("banner", first.length() > 4 ? first.substring(4) : "");
                if (code != 220) {
                    return result(FailureReason.STATUS, "the greeting is " + shorten(first));
                }
                t = System.nanoTime();
                out.write(("EHLO " + HELO_NAME.value(target) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                List<String> ehlo = reply(in);
                phases.put("ehlo", since(t));
                if (code(ehlo.get(0)) != 250) {
                    return result(FailureReason.STATUS, "EHLO was answered " + shorten(ehlo.get(0)));
                }
                values.put("extensions", ehlo.size() - 1);
                boolean tls = false;
                for (String line : ehlo.subList(1, ehlo.size())) {
                    String ext = line.length() > 4 ? line.substring(4).strip().toUpperCase(Locale.ROOT) : "";
                    tls |= ext.equals("STARTTLS");
                    if (ext.startsWith("SIZE")) {
                        String[] p = ext.split("\\s+");
                        try {
                            values.put("size_limit", p.length > 1 ? Long.parseLong(p[1]) : 0L);
                        } catch (NumberFormatException e) {
                            // a SIZE without a number: left out
                        }
                    }
                }
                values.put("starttls", tls);
                out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return result(null, null);
            } catch (UnknownHostException e) {
                return result(FailureReason.DNS, "'" + target.host() + "' does not resolve");
            } catch (SocketTimeoutException e) {
                return result(FailureReason.TIMEOUT, "no answer within " + target.timeout().toMillis() + " ms");
            } catch (ConnectException e) {
                return result(FailureReason.REFUSED, "connection refused: " + e.getMessage());
            } catch (IOException e) {
                return result(FailureReason.ERROR, String.valueOf(e.getMessage()));
            } finally {
                open.set(null);
            }
        }

        private Duration left() {
            return target.timeout().minusNanos(System.nanoTime() - start);
        }

        private static Duration since(long t) {
            return Duration.ofNanos(System.nanoTime() - t);
        }

        private MeasuredResult result(FailureReason reason, String message) {
            if (!phases.isEmpty()) {
                values.put("phases", new LinkedHashMap<>(phases));
            }
            return new MeasuredResult(target, startedAt, since(start), reason, message, RESULTS, values);
        }
    }

    /** A reply's lines: {@code 250-...} lines go on to the last, {@code 250 ...}. */
    static List<String> reply(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < MAX_LINES; i++) {
            String l = line(in);
            lines.add(l);
            if (l.length() < 4 || l.charAt(3) != '-') {
                return lines;
            }
        }
        throw new IOException("an answer of more than " + MAX_LINES + " lines");
    }

    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < MAX_LINE; i++) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the server closed the connection" + (b.length() == 0 ? "" : " after '" + shorten(b.toString()) + "'"));
            }
            if (c == '\n') {
                int end = b.length();
                return end > 0 && b.charAt(end - 1) == '\r' ? b.substring(0, end - 1) : b.toString();
            }
            b.append((char) c);
        }
        throw new IOException("a line longer than " + MAX_LINE + " bytes");
    }

    static int code(String line) throws IOException {
        if (line.length() < 3) {
            throw new IOException("not an SMTP reply: '" + shorten(line) + "'");
        }
        try {
            return Integer.parseInt(line.substring(0, 3));
        } catch (NumberFormatException e) {
            throw new IOException("not an SMTP reply: '" + shorten(line) + "'");
        }
    }

    static String shorten(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 200 ? b + "..." : b.toString();
    }
}
