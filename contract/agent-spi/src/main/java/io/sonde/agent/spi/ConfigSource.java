package io.sonde.agent.spi;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * The conventions of configurations that come from {@code etc/}: where one came from, for messages,
 * the name a factory configuration's file gives it, and the keys the framework adds. One copy, for
 * every bundle that reads configurations and names their files in its messages.
 *
 * @since 1.3
 */
public final class ConfigSource {

    /** The key FileInstall adds to a configuration it read from a file: the file's URL. */
    public static final String FILE_KEY = "felix.fileinstall.filename";

    private ConfigSource() {
    }

    /**
     * @param properties a configuration's properties
     * @param fallback   what to say when it did not come from a file, for example {@code "configuration io.sonde.agent"}
     * @return the path of the file the configuration was read from, else {@code fallback}
     */
    public static String of(Map<String, ?> properties, String fallback) {
        Object file = properties.get(FILE_KEY);
        if (file == null) {
            return fallback;
        }
        try {
            return Path.of(new URI(file.toString())).toString();
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return file.toString();
        }
    }

    /**
     * @param source     the file of a factory configuration, as {@link #of} gave it
     * @param factoryPid the factory PID, for example {@code io.sonde.target}
     * @return the {@code NAME} of {@code <factoryPid>-NAME.cfg}, or {@code null} if the file is not named so
     */
    public static String nameFromFile(String source, String factoryPid) {
        String fileName = source.substring(source.lastIndexOf('/') + 1);
        String prefix = factoryPid + "-";
        if (fileName.startsWith(prefix) && fileName.endsWith(".cfg") && fileName.length() > prefix.length() + 4) {
            return fileName.substring(prefix.length(), fileName.length() - ".cfg".length());
        }
        return null;
    }

    /**
     * Reads one value of a typed configuration (a Declarative Services component property type),
     * whose getter throws when the configured text does not convert to the type.
     *
     * @param value    the getter, for example {@code config::port}
     * @param key      the configuration key, for the message
     * @param fallback the value to use instead
     * @param source   where the configuration comes from ({@link #of})
     * @param problems told what is wrong, one line naming the file, the key and the value
     * @return the configured value, or {@code fallback} if it does not convert
     */
    public static <T> T typed(java.util.function.Supplier<T> value, String key, T fallback, String source,
            java.util.function.Consumer<String> problems) {
        try {
            return value.get();
        } catch (RuntimeException e) {
            problems.accept(source + ": key '" + key + "': " + words(e) + "; using " + fallback);
            return fallback;
        }
    }

    /** @return why DS could not convert a value, in words ({@code 'fast' is not a whole number}), not the exception's text */
    static String words(RuntimeException e) {
        // DS wraps the conversion's NumberFormatException, sometimes only as text in its message
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage();
            java.util.regex.Matcher quoted = java.util.regex.Pattern.compile("For input string: \"(.*?)\"").matcher(m);
            if (quoted.find()) {
                return "'" + quoted.group(1) + "' is not a number";
            }
            if (t instanceof NumberFormatException) {
                return "the value is not a number";
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** @return whether ConfigAdmin, FileInstall, DS or the framework added {@code key} to a configuration */
    public static boolean isFrameworkKey(String key) {
        return key.startsWith("service.") || key.startsWith("felix.") || key.startsWith("component.")
                || key.startsWith("osgi.") || key.equals("objectClass");
    }
}
