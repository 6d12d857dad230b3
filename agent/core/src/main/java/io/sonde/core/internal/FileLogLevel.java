package io.sonde.core.internal;

import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The targets file's {@code log_level}: the level of Sonde's loggers ({@code io.sonde}) while the
 * file sets one, the level before it put back when the file no longer does. Used on the core's
 * thread only.
 */
final class FileLogLevel {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class); // the core's log, as before

    /** Sonde's loggers, while the targets file's log_level sets their level (held: JUL keeps loggers weakly). */
    private java.util.logging.Logger fileLevelLogger;
    private java.util.logging.Level levelBeforeFile;
    private Object appliedLogLevel;

    /**
     * Applies the targets file's {@code log_level} to Sonde's loggers, or puts back the level it replaced.
     *
     * @param value the file's {@code log_level}, or null when it sets none
     * @return false when the value, changed since the last call, is no level (logged, naming the file and key; the level
     *         in force stays); the same value again is not reported again
     */
    boolean apply(Path path, Object value) {
        if (java.util.Objects.equals(value, appliedLogLevel)) {
            return true;
        }
        appliedLogLevel = value;
        if (value == null) {
            if (fileLevelLogger != null) {
                fileLevelLogger.setLevel(levelBeforeFile);
                LOG.info("{} no longer sets log_level: Sonde's loggers are back to {}", path,
                        levelBeforeFile == null ? "etc/logging.properties" : levelBeforeFile);
                fileLevelLogger = null;
            }
            return true;
        }
        java.util.logging.Level level;
        try {
            level = TargetsFile.logLevel(value);
        } catch (IllegalArgumentException e) {
            LOG.warn("Configuration error: {}: key 'log_level': {}; the level in force stays", path, e.getMessage());
            return false;
        }
        if (fileLevelLogger == null) {
            fileLevelLogger = java.util.logging.Logger.getLogger("io.sonde");
            levelBeforeFile = fileLevelLogger.getLevel();
        }
        fileLevelLogger.setLevel(level);
        LOG.info("Sonde's loggers log at {} ({} from {})", level, value, path);
        return true;
    }
}
