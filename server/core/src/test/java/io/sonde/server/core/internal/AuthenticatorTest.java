package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import org.junit.Test;

public class AuthenticatorTest {

    @Test
    public void aQueryStringDecodesOrSaysWhereItDoesNot() {
        assertNull(Authenticator.queryProblem(null));
        assertNull(Authenticator.queryProblem("limit=10&target=a%20b"));
        assertNull(Authenticator.queryProblem("name=%C3%A9t%C3%A9"));
        assertEquals("its percent escapes are not UTF-8", Authenticator.queryProblem("x=%ff"));
        assertEquals("its percent escapes are not UTF-8", Authenticator.queryProblem("x=%C3&y=%A9")); // not across a boundary
        assertEquals("'%zz' at 2 is not a percent escape (% and two hex digits)", Authenticator.queryProblem("x=%zz"));
        assertEquals("'%4' at 2 is not a percent escape (% and two hex digits)", Authenticator.queryProblem("x=%4"));
    }

    @Test
    public void onlyTheServersOwnHostIsTheSameOrigin() {
        assertEquals(true, Authenticator.sameOrigin(request(null, "server.sonde.test")));
        assertEquals(true, Authenticator.sameOrigin(request("https://server.sonde.test:8443", "server.sonde.test")));
        assertEquals(false, Authenticator.sameOrigin(request("https://evil.sonde.test", "server.sonde.test")));
        assertEquals(false, Authenticator.sameOrigin(request("null", "server.sonde.test")));
        assertEquals(false, Authenticator.sameOrigin(request("https://server.sonde.test.evil.sonde.test", "server.sonde.test")));
    }

    private static jakarta.servlet.http.HttpServletRequest request(String origin, String host) {
        return (jakarta.servlet.http.HttpServletRequest) java.lang.reflect.Proxy.newProxyInstance(AuthenticatorTest.class.getClassLoader(),
                new Class<?>[] {jakarta.servlet.http.HttpServletRequest.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getHeader" -> "Origin".equals(args[0]) ? origin : null;
                    case "getServerName" -> host;
                    default -> null;
                });
    }
}
