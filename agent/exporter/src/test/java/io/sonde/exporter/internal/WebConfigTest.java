package io.sonde.exporter.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import org.junit.Test;
import org.springframework.security.crypto.bcrypt.BCrypt;

public class WebConfigTest {

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static WebConfig read(String yaml) throws Exception {
        Path dir = Files.createTempDirectory("web");
        Files.writeString(dir.resolve("web.yml"), yaml);
        return WebConfig.read(dir.resolve("web.yml"));
    }

    static String refused(String yaml) throws Exception {
        try {
            read(yaml);
            fail("accepted");
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Test
    public void usersAreCheckedByTheirBcryptHashesAsHtpasswdWritesThem() throws Exception {
        String hash = BCrypt.hashpw("s3cret", BCrypt.gensalt(4)).replaceFirst("^\\$2a\\$", "\\$2y\\$");
        WebConfig w = read("basic_auth_users:\n  alice: " + hash + "\n");
        assertTrue(w.needsLogin());
        assertNull(w.tls());
        assertTrue(w.allows(basic("alice", "s3cret")));
        assertTrue("the second time from the cache", w.allows(basic("alice", "s3cret")));
        assertFalse(w.allows(basic("alice", "wrong")));
        assertFalse(w.allows(basic("bob", "s3cret")));
        assertFalse(w.allows(null));
        assertFalse(w.allows("Bearer x"));
        assertFalse(w.allows("Basic !!!"));
        assertFalse(w.allows("Basic " + Base64.getEncoder().encodeToString("no colon".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    public void anEmptyFileIsPlainHttpWithoutLogin() throws Exception {
        WebConfig w = read("");
        assertFalse(w.needsLogin());
        assertNull(w.tls());
        assertTrue(w.allows(null));
    }

    @Test
    public void whatIsWrongIsNamed() throws Exception {
        assertTrue(refused("tls_client_config: {}\n").contains("key 'tls_client_config' is not one of [basic_auth_users,"));
        assertTrue(refused("basic_auth_users:\n  alice: plaintext\n").contains("basic_auth_users.alice: not a bcrypt hash"));
        assertTrue(refused("tls_server_config:\n  cert_file: c.pem\n").contains("cert_file and key_file are both needed"));
        assertTrue(refused("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_auth_type: Maybe\n")
                .contains("client_auth_type: 'Maybe' is not one of"));
        assertTrue(refused("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_auth_type: RequireAndVerifyClientCert\n")
                .contains("needs client_ca_file"));
        assertTrue(refused("tls_server_config:\n  cert_file: missing.pem\n  key_file: k.pem\n").contains("cannot read"));
        assertTrue(refused("[unclosed").contains("not YAML"));
        assertTrue(refused("- a list\n").contains("a mapping was expected"));
    }

    @Test
    public void networksAllowTheirAddressesOnly() throws Exception {
        Networks n = Networks.parse("10.0.0.0/8, 192.168.1.0/24, fd00::/8, 127.0.0.1");
        assertTrue(n.allows(InetAddress.getByName("10.200.3.4")));
        assertTrue(n.allows(InetAddress.getByName("192.168.1.255")));
        assertFalse(n.allows(InetAddress.getByName("192.168.2.1")));
        assertTrue(n.allows(InetAddress.getByName("fd12::1")));
        assertFalse(n.allows(InetAddress.getByName("fe80::1")));
        assertTrue(n.allows(InetAddress.getByName("127.0.0.1")));
        assertFalse(n.allows(InetAddress.getByName("127.0.0.2")));
        assertTrue(Networks.parse("").allows(InetAddress.getByName("198.19.255.1")));
        assertTrue(Networks.parse(" ").any());
        assertEquals("10.0.0.0/8, 192.168.1.0/24, fd00::/8, 127.0.0.1", n.toString());
        for (String bad : new String[] {"10.0.0.1/8", "10.0.0.0/33", "host.sonde.test", "10.0.0.0/x", "300.1.1.1"}) {
            try {
                Networks.parse(bad);
                fail(bad + " accepted");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("'" + bad + "'"));
            }
        }
    }
}
