package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;

/**
 * The verdicts and how long they are remembered. Names are answered by a table here, so that no
 * name server is asked; literals go through the system's resolver, which needs none for them.
 */
public class HostNamesTest {

    private final Map<String, InetAddress[]> table = new HashMap<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private int lookups;
    private String failure = "Name or service not known";
    private final HostNames names = new HostNames(host -> {
        lookups++;
        InetAddress[] a = table.get(host);
        if (a == null) {
            throw new UnknownHostException(host + ": " + failure);
        }
        return a;
    }, now::get);

    /** Addresses as the resolver gives them for {@code name}: each carries the name. */
    private static InetAddress[] addresses(String name, String... literals) throws UnknownHostException {
        InetAddress[] a = new InetAddress[literals.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = InetAddress.getByAddress(name, InetAddress.getByName(literals[i]).getAddress());
        }
        return a;
    }

    @Test
    public void literalsOfTheWrongFamilyAreNamedSo() {
        HostNames system = HostNames.system();
        assertNull(system.problem("127.0.0.1", 0));
        assertNull(system.problem("127.0.0.1", 4));
        assertEquals("'127.0.0.1' is an IPv4 address but ip_version is 6", system.problem("127.0.0.1", 6));
        assertEquals("'::1' is an IPv6 address but ip_version is 4", system.problem("::1", 4));
    }

    @Test
    public void aNameWithoutAnAddressOfTheFamily() throws Exception {
        table.put("v4only.test", addresses("v4only.test", "198.18.0.1"));
        assertNull(names.problem("v4only.test", 4));
        assertEquals("'v4only.test' has no IPv6 address (it resolves to 198.18.0.1)", names.problem("v4only.test", 6));
    }

    @Test
    public void anUnknownNameIsAProblemUntilItAppears() throws Exception {
        String p = names.problem("later.test", 0);
        assertTrue(p, p.contains("'later.test' does not resolve"));
        assertEquals(p, names.problem("later.test", 0));
        assertEquals("the failure is remembered", 1, lookups);

        table.put("later.test", addresses("later.test", "198.18.0.9"));
        assertTrue("a failure asks for a recheck", names.forgetFailures());
        assertNull(names.problem("later.test", 0));
        assertFalse("nothing failed any more", names.forgetFailures());
        names.problem("later.test", 0);
        assertEquals("the success is remembered", 2, lookups);
        now.addAndGet(HostNames.SUCCESS_MS + 1);
        names.problem("later.test", 0);
        assertEquals("until it expires", 3, lookups);
    }

    @Test
    public void aResolverThatIsDownGivesNoVerdict() {
        failure = "Temporary failure in name resolution";
        assertNull(names.problem("any.test", 6));
        assertTrue("asked again at the next recheck", names.forgetFailures());
    }
}
