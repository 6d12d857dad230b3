package io.sonde.uplink.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.agent.spi.AgentIdentity;
import io.sonde.base.AtomicFiles;
import io.sonde.uplink.internal.ServerExchange.Failure;
import io.sonde.wire.EnrollRequest;
import io.sonde.wire.EnrollResponse;
import io.sonde.wire.WireCodec;

/**
 * This agent's standing with the server: the credential kept in data/state/ (0600), enrolling once
 * with the configured token, which then leaves the configuration file, and a credential the server
 * refuses (reset or revoked by an admin): said once, and enrolled again when a token is configured.
 */
final class Enrollment {

    private static final Logger LOG = LoggerFactory.getLogger(Enrollment.class);
    static final String CREDENTIAL_FILE = "uplink-credential.json";

    /** What the agent keeps of its enrollment. */
    record Credential(String serverUrl, String agentId, String credential) {
    }

    private final UplinkConfig config;
    private final AgentIdentity identity;
    private final String version;
    private final Path stateDir;
    /** The file this configuration came from (FileInstall), or null. */
    private final Path configFile;
    private final ServerExchange link;
    /** How many results wait in the spool: said when the server refuses the credential. */
    private final LongSupplier spooled;
    private volatile Credential credential;
    private volatile String lockedOutSaid;

    Enrollment(UplinkConfig config, AgentIdentity identity, String version, Path stateDir, Map<String, Object> properties,
            ServerExchange link, LongSupplier spooled) {
        this.config = config;
        this.identity = identity;
        this.version = version;
        this.stateDir = stateDir;
        this.configFile = configFile(properties);
        this.link = link;
        this.spooled = spooled;
    }

    /** @return the credential in use, or null before the agent is enrolled */
    Credential credential() {
        return credential;
    }

    /** @return the credential, enrolling first when the agent has none (kept or given) */
    Credential ensure() throws Failure, IOException {
        Credential c = credential;
        if (c == null) {
            c = enroll();
            credential = c;
        }
        return c;
    }

    /** Takes the credential kept in data/state/, when it is this agent's with these servers. */
    void load() {
        Path file = stateDir.resolve(CREDENTIAL_FILE);
        if (!Files.exists(file)) {
            return;
        }
        try {
            Credential c = WireCodec.gson().fromJson(Files.readString(file), Credential.class);
            if (c == null || c.credential() == null || !link.ours(c.serverUrl()) || !identity.agentId().equals(c.agentId())) {
                LOG.info("The kept credential is for another server or agent id; enrolling again");
                return;
            }
            credential = c;
        } catch (IOException | RuntimeException e) {
            LOG.warn("The kept credential {} is unreadable ({}); enrolling again", file, e.getMessage());
        }
    }

    private Credential enroll() throws Failure, IOException {
        String token = config.enrollment__token().strip();
        if (token.isEmpty()) {
            throw new Failure("this agent has no credential and io.sonde.uplink has no enrollment_token", 30_000, true);
        }
        EnrollRequest req = new EnrollRequest(WireCodec.SCHEMA, token, identity.agentId(), identity.tags(), version);
        HttpResponse<byte[]> r = link.send(HttpRequest.newBuilder(link.endpoint("/api/v1/enroll"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(WireCodec.json(req))));
        if (r.statusCode() != 200) {
            throw new Failure("enrollment refused (" + r.statusCode() + ": " + ServerExchange.message(r) + ")",
                    ServerExchange.retryAfter(r));
        }
        EnrollResponse e = ServerExchange.readOr(r, EnrollResponse.class, null);
        if (e == null || e.credential() == null || e.agentId() == null) {
            throw new Failure("the server's answer to the enrollment has no credential", 0);
        }
        Credential c = new Credential(link.serversText(), e.agentId(), e.credential());
        AtomicFiles.write(stateDir.resolve(CREDENTIAL_FILE), WireCodec.json(c), AtomicFiles.OWNER_ONLY);
        LOG.info("Enrolled with {} as agent {} (tags {}); the credential is kept in {}", link.server(), e.agentId(), e.tags(),
                stateDir.resolve(CREDENTIAL_FILE));
        lockedOutSaid = null;
        forgetEnrollmentToken();
        return c;
    }

    /**
     * The server answered 401 or 403 to this agent's credential: an admin reset or revoked it. Said
     * once, clearly; with an enrollment token in the configuration the agent enrolls again under its
     * id (the spool and its epoch stay, so nothing measured meanwhile is lost).
     *
     * @return the failure to back off with
     */
    Failure lockedOut(int status, String why) {
        boolean canEnroll = !config.enrollment__token().isBlank();
        String problem = "the server refuses this agent's credential (" + status + ": " + why + ")";
        if (!(problem + canEnroll).equals(lockedOutSaid)) {
            lockedOutSaid = problem + canEnroll;
            LOG.error("Uplink: {}. An admin reset or revoked it. Results stay in the spool ({} waiting) and are sent once the agent is"
                    + " enrolled again: {}", problem, spooled.getAsLong(), canEnroll ? "enrolling again with the enrollment_token configured"
                    : "an admin makes an enrollment token (after POST /api/v1/agents/" + identity.agentId()
                            + "/reset if it was not reset) and sets enrollment_token in etc/io.sonde.uplink.cfg");
        }
        if (canEnroll && status == 401) {
            credential = null;
            try {
                Files.deleteIfExists(stateDir.resolve(CREDENTIAL_FILE));
            } catch (IOException e) {
                LOG.warn("Cannot delete the refused credential {}: {}", stateDir.resolve(CREDENTIAL_FILE), e.toString());
            }
            return new Failure(problem + "; enrolling again", 1000, true);
        }
        return new Failure(problem, 0, true);
    }

    /** @return the file FileInstall read this configuration from, or null when it came otherwise */
    private static Path configFile(Map<String, Object> properties) {
        Object f = properties.get("felix.fileinstall.filename");
        if (f == null) {
            return null;
        }
        try {
            return Path.of(URI.create(String.valueOf(f)));
        } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /**
     * After an enrollment the token is of no more use to this agent, and anyone who reads the file
     * (or the framework's copy of the configuration) could enroll agents with it while it is valid:
     * its line leaves the configuration file (FileInstall then drops it from the framework's copy).
     */
    private void forgetEnrollmentToken() {
        Path file = configFile;
        if (file == null || !Files.isRegularFile(file)) {
            if (!config.enrollment__token().isBlank()) {
                LOG.warn("Enrolled: remove enrollment_token from the configuration {}: it is not needed any more, and it enrolls agents"
                        + " while it is valid", UplinkConfig.PID);
            }
            return;
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            List<String> kept = lines.stream().filter(l -> !l.strip().matches("enrollment[_.]token\\s*[=:].*")).toList();
            if (kept.size() == lines.size()) {
                return;
            }
            AtomicFiles.write(file, kept.stream().map(l -> l + "\n").collect(java.util.stream.Collectors.joining())
                    .getBytes(StandardCharsets.UTF_8)); // with the permissions it had
            LOG.info("Enrolled: the enrollment token is used once, and is removed from {} (and so from the framework's copy of the"
                    + " configuration)", file);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Enrolled: remove enrollment_token from {} yourself ({}): it is not needed any more, and it enrolls agents while"
                    + " it is valid", file, e.toString());
        }
    }
}
