package io.sonde.itests;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Dictionary;
import java.util.Hashtable;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** The exporter's own configuration going wrong: a bad port, a port already taken. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ExporterConfigurationIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    private void exporter(String port) throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("io.sonde.exporter", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("port", port);
        p.put("bind", "127.0.0.1");
        c.update(p);
    }

    @Test
    public void badPortIsCountedAndTheListenerStays() throws Exception {
        double errors = value(metrics(), "sonde_config_errors_total");
        exporter("not-a-port");
        // still served where it was, and the error counted
        awaitMetrics(m -> value(m, "sonde_config_errors_total") == errors + 1);
        exporter(String.valueOf(metricsPort));
    }

    @Test
    public void takenPortIsRetriedUntilItIsFree() throws Exception {
        int old = metricsPort;
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int taken = squatter.getLocalPort();
            exporter(String.valueOf(taken));
            Thread.sleep(1000); // the exporter tries, finds the port taken, and waits to try again
            metricsPort = taken;
        }
        // the port is free now: the next attempt (every 5 s) takes it
        awaitMetrics(p -> p.contains("sonde_build_info"));
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", old), 1000);
            throw new AssertionError("the old port " + old + " still listens");
        } catch (java.io.IOException expected) {
            // moved, not doubled
        }
        exporter(String.valueOf(old));
        metricsPort = old;
        awaitMetrics(p -> p.contains("sonde_build_info"));
    }
}
