package io.sonde.launcher;

import java.util.logging.LogManager;

/**
 * The JDK's log manager, except that it keeps its handlers open while the JVM shuts down until the
 * agent has stopped: the JDK's own shutdown hook would otherwise close them at once, and what the
 * bundles log while they stop would be lost. Selected with
 * {@code -Djava.util.logging.manager=io.sonde.launcher.AgentLogManager} (bin/sonde does).
 */
public final class AgentLogManager extends LogManager {

    private static volatile AgentLogManager instance;
    private volatile boolean released;

    public AgentLogManager() {
        instance = this;
    }

    @Override
    public void reset() {
        if (!released && shuttingDown()) {
            return; // Main releases it once the framework has stopped
        }
        super.reset();
    }

    /** Closes the handlers now: the agent has stopped. */
    static void release() {
        AgentLogManager m = instance;
        if (m != null) {
            m.released = true;
            m.reset();
        }
    }

    private static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }
}
