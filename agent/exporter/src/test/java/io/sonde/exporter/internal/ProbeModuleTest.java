package io.sonde.exporter.internal;

import static org.junit.Assert.assertEquals;

import java.lang.annotation.Annotation;
import java.util.HashMap;
import java.util.Map;

import org.junit.Test;

/** What a module takes from its configuration file. */
public class ProbeModuleTest {

    private static ProbeModuleConfig config(String name, String prober, String timeout) {
        return new ProbeModuleConfig() {
            @Override public Class<? extends Annotation> annotationType() { return ProbeModuleConfig.class; }
            @Override public String name() { return name; }
            @Override public String prober() { return prober; }
            @Override public long timeout__ms() {
                return timeout == null ? 0 : Long.parseLong(timeout); // as DS does: a value that is no number throws
            }
        };
    }

    @Test
    public void nameFromTheFileKindAndKeys() {
        Map<String, Object> p = new HashMap<>();
        p.put("felix.fileinstall.filename", "file:/opt/sonde/etc/io.sonde.probe.module-http_post_2xx.cfg");
        p.put("service.pid", "io.sonde.probe.module.abc");
        p.put("service.factoryPid", "io.sonde.probe.module");
        p.put("component.id", 7L);
        p.put("osgi.ds.satisfying.condition.target", "(osgi.condition.id=true)");
        p.put("prober", "HTTP");
        p.put("timeout_ms", "2000");
        p.put("method", "HEAD");
        p.put("expect_status", " 200-204 ");
        ProbeModule m = new ProbeModule(config("", "HTTP", "2000"), p);
        assertEquals("http_post_2xx", m.name());
        assertEquals("http", m.kind());
        assertEquals(2000, m.timeoutMs());
        assertEquals(Map.of("method", "HEAD", "expect_status", "200-204"), m.options());
        assertEquals("/opt/sonde/etc/io.sonde.probe.module-http_post_2xx.cfg", m.source());

        p.put("name", "explicit");
        assertEquals("explicit", new ProbeModule(config("explicit", "tcp", null), p).name());
        assertEquals("", new ProbeModule(config("", "tcp", null), Map.of()).name()); // the endpoint says so in the log
        assertEquals("tcp", new ProbeModule(config("x", "tcpconnect", null), Map.of()).kind());
        assertEquals("udp", new ProbeModule(config("x", "Echo", null), Map.of()).kind());
    }

    @Test
    public void aTimeoutThatIsNoNumberMakesTheModuleBrokenNamingTheKey() {
        Map<String, Object> p = new HashMap<>();
        p.put("felix.fileinstall.filename", "file:/opt/sonde/etc/io.sonde.probe.module-m.cfg");
        ProbeModule m = new ProbeModule(config("", "tcp", "soon"), p);
        assertEquals(0, m.timeoutMs());
        org.junit.Assert.assertTrue(m.problem(), m.problem().startsWith("/opt/sonde/etc/io.sonde.probe.module-m.cfg: key 'timeout_ms': "));
    }
}
