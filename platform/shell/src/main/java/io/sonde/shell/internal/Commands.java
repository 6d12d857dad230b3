package io.sonde.shell.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import io.sonde.agent.spi.StatusReport;

/**
 * The Gogo shell's {@code sonde:status} and {@code sonde:targets}, in the agent and the server
 * alike: the sections every bundle reports ({@link StatusReport}), as the agent's {@code /status}
 * and {@code sonde-cli status} show them. Gogo finds this service by its command properties; the
 * shell itself is installed only when the operator starts with {@code SONDE_SHELL=true}.
 */
@Component(service = Commands.class, property = {"osgi.command.scope=sonde", "osgi.command.function=status",
        "osgi.command.function=targets"})
public final class Commands {

    /** Rows {@code sonde:targets} prints at most. */
    static final int MAX_ROWS = 1000;

    private final Map<String, StatusReport> reports = new ConcurrentSkipListMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addReport(StatusReport report, Map<String, Object> properties) {
        reports.put(section(properties), report);
    }

    void removeReport(StatusReport report, Map<String, Object> properties) {
        reports.remove(section(properties), report);
    }

    private static String section(Map<String, Object> properties) {
        return String.valueOf(properties.getOrDefault(StatusReport.SECTION, "unnamed"));
    }

    /** {@code sonde:status}: every section, one {@code key: value} line per entry; lists counted. */
    public String status() {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Map<String, Object>> s : sections().entrySet()) {
            b.append(s.getKey()).append('\n');
            for (Map.Entry<String, Object> e : s.getValue().entrySet()) {
                Object v = e.getValue();
                String text = v instanceof List<?> l ? l.size() + (l.size() == 1 ? " entry" : " entries")
                        : v instanceof Map<?, ?> m && m.size() > 8 ? m.size() + " entries" : String.valueOf(v);
                b.append("  ").append(e.getKey()).append(": ").append(text).append('\n');
            }
        }
        return b.length() == 0 ? "No bundle reports its status" : b.toString();
    }

    /**
     * {@code sonde:targets}: the targets every section lists (a {@code targets} list of maps), joined
     * by name with what other sections keep per target (the scheduler's state, the last result).
     */
    public String targets() {
        Map<String, Map<String, Object>> sections = sections();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> s : sections.values()) {
            if (s.get("targets") instanceof List<?> list) {
                for (Object o : list) {
                    if (o instanceof Map<?, ?> m) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        m.forEach((k, v) -> row.put(String.valueOf(k), v));
                        rows.add(row);
                    }
                }
            }
        }
        // per-target maps elsewhere: {name: {state: ..}} in a section's "targets", or a section of them
        for (Map.Entry<String, Map<String, Object>> s : sections.entrySet()) {
            Map<?, ?> byName = s.getValue().get("targets") instanceof Map<?, ?> m ? m : s.getValue();
            for (Map<String, Object> row : rows) {
                if (byName.get(row.get("name")) instanceof Map<?, ?> more) {
                    more.forEach((k, v) -> row.putIfAbsent(String.valueOf(k), v));
                }
            }
        }
        if (rows.isEmpty()) {
            return "No targets";
        }
        Set<String> columns = new LinkedHashSet<>();
        rows.forEach(r -> columns.addAll(r.keySet()));
        List<String[]> lines = new ArrayList<>();
        lines.add(columns.toArray(String[]::new));
        for (Map<String, Object> r : rows.subList(0, Math.min(rows.size(), MAX_ROWS))) {
            lines.add(columns.stream().map(c -> r.get(c) == null ? "-" : String.valueOf(r.get(c))).toArray(String[]::new));
        }
        return table(lines) + (rows.size() > MAX_ROWS ? "... and " + (rows.size() - MAX_ROWS) + " more\n" : "");
    }

    private Map<String, Map<String, Object>> sections() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        reports.forEach((name, report) -> {
            try {
                out.put(name, report.status());
            } catch (RuntimeException e) {
                out.put(name, Map.of("error", String.valueOf(e)));
            }
        });
        return out;
    }

    /** Columns padded to their widest cell. */
    static String table(List<String[]> lines) {
        int[] width = new int[lines.get(0).length];
        for (String[] l : lines) {
            for (int i = 0; i < l.length; i++) {
                width[i] = Math.max(width[i], l[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] l : lines) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < l.length; i++) {
                line.append(String.format("%-" + width[i] + "s  ", l[i]));
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }
}
