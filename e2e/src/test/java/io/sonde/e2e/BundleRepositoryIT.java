package io.sonde.e2e;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarFile;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The server's bundle repository as a release owner uses it: keys made and a real plugin of a
 * higher version signed with the distribution's {@code bin/sonde-release}, uploaded with curl as
 * multipart, listed, and served to an agent whole or from a byte on; and every bad upload refused
 * before anything is stored, saying why.
 */
public class BundleRepositoryIT {

    private static ServerProcess server;
    private static Path work;
    private static Releases releases;
    private static String agentCredential;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        releases = new Releases(server);
        work = releases.work;
        releases.trust("owner");
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        HttpResponse<String> r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + token
                + "\",\"agent_id\":\"fetcher\",\"version\":\"test\"}").getBytes(StandardCharsets.UTF_8));
        agentCredential = JsonParser.parseString(r.body()).getAsJsonObject().get("credential").getAsString();
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
        releases.close();
    }

    static Path plugin(String version) throws Exception {
        return releases.plugin(version, java.util.Map.of());
    }

    static Path sign(String owner, Path jar) throws Exception {
        return releases.sign(owner, jar);
    }

    static String[] upload(Path manifest, Path jar, String... extra) throws Exception {
        return releases.upload(manifest, jar, extra);
    }

    static void refused(String status, String why, Path manifest, Path jar, String... extra) throws Exception {
        String[] r = upload(manifest, jar, extra);
        assertEquals(r[1], status, r[0]);
        assertTrue(r[1], r[1].contains(why));
    }

    @Test
    public void aSignedPluginIsStoredOnceListedAndServedWholeOrFromAByteOn() throws Exception {
        Path jar = plugin("0.1.7");
        Path manifest = sign("owner", jar);
        String[] r = upload(manifest, jar);
        assertEquals(r[1], "201", r[0]);
        JsonObject stored = JsonParser.parseString(r[1]).getAsJsonObject();
        assertEquals("io.sonde.plugin.tcp", stored.get("symbolic_name").getAsString());
        assertEquals("0.1.7", stored.get("version").getAsString());
        assertEquals("the same again: nothing new", "200", upload(manifest, jar)[0]);
        server.awaitLogLine("Release io.sonde.plugin.tcp 0.1.7 stored");

        HttpResponse<String> list = server.admin("GET", "/api/v1/bundles", null);
        assertTrue(list.body(), list.body().contains("\"version\":\"0.1.7\""));
        // an agent fetches the manifest as signed and the jar, whole and resumed
        HttpResponse<String> m = server.request("GET", "/api/v1/bundles/io.sonde.plugin.tcp/0.1.7", agentCredential, null);
        assertEquals(200, m.statusCode());
        assertEquals(Files.readString(manifest).strip(), m.body());
        byte[] bytes = Files.readAllBytes(jar);
        HttpResponse<byte[]> whole = bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar");
        assertEquals(200, whole.statusCode());
        assertArrayEquals(bytes, whole.body());
        HttpResponse<byte[]> rest = bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar", "Range", "bytes=1000-");
        assertEquals(206, rest.statusCode());
        assertEquals("bytes 1000-" + (bytes.length - 1) + "/" + bytes.length, rest.headers().firstValue("Content-Range").orElseThrow());
        assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 1000, bytes.length), rest.body());
        assertEquals(416, bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar", "Range", "bytes=" + bytes.length + "-").statusCode());
        // a number beyond a long: 416 with the JSON error, not a 500 (found by an outside review)
        HttpResponse<byte[]> huge = bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar", "Range", "bytes=99999999999999999999-");
        assertEquals(416, huge.statusCode());
        assertTrue(new String(huge.body(), StandardCharsets.UTF_8).contains("is not one range within the " + bytes.length + " bytes"));
        assertEquals(416, bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar", "Range", "bytes=-99999999999999999999").statusCode());
        assertEquals(404, bytes("/api/v1/bundles/io.sonde.plugin.tcp/0.9.9/jar").statusCode());
        assertEquals(401, server.request("GET", "/api/v1/bundles/io.sonde.plugin.tcp/0.1.7/jar", null, null).statusCode());
        assertEquals("agents fetch, only the admin lists", 403, server.request("GET", "/api/v1/bundles", agentCredential, null).statusCode());
    }

    static HttpResponse<byte[]> bytes(String path, String... headers) throws Exception {
        java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + path))
                .header("Authorization", "Bearer " + agentCredential);
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return ServerProcess.client(server.home.resolve("data/tls/ca.pem")).send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * A jar signed by a trusted key whose manifest inflates to 300 MB (300 kB on the wire) took the
     * server's heap whole (found by an outside review): the manifest is inflated within a bound.
     */
    @Test
    public void aSignedJarWhoseManifestInflatesToHundredsOfMegabytesIsRefusedAndTheServerLives() throws Exception {
        Path bomb = Files.createTempDirectory(work, "bomb-").resolve("io.sonde.plugin.tcp-0.3.3.jar");
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(bomb))) {
            z.setLevel(9);
            z.putNextEntry(new java.util.zip.ZipEntry("META-INF/MANIFEST.MF"));
            z.write("Manifest-Version: 1.0\r\nBundle-SymbolicName: io.sonde.plugin.tcp\r\nBundle-Version: 0.3.3\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] line = ("X-Padding: " + "a".repeat(60) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] block = new byte[line.length * 16_384];
            for (int i = 0; i < 16_384; i++) {
                System.arraycopy(line, 0, block, i * line.length, line.length);
            }
            for (long written = 0; written < 300L << 20; written += block.length) {
                z.write(block);
            }
            z.closeEntry();
        }
        assertTrue("small on the wire: " + Files.size(bomb), Files.size(bomb) < 2 << 20);
        // signed as the tool would, but without reading the jar's manifest (the tool refuses such a jar too)
        Path keys = work.resolve("owner");
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("Ed25519").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
                java.util.Base64.getDecoder().decode(Files.readString(keys.resolve("release.key")).replaceAll("-----[A-Z ]+-----", "")
                        .replaceAll("\\s", ""))));
        java.security.PublicKey pub = io.sonde.wire.ReleaseManifest.publicKey(Files.readString(keys.resolve("release.pub")));
        io.sonde.wire.ReleaseManifest unsigned = new io.sonde.wire.ReleaseManifest(1, "io.sonde.plugin.tcp", "0.3.3",
                io.sonde.wire.ReleaseManifest.sha256(bomb), Files.size(bomb), io.sonde.wire.ReleaseManifest.keyId(pub), null);
        java.security.Signature sig = java.security.Signature.getInstance("Ed25519");
        sig.initSign(key);
        sig.update(unsigned.signedBytes());
        Path manifest = bomb.resolveSibling("bomb.manifest.json");
        Files.writeString(manifest, io.sonde.wire.WireCodec.gson().toJson(new io.sonde.wire.ReleaseManifest(1, unsigned.symbolicName(),
                unsigned.version(), unsigned.sha256(), unsigned.size(), unsigned.keyId(), java.util.Base64.getEncoder().encodeToString(sig.sign()))));
        refused("400", "META-INF/MANIFEST.MF inflates to more than 1048576 bytes", manifest, bomb);
        assertEquals(200, server.get("/healthz").statusCode());
        assertTrue(!server.admin("GET", "/api/v1/bundles", null).body().contains("0.3.3"));
    }

    @Test
    public void everyBadReleaseIsRefusedBeforeAnythingIsStored() throws Exception {
        Path jar = plugin("0.2.1");
        Path manifest = sign("owner", jar);
        JsonObject good = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();

        // unsigned
        JsonObject unsigned = good.deepCopy();
        unsigned.remove("signature");
        refused("400", "the manifest is not signed", write("unsigned.json", unsigned), jar);
        // signed by a key the server does not trust: the same bytes (a rebuild may differ in its manifest's time)
        Path strangersJar = Files.createTempDirectory(work, "stranger-").resolve(jar.getFileName());
        Files.copy(jar, strangersJar);
        Path strangers = sign("stranger", strangersJar);
        refused("400", "which is not a trusted release key", strangers, jar);
        // the owner's signature, but the manifest's fields changed after
        JsonObject bumped = good.deepCopy();
        bumped.addProperty("version", "0.2.2");
        refused("400", "does not verify", write("bumped.json", bumped), jar);
        // a valid signature over other bytes: another build's jar
        Path other = plugin("0.2.9");
        refused("400", "the manifest says", manifest, other); // its size, or if that happens to be the same, its SHA-256
        // cut short
        Path cut = work.resolve("cut.jar");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(jar), (int) Files.size(jar) / 2));
        refused("400", "(cut short)", manifest, cut);
        // the same length, one byte changed
        Path flipped = work.resolve("flipped.jar");
        byte[] b = Files.readAllBytes(jar);
        b[b.length / 3] ^= 1;
        Files.write(flipped, b);
        refused("400", "other bytes than those signed", manifest, flipped);
        // a manifest over the limit
        JsonObject huge = good.deepCopy();
        huge.addProperty("padding", "x".repeat(20_000));
        refused("413", "manifest: ", write("huge.json", huge), jar);
        // parts missing, not multipart, garbage manifest
        refused("400", "jar: missing", manifest, null);
        refused("400", "manifest: missing", null, jar);
        Files.writeString(work.resolve("garbage.json"), "<html>");
        refused("400", "manifest: malformed JSON", work.resolve("garbage.json"), jar);
        HttpResponse<String> plain = server.admin("POST", "/api/v1/bundles", "{}");
        assertEquals(415, plain.statusCode());
        assertTrue(plain.body(), plain.body().contains("multipart/form-data with the parts manifest and jar"));

        // nothing of it was stored; then the good one is, and its version is taken for good
        assertTrue(!server.admin("GET", "/api/v1/bundles", null).body().contains("0.2.1"));
        assertEquals("201", upload(manifest, jar)[0]);
        Path again = plugin("0.2.1");
        appendEntry(again); // the same bundle and version, other bytes
        refused("409", "is in the repository with other bytes", sign("owner", again), again);
        assertTrue(!server.log().contains(Files.readString(work.resolve("owner/release.key")).lines().skip(1).findFirst().orElseThrow()));
    }

    static Path write(String name, JsonObject json) throws Exception {
        Path p = work.resolve(name);
        Files.writeString(p, json.toString());
        return p;
    }

    /** Makes a jar other bytes of the same bundle and version: one entry more. */
    static void appendEntry(Path jar) throws Exception {
        Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
        try (JarFile in = new JarFile(jar.toFile())) {
            Releases.copy(in, in.getManifest(), tmp, Map.of("NOTICE-rebuilt.txt", "rebuilt".getBytes(StandardCharsets.UTF_8)));
        }
        Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    public void aRolloutOfAStoredReleaseReachesTheDocumentsOfTheAgentsItTakes() throws Exception {
        Path jar = plugin("0.3.0");
        assertEquals("201", upload(sign("owner", jar), jar)[0]);
        HttpResponse<String> r = server.admin("PUT", "/api/v1/rollouts/tcp-030", "{\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"0.3.0\","
                + "\"agents\":\"lab\"}");
        assertEquals(r.body(), 201, r.statusCode());
        HttpResponse<String> doc = null;
        for (int i = 0; i < 50; i++) { // the documents follow a change within 250 ms
            doc = server.request("GET", "/api/v1/agents/fetcher/config", agentCredential, null);
            if (doc.body().contains("\"bundles\"")) {
                break;
            }
            Thread.sleep(100);
        }
        JsonObject b = JsonParser.parseString(doc.body()).getAsJsonObject().getAsJsonArray("bundles").get(0).getAsJsonObject();
        assertEquals("io.sonde.plugin.tcp", b.get("symbolic_name").getAsString());
        assertEquals("0.3.0", b.get("version").getAsString());
        assertEquals(ReleaseSha.of(jar), b.get("sha256").getAsString());
        assertEquals("active", b.get("state").getAsString());
        JsonObject shown = server.json(server.admin("GET", "/api/v1/rollouts/tcp-030", null));
        assertEquals(1, shown.get("agents_taken").getAsInt());
        assertEquals("fetcher", shown.getAsJsonArray("agents_status").get(0).getAsJsonObject().get("agent_id").getAsString());
        assertEquals("pending", shown.getAsJsonArray("agents_status").get(0).getAsJsonObject().get("state").getAsString());

        // the agent's updater reports: under its health watch, then failed: the rollout is paused by itself
        String version = JsonParser.parseString(doc.body()).getAsJsonObject().get("version").getAsString();
        assertEquals(204, update(version, "watching", null).statusCode());
        for (int i = 0; i < 50 && !shown.getAsJsonObject("states").has("watching"); i++) { // the agents' states: within 2 s
            Thread.sleep(100);
            shown = server.json(server.admin("GET", "/api/v1/rollouts/tcp-030", null));
        }
        assertEquals(shown.toString(), 1, shown.getAsJsonObject("states").get("watching").getAsInt());
        assertEquals("active", shown.get("state").getAsString());
        HttpResponse<String> badState = update(version, "exploded", null);
        assertEquals(400, badState.statusCode());
        assertTrue(badState.body(), badState.body().contains("updates[0].state: 'exploded' is not one of"));
        assertEquals(204, update(version, "failed", "the bundle did not resolve: missing io.sonde.api [2.0,3)").statusCode());
        JsonObject paused = null;
        for (int i = 0; i < 50; i++) {
            server.request("GET", "/api/v1/agents/fetcher/config", agentCredential, null); // the agents' polls drive the check
            paused = server.json(server.admin("GET", "/api/v1/rollouts/tcp-030", null));
            if (paused.get("state").getAsString().equals("paused")) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals("paused", paused.get("state").getAsString());
        assertTrue(paused.toString(), paused.get("paused_reason").getAsString().contains("failed on 1 of its 1 agents (100 %, max_failed_percent 20)"));
        assertEquals("the bundle did not resolve: missing io.sonde.api [2.0,3)",
                paused.getAsJsonArray("agents_status").get(0).getAsJsonObject().get("reason").getAsString());
        server.awaitLogLine("Rollout 'tcp-030' of io.sonde.plugin.tcp 0.3.0 paused: failed on 1 of its 1 agents");
        assertTrue(server.request("GET", "/api/v1/agents/fetcher/config", agentCredential, null).body().contains("\"state\":\"paused\""));
        HttpResponse<String> bad = server.admin("PUT", "/api/v1/rollouts/nothing", "{\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"7.0.0\","
                + "\"agents\":\"lab\"}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("version: the repository has no release io.sonde.plugin.tcp 7.0.0"));
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/tcp-030", null).statusCode());
        for (int i = 0; i < 50; i++) {
            if (!server.request("GET", "/api/v1/agents/fetcher/config", agentCredential, null).body().contains("\"bundles\"")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the rollout's bundle stayed in the document");
    }

    /** The fetcher's status, saying what its updater did with tcp-030. */
    static HttpResponse<String> update(String configVersion, String state, String reason) throws Exception {
        return server.post("/api/v1/agents/fetcher/status", agentCredential, ("{\"schema\":1,\"version\":\"test\",\"config_version\":\""
                + configVersion + "\",\"config_source\":\"server\",\"updates\":[{\"symbolic_name\":\"io.sonde.plugin.tcp\","
                + "\"version\":\"0.3.0\",\"rollout\":\"tcp-030\",\"state\":\"" + state + "\""
                + (reason == null ? "" : ",\"reason\":\"" + reason + "\"") + "}]}").getBytes(StandardCharsets.UTF_8));
    }

    /** The SHA-256 of a file, as the manifest has it. */
    static final class ReleaseSha {
        static String of(Path file) throws Exception {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        }
    }
}
