package io.sonde.server.spi;

/**
 * Who made a request, as the authentication filter found: an administrator, or an agent.
 *
 * @param admin   whether the request carries the admin credential
 * @param agentId the agent whose credential it carries, or null for the admin
 */
public record Principal(boolean admin, String agentId) {

    /** The request attribute the authentication filter puts the principal in. */
    public static final String ATTRIBUTE = "io.sonde.server.principal";

    /** The administrator. */
    public static final Principal ADMIN = new Principal(true, null);

    /** @return whether this principal may act for {@code agent} */
    public boolean isAgent(String agent) {
        return !admin && agentId != null && agentId.equals(agent);
    }
}
