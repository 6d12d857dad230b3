package io.sonde.launcher;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.logging.ErrorManager;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

/**
 * Writes log records to a file under {@code log/}, rotated by size: when the file would pass
 * {@code limit} bytes it becomes {@code <file>.1} (the older ones move up to {@code <file>.<count-1>},
 * the oldest is deleted) and a new file starts. Configured in {@code etc/logging.properties}:
 * <pre>
 * io.sonde.launcher.LogFileHandler.file      = log/sonde.log   (relative to the home)
 * io.sonde.launcher.LogFileHandler.limit     = 10485760        (bytes per file)
 * io.sonde.launcher.LogFileHandler.count     = 5               (files kept, the current one included)
 * io.sonde.launcher.LogFileHandler.formatter = java.util.logging.SimpleFormatter | io.sonde.launcher.JsonLineFormatter
 * io.sonde.launcher.LogFileHandler.level     = ALL
 * </pre>
 *
 * <p>Logging never stops the program: a record that cannot be written (a full disk, a directory
 * that went away) is dropped and counted, the file is tried again at most every
 * {@value #RETRY_MS} ms, and the first record written after that says how many were dropped and
 * why. Nothing here blocks on a full disk: the system refuses the write at once.
 */
public final class LogFileHandler extends Handler {

    /** Gap between tries of a file that could not be written. */
    static final long RETRY_MS = 5000;
    static final long DEFAULT_LIMIT = 10L * 1024 * 1024;
    static final int DEFAULT_COUNT = 5;

    private final Path file;
    private final long limit;
    private final int count;
    private OutputStream out;
    private long written;
    private long dropped;
    private String dropReason;
    private long retryAt;
    /** {@link #RETRY_MS}; shorter in tests. */
    long retryMs = RETRY_MS;

    /** As configured in the logging properties (see the class comment). */
    public LogFileHandler() {
        this(configuredFile(), longProperty("limit", DEFAULT_LIMIT), (int) longProperty("count", DEFAULT_COUNT));
        LogManager m = LogManager.getLogManager();
        String level = m.getProperty(getClass().getName() + ".level");
        setLevel(level == null ? Level.ALL : Level.parse(level.strip()));
        setFormatter(configuredFormatter(m.getProperty(getClass().getName() + ".formatter")));
        try {
            setEncoding("UTF-8");
        } catch (java.io.UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param file  the current file; rotated ones are {@code file.1} … {@code file.(count-1)}
     * @param limit bytes per file, at least 1 KiB
     * @param count files kept, at least 1
     */
    LogFileHandler(Path file, long limit, int count) {
        this.file = file;
        this.limit = Math.max(1024, limit);
        this.count = Math.max(1, count);
        setFormatter(new SimpleFormatter());
    }

    @Override
    public synchronized void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String text;
        try {
            text = getFormatter().format(record);
        } catch (RuntimeException e) {
            reportError("Cannot format a log record", e, ErrorManager.FORMAT_FAILURE);
            return;
        }
        long now = System.currentTimeMillis();
        if (out == null && now < retryAt) {
            drop(null);
            return;
        }
        try {
            if (dropped > 0) {
                String note = String.format("%1$tF %1$tT.%1$tL WARNING [%2$s] %3$d log records were dropped: %4$s%n", now,
                        LogFileHandler.class.getName(), dropped, dropReason);
                write(note.getBytes(StandardCharsets.UTF_8));
                dropped = 0;
            }
            write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            retryAt = now + retryMs;
            drop("the log file " + file + " cannot be written (" + e.getMessage() + ")");
        }
    }

    private void drop(String reason) {
        dropped++;
        if (reason != null) {
            dropReason = reason;
        }
    }

    /** Writes {@code bytes}, rotating first when they would take the file past its limit. */
    private void write(byte[] bytes) throws IOException {
        if (out == null) {
            open();
        }
        if (written > 0 && written + bytes.length > limit) {
            rotate();
        }
        out.write(bytes);
        out.flush();
        written += bytes.length;
    }

    private void open() throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        written = Files.size(file);
    }

    /** file.(count-2) → file.(count-1), …, file → file.1; the oldest is overwritten. */
    private void rotate() throws IOException {
        closeQuietly();
        if (count == 1) {
            Files.deleteIfExists(file);
        } else {
            for (int i = count - 2; i >= 1; i--) {
                Path from = rotated(i);
                if (Files.exists(from)) {
                    Files.move(from, rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(file, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    Path rotated(int generation) {
        return file.resolveSibling(file.getFileName() + "." + generation);
    }

    /** Records dropped since the last one written. */
    synchronized long dropped() {
        return dropped;
    }

    @Override
    public synchronized void flush() {
        if (out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                closeQuietly();
            }
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                // the bytes are lost either way; counted by the caller when it matters
            }
            out = null;
        }
    }

    private static Path configuredFile() {
        Path home = io.sonde.base.Home.ofProcess();
        String name = System.getProperty("sonde.name", "agent");
        String configured = LogManager.getLogManager().getProperty(LogFileHandler.class.getName() + ".file");
        Path p = Path.of(configured == null || configured.isBlank()
                ? "log/" + ("agent".equals(name) ? "sonde" : "sonde-" + name) + ".log" : configured.strip());
        return p.isAbsolute() ? p : home.resolve(p).normalize();
    }

    private static long longProperty(String key, long fallback) {
        String v = LogManager.getLogManager().getProperty(LogFileHandler.class.getName() + "." + key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            System.err.println("logging.properties: " + LogFileHandler.class.getName() + "." + key + " = " + v
                    + " is not a whole number; " + fallback + " is used");
            return fallback;
        }
    }

    private static Formatter configuredFormatter(String name) {
        if (name == null || name.isBlank()) {
            return new SimpleFormatter();
        }
        try {
            return (Formatter) Class.forName(name.strip(), true, LogFileHandler.class.getClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            System.err.println("logging.properties: " + LogFileHandler.class.getName() + ".formatter = " + name
                    + " is not a formatter (" + e + "); the plain text format is used");
            return new SimpleFormatter();
        }
    }
}
