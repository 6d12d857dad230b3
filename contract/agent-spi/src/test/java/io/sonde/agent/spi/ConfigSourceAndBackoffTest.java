package io.sonde.agent.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.Target;

/** Where a configuration came from, and how far a failing target's probes are stretched. */
public class ConfigSourceAndBackoffTest {

    @Test
    public void configSources() {
        assertEquals("/opt/sonde/etc/io.sonde.target-web.cfg",
                ConfigSource.of(Map.of(ConfigSource.FILE_KEY, "file:/opt/sonde/etc/io.sonde.target-web.cfg"), "x"));
        assertEquals("configuration x", ConfigSource.of(Map.of(), "configuration x"));
        assertEquals("web", ConfigSource.nameFromFile("/opt/sonde/etc/io.sonde.target-web.cfg", "io.sonde.target"));
        assertNull(ConfigSource.nameFromFile("/opt/sonde/etc/io.sonde.target-.cfg", "io.sonde.target"));
        assertTrue(ConfigSource.isFrameworkKey("service.pid") && ConfigSource.isFrameworkKey("objectClass"));
        assertTrue(!ConfigSource.isFrameworkKey("count"));
        List<String> said = new java.util.ArrayList<>();
        assertEquals(Integer.valueOf(9100), ConfigSource.typed(() -> {
            throw new IllegalArgumentException("Could not coerce value abc to type int");
        }, "port", 9100, "etc/e.cfg", said::add));
        assertEquals(List.of("etc/e.cfg: key 'port': Could not coerce value abc to type int; using 9100"), said);
    }

    @Test
    public void backoffDoublesFromTheThresholdUpToItsCeiling() {
        Target t = new Target("t", "x", "h", 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(),
                Map.of("backoff_max_ms", "5000"), "f.cfg");
        assertEquals(Duration.ofSeconds(1), Backoff.interval(t, 2));
        assertEquals(Duration.ofSeconds(2), Backoff.interval(t, 3));
        assertEquals(Duration.ofSeconds(4), Backoff.interval(t, 4));
        assertEquals(Duration.ofSeconds(5), Backoff.interval(t, 5));
        assertEquals(Duration.ofSeconds(5), Backoff.interval(t, 1_000_000));
        Target off = new Target("t", "x", "h", 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(),
                Map.of("backoff", "OFF"), "f.cfg");
        assertEquals(Duration.ofSeconds(1), Backoff.interval(off, 100));
        Target slow = new Target("t", "x", "h", 1, Duration.ofMinutes(10), Duration.ofSeconds(1), Set.of(), Map.of(), "f.cfg");
        assertEquals("never below its own interval", Duration.ofMinutes(10), Backoff.interval(slow, 10));
    }
}
