package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceRegistration;

import io.sonde.agent.spi.TargetSource;

/**
 * Targets a program hands the core as a {@link TargetSource} service, in a real framework: probed
 * beside the configured ones, a bad entry refused and counted while the others are taken, read again
 * when the generation changes (not before), a source that fails keeps its previous targets, a name
 * a configuration holds stays the configuration's, and the targets go with the service.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TargetSourceIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    /** A program's targets, as it hands them over. */
    static final class Program implements TargetSource {
        volatile List<Map<String, ?>> targets = List.of();
        volatile RuntimeException failure;
        volatile int asked;

        @Override
        public List<Map<String, ?>> targets() {
            asked++;
            if (failure != null) {
                throw failure;
            }
            return targets;
        }
    }

    private static Hashtable<String, Object> props(long generation) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(TargetSource.NAME, "test program");
        p.put(TargetSource.GENERATION, generation);
        return p;
    }

    private static Map<String, ?> tcp(String name, int port) {
        return Map.of("name", name, "kind", "tcp", "host", "127.0.0.1", "port", port, "interval_ms", 200, "timeout_ms", 100);
    }

    @Test
    public void aProgramsTargetsAreProbedCheckedReplacedAndGoWithItsService() throws Exception {
        int open = openPort();
        target("owned", "name", "owned", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open), "interval_ms", "200",
                "timeout_ms", "100");
        awaitMetrics(x -> value(x, "probe_success{target=\"owned\",kind=\"tcp\"}") == 1.0);
        double errors = value(metrics(), "sonde_config_errors_total");

        Program program = new Program();
        program.targets = List.of(tcp("from-program", open), tcp("bad", 70000), tcp("owned", closedPort()));
        ServiceRegistration<TargetSource> reg = context.registerService(TargetSource.class, program, props(1));
        try {
            String m = awaitMetrics(x -> value(x, "probe_success{target=\"from-program\",kind=\"tcp\"}") == 1.0
                    && value(x, "sonde_config_errors_total") == errors + 2);
            assertTrue("the bad entry is not probed", !m.contains("target=\"bad\""));
            assertEquals("the configuration keeps its name", 1.0, value(m, "probe_success{target=\"owned\",kind=\"tcp\"}"), 0);
            int asked = program.asked;

            // the same generation again: not read again
            reg.setProperties(props(1));
            Thread.sleep(500);
            assertEquals(asked, program.asked);

            // a new generation: one target replaced, one added, the bad one fixed
            int closed = closedPort();
            program.targets = List.of(tcp("from-program", closed), tcp("bad", open));
            reg.setProperties(props(2));
            m = awaitMetrics(x -> value(x, "probe_success{target=\"from-program\",kind=\"tcp\"}") == 0.0
                    && value(x, "probe_success{target=\"bad\",kind=\"tcp\"}") == 1.0);
            assertEquals(errors + 2, value(m, "sonde_config_errors_total"), 0);

            // a null among the entries is that one entry refused (as a non-object would be), not the hand-over
            program.targets = java.util.Arrays.asList(tcp("from-program", closed), null, tcp("bad", open), tcp("third", open));
            reg.setProperties(props(3));
            m = awaitMetrics(x -> value(x, "probe_success{target=\"third\",kind=\"tcp\"}") == 1.0);
            assertEquals(errors + 3, value(m, "sonde_config_errors_total"), 0);
            assertEquals(1.0, value(m, "probe_success{target=\"bad\",kind=\"tcp\"}"), 0);

            // a source that fails to answer: counted, its previous targets stay
            program.failure = new IllegalStateException("the program broke");
            reg.setProperties(props(4));
            m = awaitMetrics(x -> value(x, "sonde_config_errors_total") == errors + 4);
            assertEquals(1.0, value(m, "probe_success{target=\"bad\",kind=\"tcp\"}"), 0);
            assertEquals(1.0, value(m, "probe_success{target=\"third\",kind=\"tcp\"}"), 0);
        } finally {
            reg.unregister();
        }
        String m = awaitMetrics(x -> !x.contains("target=\"from-program\"") && !x.contains("target=\"bad\"")
                && !x.contains("target=\"third\""));
        assertEquals(1.0, value(m, "probe_success{target=\"owned\",kind=\"tcp\"}"), 0);
    }
}
