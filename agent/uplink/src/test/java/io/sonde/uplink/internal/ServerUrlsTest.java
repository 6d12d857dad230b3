package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.URI;
import java.util.List;

import org.junit.Test;

public class ServerUrlsTest {

    @Test
    public void oneOrSeveralInstancesEachOnceWithoutATrailingSlash() {
        assertEquals(List.of(URI.create("https://a.example:8443")), Uplink.serverUrls(" https://a.example:8443/ "));
        assertEquals(List.of(URI.create("https://a:8443"), URI.create("https://b:8443")),
                Uplink.serverUrls("https://a:8443, https://b:8443/,https://a:8443,"));
    }

    @Test
    public void aBadOneIsNamed() {
        for (String[] bad : new String[][] {{"https://a:8443, http://b:8443", "'http://b:8443' is not an https:// URL"},
                {" , ", "no URL given"}, {"https://a:8443,https://b c", "is not a URL"}}) {
            try {
                Uplink.serverUrls(bad[0]);
                fail(bad[0]);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("key 'server_url': ") && e.getMessage().contains(bad[1]));
            }
        }
    }
}
