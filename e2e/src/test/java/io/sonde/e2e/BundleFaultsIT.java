package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.WireCodec;

/**
 * The built agent's updater against a server that serves bad releases on purpose (a
 * {@link FakeServer}: the real one refuses them at upload): a signature that does not verify, one
 * by a key the agent does not pin, signed bytes other than those served, a jar cut short, a jar that
 * is not a bundle, a bundle of another name than its manifest's, a manifest over the size bound, a
 * manifest whose jar is a 404, a release over {@code max_bundle_mb}, and a version that failed asked
 * for again. Each is refused before anything is installed, with a log line and a status to the
 * server naming why, and the tcp target is probed throughout by the plugin that was there. And a
 * good release whose download the agent is SIGKILLed in the middle of: resumed where it stopped.
 */
public class BundleFaultsIT {

    private static final String TCP = "io.sonde.plugin.tcp";
    private FakeServer server;
    private AgentProcess agent;
    private Path work;
    private KeyPair owner;
    private KeyPair stranger;
    private int open;

    @Before
    public void start() throws Exception {
        server = new FakeServer("bundles");
        work = Files.createTempDirectory("sonde-bad-releases-");
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        owner = g.generateKeyPair();
        stranger = g.generateKeyPair();
        agent = AgentProcess.start(Map.of(
                "etc/io.sonde.agent.cfg", "agent_id = bundles\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig("config_poll_s = 1\nstatus_interval_s = 2\n"),
                "etc/io.sonde.updater.cfg", "public_key = " + Base64.getEncoder().encodeToString(owner.getPublic().getEncoded())
                        + "\nhealth_watch_s = 5\nstart_timeout_s = 8\nmax_bundle_mb = 1\n"));
        open = agent.openPort();
        serve("v0", null);
        agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"good\",kind=\"tcp\"}") == 1);
    }

    @After
    public void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.close();
        AgentProcess.run("rm", "-rf", work.toString());
    }

    /** Serves document {@code version} with the tcp target, and the rollout of {@code release} when not null. */
    private void serve(String version, ReleaseManifest release) {
        String bundles = release == null ? "" : ",\"bundles\":[{\"symbolic_name\":\"" + release.symbolicName() + "\",\"version\":\""
                + release.version() + "\",\"sha256\":\"" + release.sha256() + "\",\"size\":" + release.size() + ",\"rollout\":\"bad-"
                + version + "\",\"state\":\"active\"}]";
        server.answer = FakeServer.Answer.json(200, "{\"schema\":1,\"agent_id\":\"bundles\",\"version\":\"" + version
                + "\",\"targets\":[{\"name\":\"good\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + open
                + ",\"interval_ms\":200,\"timeout_ms\":100}],\"meshes\":[]" + bundles + "}");
    }

    /** The tcp plugin built again as {@code version}, with {@code headers} set. */
    private Path build(String version, Map<String, String> headers) throws Exception {
        return Releases.rebuild(work, "plugins/" + TCP + ".jar", version, headers);
    }

    /** A manifest with these fields, signed by {@code by}. */
    static ReleaseManifest signed(String name, String version, String sha256, long size, KeyPair by) throws Exception {
        ReleaseManifest unsigned = new ReleaseManifest(1, name, version, sha256, size, ReleaseManifest.keyId(by.getPublic()), null);
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(by.getPrivate());
        s.update(unsigned.signedBytes());
        return new ReleaseManifest(1, name, version, sha256, size, unsigned.keyId(), Base64.getEncoder().encodeToString(s.sign()));
    }

    private void publish(ReleaseManifest m, byte[] manifest, byte[] jar) {
        String base = "/api/v1/bundles/" + m.symbolicName() + "/" + m.version();
        server.files.put(base, new FakeServer.Answer(200, manifest));
        if (jar != null) {
            server.files.put(base + "/jar", new FakeServer.Answer(200, jar, "Content-Type", "application/java-archive"));
        }
    }

    /** Waits for a status that reports {@code version} failed for a reason containing {@code why}. */
    private JsonObject awaitFailed(String version, String why) throws Exception {
        for (int i = 0; i < 300; i++) {
            for (int k = server.statuses.size() - 1; k >= 0; k--) {
                JsonObject s = server.statuses.get(k);
                if (s.has("updates")) {
                    for (JsonElement e : s.getAsJsonArray("updates")) {
                        JsonObject u = e.getAsJsonObject();
                        if (u.get("version").getAsString().equals(version) && u.get("state").getAsString().equals("failed")
                                && u.has("reason") && u.get("reason").getAsString().contains(why)) {
                            return u;
                        }
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no status reports " + version + " failed with '" + why + "'; the last: "
                + server.statuses.get(server.statuses.size() - 1) + "\nagent log:\n" + agent.log());
    }

    @Test
    public void everyBadReleaseIsRefusedBeforeAnythingIsInstalledAndProbingGoesOn() throws Exception {
        int step = 0;
        // 1. a signature that does not verify: the manifest's fields signed, then one changed
        Path jar = build("0.2.1", Map.of());
        ReleaseManifest good = signed(TCP, "0.2.1", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        ReleaseManifest forged = new ReleaseManifest(1, TCP, "0.2.1", good.sha256(), good.size(), good.keyId(),
                signed(TCP, "0.2.0", good.sha256(), good.size(), owner).signature());
        publish(forged, WireCodec.json(forged), Files.readAllBytes(jar));
        serve("v" + ++step, forged);
        awaitFailed("0.2.1", "signature: does not verify with release key");
        agent.awaitLogLine("Update of io.sonde.plugin.tcp to 0.2.1 refused: the release manifest is refused: signature: does not verify");

        // 2. a good signature by a key the agent does not pin (the server may trust it: the agent does not ask)
        jar = build("0.2.2", Map.of());
        ReleaseManifest m = signed(TCP, "0.2.2", ReleaseManifest.sha256(jar), Files.size(jar), stranger);
        publish(m, WireCodec.json(m), Files.readAllBytes(jar));
        serve("v" + ++step, m);
        awaitFailed("0.2.2", "which is not a trusted release key");

        // 3. signed, but the jar served has other bytes (the same length)
        jar = build("0.2.3", Map.of());
        m = signed(TCP, "0.2.3", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        byte[] other = Files.readAllBytes(jar);
        other[other.length / 2] ^= 0x5a;
        publish(m, WireCodec.json(m), other);
        serve("v" + ++step, m);
        awaitFailed("0.2.3", "other bytes than those signed");

        // 4. the jar cut short
        jar = build("0.2.4", Map.of());
        m = signed(TCP, "0.2.4", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        byte[] whole = Files.readAllBytes(jar);
        publish(m, WireCodec.json(m), java.util.Arrays.copyOf(whole, whole.length / 2));
        serve("v" + ++step, m);
        awaitFailed("0.2.4", "(cut short)");

        // 5. a jar that is not a bundle, signed as if it were one
        jar = build("0.2.5", Map.of("Bundle-SymbolicName", ""));
        m = signed(TCP, "0.2.5", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        publish(m, WireCodec.json(m), Files.readAllBytes(jar));
        serve("v" + ++step, m);
        awaitFailed("0.2.5", "not a bundle: the jar has no Bundle-SymbolicName");

        // 6. a bundle of another name than its manifest says
        jar = build("0.2.6", Map.of("Bundle-SymbolicName", "io.sonde.plugin.trojan"));
        m = signed(TCP, "0.2.6", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        publish(m, WireCodec.json(m), Files.readAllBytes(jar));
        serve("v" + ++step, m);
        awaitFailed("0.2.6", "the jar is bundle io.sonde.plugin.trojan, the manifest says io.sonde.plugin.tcp");

        // 7. a manifest over the size bound
        jar = build("0.2.7", Map.of());
        m = signed(TCP, "0.2.7", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        String padded = new String(WireCodec.json(m), StandardCharsets.UTF_8).replaceFirst("\\{", "{\"pad\":\"" + "x".repeat(20_000)
                + "\",");
        publish(m, padded.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(jar));
        serve("v" + ++step, m);
        awaitFailed("0.2.7", "cannot be downloaded");

        // 8. a manifest, and a 404 for its jar
        jar = build("0.2.8", Map.of());
        m = signed(TCP, "0.2.8", ReleaseManifest.sha256(jar), Files.size(jar), owner);
        publish(m, WireCodec.json(m), null);
        serve("v" + ++step, m);
        awaitFailed("0.2.8", "(404)");

        // 9. a release over max_bundle_mb (1): refused from the document alone, nothing fetched
        ReleaseManifest big = signed(TCP, "0.2.9", "ab".repeat(32), 2 * 1024 * 1024, owner);
        serve("v" + ++step, big);
        awaitFailed("0.2.9", "more than max_bundle_mb allows");
        assertTrue(server.requests.stream().noneMatch(p -> p.contains("/0.2.9")));

        // 10. a version that failed, asked for again: not fetched again
        long fetched = server.requests.stream().filter(p -> p.equals("/api/v1/bundles/" + TCP + "/0.2.1")).count();
        serve("v" + ++step, forged);
        awaitFailed("0.2.1", "(not tried again; a newer version will be)");
        assertEquals(fetched, server.requests.stream().filter(p -> p.equals("/api/v1/bundles/" + TCP + "/0.2.1")).count());

        // through all of it: nothing installed, the plugin that was there probing
        assertEquals(0, agent.countLogLines("Installed io.sonde.plugin.tcp"));
        agent.awaitProbing("good", 4);
        assertTrue(agent.alive());
    }

    @Test
    public void killedMidDownloadTheAgentResumesWhereItStoppedAndInstalls() throws Exception {
        Path jar = build("0.3.0", Map.of());
        byte[] whole = Files.readAllBytes(jar);
        ReleaseManifest m = signed(TCP, "0.3.0", ReleaseManifest.sha256(jar), whole.length, owner);
        String base = "/api/v1/bundles/" + TCP + "/0.3.0";
        server.files.put(base, new FakeServer.Answer(200, WireCodec.json(m)));
        java.util.List<String> ranges = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch halfSent = new java.util.concurrent.CountDownLatch(1);
        int half = whole.length / 2;
        server.handlers.put(base + "/jar", x -> {
            String range = x.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            x.getResponseHeaders().add("Content-Type", "application/java-archive");
            if (range == null) { // the first half, then nothing: the agent is killed meanwhile
                x.sendResponseHeaders(200, whole.length);
                x.getResponseBody().write(whole, 0, half);
                x.getResponseBody().flush();
                halfSent.countDown();
                try {
                    Thread.sleep(20_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            int from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
            x.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (whole.length - 1) + "/" + whole.length);
            x.sendResponseHeaders(206, whole.length - from);
            x.getResponseBody().write(whole, from, whole.length - from);
        });
        serve("v1", m);
        assertTrue("the first half was sent", halfSent.await(60, java.util.concurrent.TimeUnit.SECONDS));
        Path partial = agent.home.resolve("data/updates/" + TCP + "-0.3.0.jar");
        for (int i = 0; i < 100 && (!Files.exists(partial) || Files.size(partial) < half); i++) {
            Thread.sleep(100);
        }
        agent.kill(); // mid-download
        assertEquals("what came is kept", half, Files.size(partial));
        agent.launch();
        agent.awaitLogLine("Installed io.sonde.plugin.tcp 0.3.0 in place of");
        agent.awaitLogLine("io.sonde.plugin.tcp 0.3.0 is healthy after its 5 s watch");
        assertEquals("one whole request, then the rest from where it stopped: " + ranges, "bytes=" + half + "-", ranges.get(ranges.size() - 1));
        agent.awaitMetrics(x -> AgentProcess.value(x, "probe_success{target=\"good\",kind=\"tcp\"}") == 1);
    }
}
