package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.Socket;
import java.time.Duration;

import org.junit.Test;

/** bin/sonde stops cleanly on SIGTERM. */
public class ShutdownIT {

    @Test
    public void sigtermStopsTheAgentWithinFiveSecondsWithProbesInFlight() throws Exception {
        // a server that takes connections and never answers: each http probe hangs until its timeout
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                AgentProcess agent = AgentProcess.start()) {
            java.util.List<Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (!silent.isClosed()) {
                        held.add(silent.accept());
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            agent.write("etc/io.sonde.target-hang.cfg", "kind = http\nhost = http://127.0.0.1:" + silent.getLocalPort()
                    + "/\ninterval_ms = 60000\ntimeout_ms = 30000\n");
            agent.awaitMetrics(p -> value(p, "sonde_probes_in_flight") >= 1.0 && !held.isEmpty());
            long t0 = System.nanoTime();
            // the probe in flight would take 30 s: a stop that waited it out would still run at 25 s
            boolean stopped = agent.terminate(Duration.ofSeconds(25));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue("still running 25 s after SIGTERM, a probe of 30 s in flight; log:\n" + agent.log(), stopped);
            // an orderly stop, not the watchdog's: the framework said it stopped; 143 is the JVM's exit on SIGTERM
            agent.awaitLogLine("Stopping the Sonde agent");
            String line = agent.awaitLogLine("Sonde agent stopped");
            assertTrue(line, agent.countLogLines("did not stop within") == 0);
            assertEquals("exit code after " + ms + " ms; log:\n" + agent.log(), 128 + 15, agent.exitValue());
            // the hanging connection was let go when the prober stopped, not left to the kernel at exit
            for (Socket s : held) {
                s.setSoTimeout(5000);
                try {
                    s.getInputStream().readAllBytes(); // the request, then the end: the agent closed its side
                } catch (java.net.SocketTimeoutException e) {
                    throw new AssertionError("the agent's end of the probe connection is still open");
                }
                s.close();
            }
        }
    }
}
