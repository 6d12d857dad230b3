package io.sonde.server.alerts.internal;

import java.util.regex.Pattern;

/** A name pattern of silences and maintenance windows: exact, with {@code *} for any run of characters. */
final class Glob {

    private Glob() {
    }

    /** @return whether {@code value} matches {@code pattern} whole */
    static boolean matches(String pattern, String value) {
        StringBuilder re = new StringBuilder();
        String[] parts = pattern.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            re.append(i == 0 ? "" : ".*").append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(value).matches();
    }
}
