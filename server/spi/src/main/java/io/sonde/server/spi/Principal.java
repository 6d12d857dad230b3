package io.sonde.server.spi;

/**
 * Who made a request, as the authentication filter found: an administrator (the admin token, or a
 * user with the admin role), a user who may only look (a viewer), or an agent.
 *
 * @param admin   whether the request may change things: the admin token, or an admin user
 * @param agentId the agent whose credential it carries, or null
 * @param user    the user whose session or API token it carries, or null (since 1.4)
 */
public record Principal(boolean admin, String agentId, String user) {

    /** An administrator (the admin token) or an agent. */
    public Principal(boolean admin, String agentId) {
        this(admin, agentId, null);
    }

    /** @return a user's principal, by their role @since 1.4 */
    public static Principal user(User u) {
        return new Principal(User.ADMIN.equals(u.role()), null, u.name());
    }

    /** @return whether it may read what the dashboard shows: an administrator or any user, not an agent @since 1.4 */
    public boolean mayRead() {
        return admin || user != null;
    }

    /** The request attribute the authentication filter puts the principal in. */
    public static final String ATTRIBUTE = "io.sonde.server.principal";

    /** The administrator. */
    public static final Principal ADMIN = new Principal(true, null);

    /** @return whether this principal may act for {@code agent} */
    public boolean isAgent(String agent) {
        return !admin && user == null && agentId != null && agentId.equals(agent);
    }
}
