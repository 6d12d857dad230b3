package io.sonde.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.embed.Monitor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli probe}: probes a host now with the agent's own plugins, no running agent needed.
 */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = {"Probes HOST now with the agent's installed plugin of KIND (tcp, icmp, traceroute, http, udp, dns, or a"
                + " plugin's own) and prints each result and a summary; with --watch, a live table (mtr-style for"
                + " traceroute) refreshed in place until q. Hops show their AS where an IP-to-AS table is at hand (--asn).",
                "Exit code 0: every probe succeeded; 1: some failed; 2: a wrong command line or no plugin for KIND."},
        footer = {"", "Examples:", "  sonde-cli probe tcp 127.0.0.1 --port 22 --count 5",
                "  sonde-cli probe icmp 192.0.2.1 --set count=5 --watch", "  sonde-cli probe traceroute 192.0.2.1 --watch"})
final class ProbeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "The probe kind")
    String kind;

    @Parameters(index = "1", paramLabel = "HOST", description = "Host name or address (a URL for http)")
    String host;

    @Option(names = {"-p", "--port"}, description = "Port, for kinds that need one")
    Integer port;

    @Option(names = {"-c", "--count"}, defaultValue = "3", description = "Probes to send (default ${DEFAULT-VALUE}); with --watch, until q")
    int count;

    @Option(names = {"-i", "--interval"}, defaultValue = "1000", paramLabel = "MS", description = "Milliseconds between probes (default ${DEFAULT-VALUE})")
    long intervalMs;

    @Option(names = {"-t", "--timeout"}, paramLabel = "MS", description = "Milliseconds a probe may take (default: the kind's, at most the interval)")
    Long timeoutMs;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "A key of the kind, as in a target file (repeatable): --set count=5")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = {"-w", "--watch"}, description = "A live table refreshed in place; q quits")
    boolean watch;

    @Option(names = "--asn", paramLabel = "FILE", description = "An IP-to-AS table (pyasn, iptoasn or an MRT RIB dump, gzip or"
            + " not) for an AS column of the hops; default: the agent's own table (file in etc/io.sonde.asn.cfg), if it has one")
    java.nio.file.Path asnFile;

    /** The hops' AS table: --asn, else the agent's configured one, else none. */
    private io.sonde.asn.AsnLookup asns;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (count < 1 || intervalMs < 10) {
            err.println("--count must be at least 1 and --interval at least 10 ms");
            return 2;
        }
        Map<String, Object> target = new LinkedHashMap<>(settings);
        target.put("name", "cli");
        target.put("kind", kind);
        target.put("host", host);
        if (port != null) {
            target.put("port", port);
        }
        target.put("interval_ms", intervalMs);
        if (timeoutMs != null) {
            target.put("timeout_ms", timeoutMs);
        }
        target.put("backoff", "off");
        try {
            asns = asnTable();
        } catch (java.io.IOException | io.sonde.asn.AsnTable.FormatException e) {
            err.println("The IP-to-AS table cannot be read: " + e.getMessage());
            return 2;
        }
        try (Monitor monitor = Monitor.start(SondeCli.home())) {
            if (!monitor.awaitKind(kind, Duration.ofSeconds(10))) {
                err.println("No installed plugin probes kind '" + kind + "'; installed: " + String.join(", ", monitor.kinds())
                        + " (plugins from " + SondeCli.home().resolve("plugins") + ")");
                return 2;
            }
            List<String> problems = monitor.check(target, "probe " + kind + " " + host);
            if (!problems.isEmpty()) {
                problems.forEach(err::println);
                return 2;
            }
            LinkedBlockingQueue<ProbeResult> results = new LinkedBlockingQueue<>();
            try (AutoCloseable s = monitor.subscribe(results::add)) {
                monitor.add(target);
                return watch ? watch(monitor, results, out) : count(results, out, err);
            }
        }
    }

    /** @return the table of --asn, else of the agent's etc/io.sonde.asn.cfg ({@code file}, relative to the home), else null */
    private io.sonde.asn.AsnLookup asnTable() throws java.io.IOException, io.sonde.asn.AsnTable.FormatException {
        java.nio.file.Path file = asnFile;
        if (file == null) {
            java.nio.file.Path cfg = SondeCli.home().resolve("etc/io.sonde.asn.cfg");
            if (!java.nio.file.Files.isReadable(cfg)) {
                return null;
            }
            java.util.Properties p = new java.util.Properties();
            try (java.io.Reader r = java.nio.file.Files.newBufferedReader(cfg)) {
                p.load(r);
            }
            String name = p.getProperty("file");
            if (name == null || name.isBlank()) {
                return null;
            }
            file = SondeCli.home().resolve(name.strip());
        }
        try {
            return io.sonde.asn.AsnLookup.of(io.sonde.asn.AsnTable.read(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new java.io.IOException(file + ": no such file", e);
        }
    }

    /** Prints each result as it comes, then the summary table. */
    private int count(LinkedBlockingQueue<ProbeResult> results, PrintWriter out, PrintWriter err) throws InterruptedException {
        Stats stats = new Stats(asns);
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"#", "Time", "Result", "Time ms", "Detail"});
        long wait = intervalMs + (timeoutMs == null ? 30_000 : timeoutMs) + 5_000;
        int failed = 0;
        for (int i = 1; i <= count; i++) {
            ProbeResult r = results.poll(wait, TimeUnit.MILLISECONDS);
            if (r == null) {
                err.println("No result within " + wait + " ms");
                return 1;
            }
            stats.add(r);
            failed += r.isSuccessful() ? 0 : 1;
            lines.add(new String[] {Integer.toString(i), TIME.format(r.startedAt()), r.isSuccessful() ? "ok" : r.failureReason().label(),
                    String.format("%.2f", r.responseTime().toNanos() / 1e6), r.isSuccessful() ? detail(r) : r.errorMessage()});
        }
        out.println(Stats.render(lines));
        out.print(stats.table());
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    /**
     * What a successful result says beyond its time, briefly, for any kind by the roles of its
     * values: replies of requests sent, hops of a path, the answer code, the address, a
     * certificate's expiry, and the names of its true flags.
     */
    static String detail(ProbeResult r) {
        ResultSchema schema = r.schema();
        Map<String, Object> values = r.values();
        List<String> parts = new ArrayList<>();
        double sent = role(schema, values, ResultSchema.Role.SENT);
        double received = role(schema, values, ResultSchema.Role.RECEIVED);
        Object address = schema.withRole(ResultSchema.Role.ADDRESS).map(v -> values.get(v.name())).orElse(null);
        if (!Double.isNaN(sent) && !Double.isNaN(received)) {
            parts.add((long) received + "/" + (long) sent + " replies from " + (address == null ? "?" : ResultSchema.text(address)));
            address = null;
        }
        double hops = role(schema, values, ResultSchema.Role.PATH);
        if (!Double.isNaN(hops)) {
            parts.add((long) hops + " hops");
        }
        double status = role(schema, values, ResultSchema.Role.STATUS_CODE);
        if (!Double.isNaN(status)) {
            parts.add("status " + (long) status);
        }
        if (address != null) {
            parts.add(ResultSchema.text(address));
        }
        Object expiry = schema.withRole(ResultSchema.Role.CERT_EXPIRY).map(v -> values.get(v.name())).orElse(null);
        if (expiry != null) {
            parts.add("certificate until " + expiry);
        }
        for (ResultSchema.Value v : schema.values()) {
            if (!v.local() && v.type() == ResultSchema.Type.BOOLEAN && Boolean.TRUE.equals(values.get(v.name()))) {
                parts.add(v.name());
            }
        }
        return String.join(", ", parts);
    }

    private static double role(ResultSchema schema, Map<String, Object> values, ResultSchema.Role role) {
        return schema.withRole(role).map(v -> ResultSchema.number(values.get(v.name()))).orElse(Double.NaN);
    }

    /** The live table, redrawn after every result and on resize; q (or Ctrl-C) ends it. */
    private int watch(Monitor monitor, LinkedBlockingQueue<ProbeResult> results, PrintWriter fallback) throws Exception {
        Stats stats = new Stats(asns);
        try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
            org.jline.terminal.Attributes saved = terminal.enterRawMode();
            PrintWriter w = terminal.writer();
            try {
                w.print("\033[?1049h\033[?25l"); // the alternate screen, as full-screen programs use; cursor hidden
                draw(w, stats);
                while (true) {
                    int c = terminal.reader().read(100);
                    if (c == 'q' || c == 'Q' || c == 3 || c == -1) {
                        break;
                    }
                    boolean changed = false;
                    for (ProbeResult r; (r = results.poll()) != null;) {
                        stats.add(r);
                        changed = true;
                    }
                    if (changed) {
                        draw(w, stats);
                    }
                }
            } finally {
                w.print("\033[?25h\033[?1049l");
                w.flush();
                terminal.setAttributes(saved);
            }
        }
        fallback.print(stats.table()); // the last table stays on the terminal, as mtr's report does
        fallback.flush();
        return 0;
    }

    private void draw(PrintWriter w, Stats stats) {
        StringBuilder b = new StringBuilder("\033[H\033[2J");
        b.append("sonde-cli probe ").append(kind).append(' ').append(host).append(port == null ? "" : ":" + port)
                .append("   every ").append(intervalMs).append(" ms   ").append(stats.results()).append(" results   q quits\r\n\r\n");
        b.append(stats.table().replace("\n", "\r\n"));
        if (stats.lastError() != null) {
            b.append("\r\nlast: ").append(stats.lastError()).append("\r\n");
        }
        w.print(b);
        w.flush();
    }
}
