package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.util.Map;

import org.junit.Test;

public class AgentAdmissionTest {

    /** A configuration of the server's PID: the given keys (by method name), the defaults for the others. */
    static ServerConfig config(Map<String, Object> values) {
        return (ServerConfig) Proxy.newProxyInstance(ServerConfig.class.getClassLoader(), new Class<?>[] {ServerConfig.class},
                (proxy, m, args) -> values.containsKey(m.getName()) ? values.get(m.getName()) : m.getDefaultValue());
    }

    @Test
    public void theAgentsExchangesAreCountedAndNothingElse() {
        assertEquals(0, AgentAdmission.exchange("POST", "/api/v1/agents/a-1/results"));
        assertEquals(1, AgentAdmission.exchange("POST", "/api/v1/agents/a-1/status"));
        assertEquals(2, AgentAdmission.exchange("GET", "/api/v1/agents/a-1/config"));
        // an admin's requests: the list, an agent's page, its address, a configuration read some other way
        assertEquals(-1, AgentAdmission.exchange("GET", "/api/v1/agents"));
        assertEquals(-1, AgentAdmission.exchange("GET", "/api/v1/agents/"));
        assertEquals(-1, AgentAdmission.exchange("GET", "/api/v1/agents/a-1"));
        assertEquals(-1, AgentAdmission.exchange("PUT", "/api/v1/agents/a-1/address"));
        assertEquals(-1, AgentAdmission.exchange("DELETE", "/api/v1/agents/a-1/config"));
        assertEquals(-1, AgentAdmission.exchange("GET", "/api/v1/agents/a-1/results"));
        assertEquals(-1, AgentAdmission.exchange("POST", "/api/v1/agents//results"));
        assertEquals(-1, AgentAdmission.exchange("POST", "/api/v1/agents/a-1/results/more"));
        assertEquals(-1, AgentAdmission.exchange("POST", "/api/v1/enroll"));
    }

    @Test
    public void beyondTheLimitNoneIsAdmittedUntilOneIsDone() {
        AgentAdmission a = new AgentAdmission(config(Map.of("max__agent__exchanges", 2)));
        assertTrue(a.admit());
        assertTrue(a.admit());
        assertFalse(a.admit());
        assertFalse(a.admit());
        assertEquals("a refusal leaves no count behind", 2, a.inFlight());
        a.done();
        assertTrue(a.admit());
        assertFalse(a.admit());
        a.done();
        a.done();
        assertEquals(0, a.inFlight());
    }

    @Test
    public void aLimitChangedAtRunTimeTakesAtOnceAndABadOneKeepsTheDefault() {
        AgentAdmission a = new AgentAdmission(config(Map.of("max__agent__exchanges", 1)));
        assertTrue(a.admit());
        assertFalse(a.admit());
        a.modified(config(Map.of("max__agent__exchanges", 3)));
        assertTrue(a.admit());
        assertTrue(a.admit());
        assertFalse(a.admit());
        a.modified(config(Map.of("max__agent__exchanges", 0)));
        for (int i = 3; i < ServerConfig.DEFAULT_MAX_AGENT_EXCHANGES; i++) {
            assertTrue("exchange " + i, a.admit());
        }
        assertFalse(a.admit());
    }
}
