package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

import org.junit.Test;

/** bin/sonde stops cleanly on SIGTERM. */
public class ShutdownIT {

    @Test
    public void sigtermStopsTheAgentWithinFiveSecondsAndClosesItsPort() throws Exception {
        try (AgentProcess agent = AgentProcess.start()) {
            // probes in flight: a target whose connects hang until their timeout
            agent.awaitMetrics(p -> value(p, "probe_success{target=\"self\",kind=\"tcp\"}") == 1.0);
            long t0 = System.nanoTime();
            boolean stopped = agent.terminate(Duration.ofSeconds(5));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue("still running 5 s after SIGTERM; log:\n" + agent.log(), stopped);
            agent.awaitLogLine("Stopping the Sonde agent");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", agent.port), 500);
                throw new AssertionError("the metrics port still accepts connections after " + ms + " ms");
            } catch (java.io.IOException expected) {
                // closed
            }
        }
    }
}
