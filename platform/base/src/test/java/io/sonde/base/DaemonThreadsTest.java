package io.sonde.base;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

import org.junit.Test;

public class DaemonThreadsTest {

    @Test
    public void threadsAreDaemonsNamedInTurn() {
        ThreadFactory f = DaemonThreads.named("sonde-probe");
        Thread a = f.newThread(() -> { });
        Thread b = f.newThread(() -> { });
        assertEquals("sonde-probe", a.getName());
        assertEquals("sonde-probe-2", b.getName());
        assertTrue(a.isDaemon() && b.isDaemon());
        ThreadFactory pool = DaemonThreads.numbered("sonde-probe-tcp");
        assertEquals("sonde-probe-tcp-1", pool.newThread(() -> { }).getName());
        assertEquals("sonde-probe-tcp-2", pool.newThread(() -> { }).getName());
        assertEquals(Thread.State.NEW, DaemonThreads.of("sonde-x", () -> { }).getState());
    }

    @Test
    public void theHomeIsThePropertysElseTheWorkingDirectoryAbsolute() {
        assertEquals(Path.of("/opt/sonde"), Home.of(Map.of("sonde.home", "/opt/sonde/./")::get));
        assertEquals(Path.of("").toAbsolutePath(), Home.of(k -> null));
        assertEquals(java.util.Optional.empty(), Home.given(k -> null));
        assertEquals(java.util.Optional.of(Path.of("/var/lib/sonde")), Home.given(Map.of("sonde.home", "/var/lib/sonde")::get));
    }
}
