package io.sonde.core.internal;

/**
 * What is wrong with one piece of configuration.
 *
 * @param source where: a file, and an entry within it
 * @param key    the offending key, or {@code null} when the problem is the whole entry or file
 * @param reason what is wrong, and what would be right
 */
record ConfigProblem(String source, String key, String reason) {

    /** @return one line naming the file, the key and the reason */
    String message() {
        return key == null
                ? source + ": " + reason
                : source + ": key '" + key + "': " + reason;
    }
}
