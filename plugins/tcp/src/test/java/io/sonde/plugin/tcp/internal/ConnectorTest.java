package io.sonde.plugin.tcp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.Test;

import io.sonde.api.FailureReason;

/** The connector's life: what is asked of it while it closes is answered, never left hanging. */
public class ConnectorTest {

    @Test
    public void connectsRacingCloseAreAllAnswered() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            port = s.getLocalPort(); // closed now: refused at once
        }
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
        for (int round = 0; round < 30; round++) {
            Connector c = new Connector("sonde-test-connect");
            ConcurrentLinkedQueue<CompletableFuture<Connector.Outcome>> asked = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch started = new CountDownLatch(3);
            List<Thread> callers = List.of(new Thread(() -> ask(c, to, asked, stop, started)),
                    new Thread(() -> ask(c, to, asked, stop, started)), new Thread(() -> ask(c, to, asked, stop, started)));
            callers.forEach(Thread::start);
            started.await();
            c.close();
            stop.set(true);
            for (Thread t : callers) {
                t.join();
            }
            for (CompletableFuture<Connector.Outcome> f : asked) {
                Connector.Outcome o = f.get(10, TimeUnit.SECONDS); // left hanging before: a TimeoutException
                assertTrue(o.toString(), o.failure() == FailureReason.REFUSED || o.failure() == FailureReason.ERROR);
            }
            assertEquals(FailureReason.ERROR, c.connect(to, Duration.ofSeconds(1), false).get(10, TimeUnit.SECONDS).failure());
        }
    }

    private static void ask(Connector c, InetSocketAddress to, ConcurrentLinkedQueue<CompletableFuture<Connector.Outcome>> asked,
            AtomicBoolean stop, CountDownLatch started) {
        started.countDown();
        for (int i = 0; i < 2_000 && !stop.get(); i++) {
            asked.add(c.connect(to, Duration.ofSeconds(5), true));
        }
        for (int i = 0; i < 20; i++) { // and a few after the close
            asked.add(c.connect(to, Duration.ofSeconds(5), true));
        }
    }
}
