package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.Test;

/**
 * The house rule of docs/architecture.md: no main class above 500 lines without a one-line reason
 * at its top ({@code // Over 500 lines: ...}, just before the class's Javadoc), so that a long class
 * is a decision someone wrote down, not an accident. A reason left on a class that shrank goes too.
 */
public class ClassSizeIT {

    static final int LIMIT = 500;
    static final String REASON = "// Over 500 lines: ";
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    public void everyLongMainClassSaysWhy() throws IOException {
        List<String> unexplained = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        int read = 0;
        for (String tree : List.of("contract", "agent", "server", "platform", "plugins", "tools", "bench", "examples")) {
            try (Stream<Path> walk = Files.walk(ROOT.resolve(tree))) {
                for (Path f : walk.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/")
                        && !p.toString().contains("/target/")).toList()) {
                    List<String> lines = Files.readAllLines(f);
                    read++;
                    String reason = lines.stream().filter(l -> l.startsWith(REASON)).findFirst().orElse(null);
                    String where = ROOT.relativize(f) + " (" + lines.size() + " lines)";
                    if (lines.size() > LIMIT) {
                        if (reason == null || reason.length() < REASON.length() + 20) {
                            unexplained.add(where);
                        }
                    } else if (reason != null) {
                        stale.add(where);
                    }
                }
            }
        }
        assertTrue("main classes read: " + read, read > 300);
        assertEquals("main classes above " + LIMIT + " lines with no '" + REASON.strip() + " <why>' line at their top:\n"
                + String.join("\n", unexplained), List.of(), unexplained);
        assertEquals("main classes no longer above " + LIMIT + " lines that still say why they are:\n" + String.join("\n", stale),
                List.of(), stale);
    }
}
