package io.sonde.server.core.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Principal;
import io.sonde.server.spi.Secrets;
import io.sonde.server.spi.UserStore;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.User;
import io.sonde.server.spi.UserCredential;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * People: {@code POST /api/v1/session} logs in (a user's name and password, or {@code admin} and
 * the admin token) and sets the session cookie (HttpOnly, Secure, SameSite=Strict); {@code GET}
 * says who is logged in and the session's CSRF token; {@code DELETE} logs out. Users (admin):
 * {@code GET /api/v1/users}, {@code PUT|DELETE /api/v1/users/{name}} with a password and a role.
 * API tokens for scripts, the caller's own: {@code POST|GET /api/v1/tokens},
 * {@code DELETE /api/v1/tokens/{id}}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/session", "/api/v1/users", "/api/v1/users/*", "/api/v1/tokens", "/api/v1/tokens/*"})
public final class UsersServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(UsersServlet.class);
    static final Duration SESSION = Duration.ofHours(12);
    static final int MIN_PASSWORD = 10;
    private static final String NAME = "[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}";
    /** A hash to check against when the user is not known, so that an unknown name takes as long as a wrong password. */
    private static final String DUMMY = Secrets.hashPassword("not a password of anyone");

    private final transient UserStore store;
    private final transient Authenticator authenticator;
    private final transient LoginThrottle throttle = new LoginThrottle();

    @Activate
    public UsersServlet(@Reference UserStore store, @Reference Authenticator authenticator) {
        this.store = store;
        this.authenticator = authenticator;
    }

    private static JsonObject body(HttpServletRequest request) throws IOException, WireException {
        JsonObject body = Api.read(request, 16 * 1024, JsonObject.class);
        if (body == null) {
            throw new WireException(WireException.Problem.INVALID, "the body: a JSON object is needed");
        }
        return body;
    }

    private static String text(JsonObject body, String key) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull() || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new WireException(WireException.Problem.INVALID, key + ": missing, or not a string");
        }
        return e.getAsString();
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Api.answer(response, () -> {
            switch (request.getServletPath()) {
                case "/api/v1/session" -> login(request, response);
                case "/api/v1/tokens" -> newToken(request, response);
                default -> Api.error(response, 405, "POST to /api/v1/session (log in) or /api/v1/tokens (a new API token)");
            }
        });
    }

    private void login(HttpServletRequest request, HttpServletResponse response) throws IOException, WireException, StoreException {
        // no cross-site login: a form cannot send JSON, and a browser says where a page came from
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).strip().startsWith("application/json")) {
            Api.error(response, 415, "log in with a JSON body (Content-Type: application/json), not "
                    + (type == null ? "no Content-Type" : "'" + WireCodec.abbreviate(type) + "'"));
            return;
        }
        if (!Authenticator.sameOrigin(request)) {
            Api.error(response, 403, "a login from another site (Origin " + WireCodec.abbreviate(request.getHeader("Origin"))
                    + ") is refused");
            return;
        }
        JsonObject body = body(request);
        String name = text(body, "user");
        String password = text(body, "password");
        String source = request.getRemoteAddr();
        long wait = throttle.attempt(source, name, System.currentTimeMillis());
        if (wait > 0) {
            long seconds = Math.max(1, (wait + 999) / 1000);
            response.setHeader("Retry-After", Long.toString(seconds));
            Api.error(response, 429, "too many failed logins for '" + WireCodec.abbreviate(name) + "' from " + source + ": try again in "
                    + seconds + " s");
            return;
        }
        String role;
        String origin;
        if (name.equals(Authenticator.ADMIN_USER)) {
            role = authenticator.isAdminToken(password) ? User.ADMIN : null;
            origin = authenticator.adminOrigin();
        } else {
            java.util.Optional<User> u = store.user(name);
            boolean ok = Secrets.verifyPassword(password, u.map(User::passwordHash).orElse(DUMMY)) && u.isPresent();
            role = ok ? u.get().role() : null;
            origin = u.map(x -> UserCredential.originOf(x.passwordHash())).orElse("");
        }
        if (role == null) {
            LOG.warn("Login refused for '{}' from {}", WireCodec.abbreviate(name), request.getRemoteAddr());
            Api.error(response, 401, "the user or the password is wrong");
            return;
        }
        throttle.succeeded(source, name);
        String secret = Secrets.token("sonde_session_");
        byte[] hash = Secrets.sha256(secret);
        Instant at = Instant.now();
        UserCredential session = new UserCredential(UserCredential.idOf(hash), name, UserCredential.SESSION, "", Secrets.token(""), at,
                at.plus(SESSION), origin);
        store.putUserCredential(hash, session);
        store.dropExpiredUserCredentials(at);
        response.addHeader("Set-Cookie", Authenticator.COOKIE + "=" + secret + "; Path=/; Max-Age=" + SESSION.toSeconds()
                + "; HttpOnly; Secure; SameSite=Strict");
        LOG.info("User '{}' ({}) logged in from {}", name, role, request.getRemoteAddr());
        Api.json(response, 200, who(name, role, session));
    }

    private static JsonObject who(String name, String role, UserCredential session) {
        JsonObject o = new JsonObject();
        o.addProperty("user", name);
        o.addProperty("role", role);
        o.addProperty("csrf", session.csrf());
        o.addProperty("expires_at", session.expiresAt().toString());
        return o;
    }

    private void newToken(HttpServletRequest request, HttpServletResponse response) throws IOException, WireException, StoreException {
        Principal p = Api.principal(request);
        if (p == null || p.user() == null) {
            Api.error(response, p == null ? 401 : 403, "API tokens are made by a logged-in user (the admin token needs none)");
            return;
        }
        JsonObject body = body(request);
        String label = body.has("label") ? text(body, "label") : "";
        if (label.length() > 200) {
            throw new WireException(WireException.Problem.INVALID, "label: longer than 200 characters");
        }
        int days = 90;
        if (body.has("expires_in_days")) {
            JsonElement e = body.get("expires_in_days");
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || e.getAsDouble() != Math.rint(e.getAsDouble()) || e.getAsInt() < 1
                    || e.getAsInt() > 366) {
                throw new WireException(WireException.Problem.INVALID, "expires_in_days: " + WireCodec.abbreviate(e.toString()) + " is not 1 to 366");
            }
            days = e.getAsInt();
        }
        String secret = Secrets.token(Authenticator.USER_TOKEN_PREFIX);
        byte[] hash = Secrets.sha256(secret);
        Instant at = Instant.now();
        // a token made with a session or a token carries that credential's origin: it ends with the password (or admin token) it came from
        Object from = request.getAttribute(Authenticator.SESSION_ATTRIBUTE);
        String origin = from instanceof UserCredential u ? u.origin() : "";
        UserCredential t = new UserCredential(UserCredential.idOf(hash), p.user(), UserCredential.TOKEN, label, "", at, at.plus(Duration.ofDays(days)),
                origin);
        store.putUserCredential(hash, t);
        LOG.info("User '{}' made API token {} ({})", p.user(), t.id(), label);
        JsonObject o = token(t);
        o.addProperty("token", secret);
        Api.json(response, 201, o);
    }

    private static JsonObject token(UserCredential t) {
        JsonObject o = new JsonObject();
        o.addProperty("id", t.id());
        o.addProperty("label", t.label());
        o.addProperty("created_at", t.createdAt().toString());
        o.addProperty("expires_at", t.expiresAt().toString());
        return o;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal p = Api.principal(request);
        Api.answer(response, () -> {
            switch (request.getServletPath()) {
                case "/api/v1/session" -> {
                    Object c = request.getAttribute(Authenticator.SESSION_ATTRIBUTE);
                    if (p == null || p.user() == null || !(c instanceof UserCredential session) || !session.kind().equals(UserCredential.SESSION)) {
                        Api.error(response, 401, "no session: log in with POST /api/v1/session");
                        return;
                    }
                    Api.json(response, 200, who(p.user(), p.admin() ? User.ADMIN : User.VIEWER, session));
                }
                case "/api/v1/tokens" -> {
                    if (p == null || p.user() == null) {
                        Api.error(response, p == null ? 401 : 403, "API tokens belong to users");
                        return;
                    }
                    JsonArray items = new JsonArray();
                    for (UserCredential t : store.userCredentials(p.user())) {
                        if (t.kind().equals(UserCredential.TOKEN)) {
                            items.add(token(t));
                        }
                    }
                    JsonObject o = new JsonObject();
                    o.add("items", items);
                    Api.json(response, 200, o);
                }
                default -> {
                    if (!Api.requireAdmin(request, response)) {
                        return;
                    }
                    JsonArray items = new JsonArray();
                    for (User u : store.users()) {
                        JsonObject o = new JsonObject();
                        o.addProperty("name", u.name());
                        o.addProperty("role", u.role());
                        o.addProperty("created_at", u.createdAt().toString());
                        items.add(o);
                    }
                    JsonObject o = new JsonObject();
                    o.add("items", items);
                    Api.json(response, 200, o);
                }
            }
        });
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (!request.getServletPath().equals("/api/v1/users") || name == null) {
            Api.error(response, 405, "PUT a user at /api/v1/users/{name}");
            return;
        }
        Api.answer(response, () -> {
            if (!name.matches(NAME) || name.equals(Authenticator.ADMIN_USER)) {
                throw new WireException(WireException.Problem.INVALID, "name: '" + WireCodec.abbreviate(name) + "' is not a user name (letters, digits, "
                        + "_ . @ -, at most 100; 'admin' is the admin token's)");
            }
            JsonObject body = body(request);
            String role = body.has("role") ? text(body, "role") : User.VIEWER;
            if (!role.equals(User.ADMIN) && !role.equals(User.VIEWER)) {
                throw new WireException(WireException.Problem.INVALID, "role: '" + WireCodec.abbreviate(role) + "' is not admin or viewer");
            }
            String password = text(body, "password");
            if (password.length() < MIN_PASSWORD || password.length() > 1000) {
                throw new WireException(WireException.Problem.INVALID, "password: at least " + MIN_PASSWORD + " characters (and at most 1000)");
            }
            boolean replaced = store.user(name).isPresent();
            store.putUser(new User(name, role, Secrets.hashPassword(password), Instant.now()));
            int ended = 0;
            if (replaced) { // their sessions and tokens came from the old password: they end (checked on use, and removed here)
                for (UserCredential c : store.userCredentials(name)) {
                    ended += store.deleteUserCredential(c.id()) ? 1 : 0;
                }
            }
            LOG.info("User '{}' {} as {}{}", name, replaced ? "changed" : "made", role, ended > 0 ? "; " + ended + " sessions and tokens ended" : "");
            JsonObject o = new JsonObject();
            o.addProperty("name", name);
            o.addProperty("role", role);
            o.addProperty("credentials_ended", ended);
            Api.json(response, replaced ? 200 : 201, o);
        });
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal p = Api.principal(request);
        String name = Api.pathName(request);
        Api.answer(response, () -> {
            switch (request.getServletPath()) {
                case "/api/v1/session" -> {
                    Object c = request.getAttribute(Authenticator.SESSION_ATTRIBUTE);
                    if (c instanceof UserCredential session) {
                        store.deleteUserCredential(session.id());
                    }
                    response.addHeader("Set-Cookie", Authenticator.COOKIE + "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
                    response.setStatus(204);
                }
                case "/api/v1/tokens" -> {
                    if (p == null || p.user() == null || name == null) {
                        Api.error(response, p == null ? 401 : 403, "DELETE /api/v1/tokens/{id}, as the token's user");
                        return;
                    }
                    boolean own = store.userCredentials(p.user()).stream().anyMatch(t -> t.id().equals(name));
                    if (!own || !store.deleteUserCredential(name)) {
                        Api.error(response, 404, "no API token " + WireCodec.abbreviate(name) + " of yours");
                        return;
                    }
                    response.setStatus(204);
                }
                default -> {
                    if (!Api.requireAdmin(request, response)) {
                        return;
                    }
                    if (name == null || !store.deleteUser(name)) {
                        Api.error(response, 404, "no user '" + WireCodec.abbreviate(String.valueOf(name)) + "'");
                        return;
                    }
                    LOG.info("User '{}' deleted, with their sessions and tokens", name);
                    response.setStatus(204);
                }
            }
        });
    }
}
