package io.sonde.exporter.internal;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import io.prometheus.client.exporter.common.TextFormat;

/**
 * Writes the exposition of several collectors as one. Families of the same name contributed by
 * different bundles (the core and the scheduler both report {@code sonde_targets}) are merged into
 * one family; samples with the same name and labels are added up.
 */
final class MetricsWriter {

    private MetricsWriter() {
    }

    static void write(Writer writer, Iterable<? extends Collector> collectors, Iterable<MetricFamilySamples> own)
            throws IOException {
        TextFormat.write004(writer, Collections.enumeration(merge(collectors, own)));
    }

    static List<MetricFamilySamples> merge(Iterable<? extends Collector> collectors, Iterable<MetricFamilySamples> own) {
        Map<String, MetricFamilySamples> byName = new LinkedHashMap<>();
        own.forEach(f -> add(byName, f));
        for (Collector c : collectors) {
            List<MetricFamilySamples> families;
            try {
                families = c.collect();
            } catch (RuntimeException e) {
                continue; // one broken contributor must not take /metrics down
            }
            families.forEach(f -> add(byName, f));
        }
        return new ArrayList<>(byName.values());
    }

    private static void add(Map<String, MetricFamilySamples> byName, MetricFamilySamples family) {
        MetricFamilySamples present = byName.get(family.name);
        if (present == null) {
            byName.put(family.name, family);
            return;
        }
        Map<List<String>, Sample> samples = new LinkedHashMap<>();
        for (List<Sample> list : List.of(present.samples, family.samples)) {
            for (Sample s : list) {
                List<String> key = new ArrayList<>();
                key.add(s.name);
                key.addAll(s.labelNames);
                key.addAll(s.labelValues);
                samples.merge(key, s, (a, b) -> new Sample(a.name, a.labelNames, a.labelValues, a.value + b.value));
            }
        }
        byName.put(family.name, new MetricFamilySamples(present.name, present.unit, present.type, present.help,
                new ArrayList<>(samples.values())));
    }
}
