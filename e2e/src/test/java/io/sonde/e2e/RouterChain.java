package io.sonde.e2e;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The test network of lab/router-chain.sh, under a prefix of the test's own (root). */
final class RouterChain {

    static final Path SCRIPT = Path.of("../lab/router-chain.sh").toAbsolutePath().normalize();

    private RouterChain() {
    }

    /**
     * Runs {@code router-chain.sh up} or {@code down} for the namespaces named {@code prefix-*}.
     *
     * @return what the script said
     */
    static String run(String prefix, String action) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(SCRIPT.toString(), action).redirectErrorStream(true);
        pb.environment().put("SONDE_LAB_PREFIX", prefix);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError("lab " + action + " failed: " + out);
        }
        return out;
    }
}
