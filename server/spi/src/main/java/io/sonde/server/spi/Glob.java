package io.sonde.server.spi;

import java.util.regex.Pattern;

/**
 * A name pattern of silences, maintenance windows, objectives and status pages: exact, with
 * {@code *} for any run of characters.
 *
 * @since 1.16
 */
public final class Glob {

    private Glob() {
    }

    /** @return whether {@code value} matches {@code pattern} whole */
    public static boolean matches(String pattern, String value) {
        StringBuilder re = new StringBuilder();
        String[] parts = pattern.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            re.append(i == 0 ? "" : ".*").append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(value).matches();
    }
}
