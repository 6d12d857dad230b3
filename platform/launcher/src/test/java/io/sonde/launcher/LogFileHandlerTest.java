package io.sonde.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class LogFileHandlerTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static final Formatter PLAIN = new Formatter() {
        @Override
        public String format(LogRecord r) {
            return r.getMessage() + "\n";
        }
    };

    private static LogRecord record(String message) {
        return new LogRecord(Level.INFO, message);
    }

    @Test
    public void rotatesBySizeAndKeepsCountFiles() throws Exception {
        Path file = tmp.getRoot().toPath().resolve("log/sonde.log");
        LogFileHandler h = new LogFileHandler(file, 1024, 3);
        h.setFormatter(PLAIN);
        String line = "x".repeat(99); // 100 bytes with the newline
        for (int i = 0; i < 100; i++) {
            h.publish(record(String.format("%03d", i) + line.substring(3)));
        }
        h.close();
        List<String> names;
        try (var s = Files.list(file.getParent())) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("sonde.log", "sonde.log.1", "sonde.log.2"), names);
        for (String n : names) {
            assertTrue(n + " is over its limit", Files.size(file.resolveSibling(n)) <= 1024);
        }
        // the newest record is last in the current file, and the files follow each other without gaps
        List<String> current = Files.readAllLines(file);
        assertTrue(current.get(current.size() - 1).startsWith("099"));
        List<String> all = new java.util.ArrayList<>(Files.readAllLines(h.rotated(2)));
        all.addAll(Files.readAllLines(h.rotated(1)));
        all.addAll(current);
        int first = Integer.parseInt(all.get(0).substring(0, 3));
        for (int i = 0; i < all.size(); i++) {
            assertEquals(first + i, Integer.parseInt(all.get(i).substring(0, 3)));
        }
    }

    @Test
    public void appendsToTheFileOfAnEarlierRun() throws Exception {
        Path file = tmp.getRoot().toPath().resolve("sonde.log");
        Files.writeString(file, "earlier\n");
        LogFileHandler h = new LogFileHandler(file, 1 << 20, 5);
        h.setFormatter(PLAIN);
        h.publish(record("now"));
        h.close();
        assertEquals(List.of("earlier", "now"), Files.readAllLines(file));
    }

    @Test
    public void anUnwritableFileDropsAndCountsRecordsAndSaysSoWhenItCanWriteAgain() throws Exception {
        Path dir = tmp.getRoot().toPath().resolve("log");
        Path file = dir.resolve("sonde.log");
        LogFileHandler h = new LogFileHandler(file, 1 << 20, 5);
        h.setFormatter(PLAIN);
        h.retryMs = 0;
        h.publish(record("before"));
        h.close();
        // the directory is replaced by a plain file: nothing under it can be written
        Files.delete(file);
        Files.delete(dir);
        Files.writeString(dir, "not a directory");
        for (int i = 0; i < 3; i++) {
            h.publish(record("lost " + i)); // never throws
        }
        assertEquals(3, h.dropped());
        Files.delete(dir);
        h.publish(record("after"));
        h.close();
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size());
        assertTrue(lines.get(0), lines.get(0).contains("3 log records were dropped: the log file " + file + " cannot be written"));
        assertEquals("after", lines.get(1));
        assertEquals(0, h.dropped());
    }

    @Test
    public void waitsBeforeTryingAFailedFileAgain() throws Exception {
        Path dir = tmp.getRoot().toPath().resolve("gone");
        Files.writeString(dir, "a file where the directory should be");
        LogFileHandler h = new LogFileHandler(dir.resolve("sonde.log"), 1 << 20, 5);
        h.setFormatter(PLAIN);
        h.publish(record("one"));
        Files.delete(dir);
        h.publish(record("two")); // within the retry gap: dropped without trying
        assertEquals(2, h.dropped());
        assertFalse(Files.exists(dir));
    }

    @Test
    public void jsonLinesAreOneObjectPerLineWithEscapesAndStructuredFields() {
        LogRecord r = new LogRecord(Level.WARNING, "a \"quoted\" {0}\nsecond line\u0001");
        r.setParameters(new Object[] {"word"});
        r.setLoggerName("io.sonde.test");
        r.setMillis(1_700_000_000_123L);
        r.setThrown(new IllegalStateException("boom"));
        org.slf4j.MDC.put("target", "web\\1");
        org.slf4j.MDC.put("message", "clash");
        String line;
        try {
            line = new JsonLineFormatter().format(r);
        } finally {
            org.slf4j.MDC.clear();
        }
        assertTrue(line.endsWith("}\n"));
        assertEquals(1, line.split("\n", -1).length - 1);
        assertTrue(line, line.startsWith("{\"time\":\"2023-11-14T22:13:20.123Z\",\"level\":\"WARNING\",\"logger\":\"io.sonde.test\","));
        assertTrue(line, line.contains("\"message\":\"a \\\"quoted\\\" word\\nsecond line\\u0001\""));
        assertTrue(line, line.contains("\"error\":\"java.lang.IllegalStateException: boom\\n\\tat "));
        assertTrue(line, line.contains("\"target\":\"web\\\\1\""));
        assertTrue(line, line.contains("\"mdc_message\":\"clash\""));
    }
}
