package example;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.sonde.embed.Monitor;

/** Sonde's probes in a program of your own: watch one TCP service, print each result, stop. */
public class LatencyWatch {

    public static void main(String[] args) throws Exception {
        Path sonde = Path.of(args[0]); // an agent distribution: its system/ and plugins/
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        CountDownLatch five = new CountDownLatch(5);
        try (Monitor monitor = Monitor.start(sonde)) {
            monitor.subscribe(r -> {
                System.out.printf("%s %s %s%n", r.target().name(),
                        r.isSuccessful() ? "ok" : r.failureReason().label(),
                        r.isSuccessful() ? r.responseTime().toNanos() / 1e6 + " ms" : r.errorMessage());
                five.countDown();
            });
            // the same keys as in the agent's files; a bad one throws with the key and the reason
            monitor.add(Map.of("name", "service", "kind", "tcp", "host", host, "port", port, "interval_ms", 200));
            if (!five.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("fewer than five results in 30 s");
            }
            System.out.println("latest: " + monitor.latest("service").orElseThrow().responseTime());
            monitor.remove("service");
        }
    }
}
