package io.sonde.e2e;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A release owner beside a built server: key pairs made with the distribution's
 * {@code bin/sonde-release} (owner, stranger), plugins built again with other versions and
 * headers, signed with it, uploaded with curl as the README shows.
 */
final class Releases implements AutoCloseable {

    final ServerProcess server;
    final Path work;

    Releases(ServerProcess server) throws Exception {
        this.server = server;
        this.work = Files.createTempDirectory("sonde-release-");
        for (String owner : List.of("owner", "stranger")) {
            AgentProcess.output(0, tool(), "keygen", work.resolve(owner).toString());
        }
    }

    private String tool() {
        return server.home.resolve("bin/sonde-release").toString();
    }

    /** @return the public key of {@code owner}, base64, as the .cfg files take it */
    String publicKey(String owner) throws Exception {
        return Files.readString(work.resolve(owner).resolve("release.pub")).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    }

    /** Makes the server trust the keys of {@code owners}, and waits for it to say so. */
    void trust(String... owners) throws Exception {
        List<String> keys = new ArrayList<>();
        for (String o : owners) {
            keys.add(publicKey(o));
        }
        Files.writeString(server.home.resolve("etc/io.sonde.server.repository.cfg"), "trusted_keys = " + String.join(",", keys) + "\n");
        long deadline = System.nanoTime() + 30_000_000_000L;
        Pattern trusted = Pattern.compile("trusts release keys \\[([^\\]]*)\\]");
        while (System.nanoTime() < deadline) {
            Matcher m = trusted.matcher(server.log());
            String last = null;
            while (m.find()) {
                last = m.group(1);
            }
            if (last != null && last.split(",").length == owners.length) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not take the trusted keys; log:\n" + server.log());
    }

    /** The distribution's tcp plugin built again with {@code version} and {@code headers} set: the same classes. */
    Path plugin(String version, Map<String, String> headers) throws Exception {
        return rebuild("plugins/io.sonde.plugin.tcp.jar", version, headers);
    }

    /** The agent distribution's platform bundle named {@code symbolicName} (in system/) built again, as {@link #plugin}. */
    Path platform(String symbolicName, String version, Map<String, String> headers) throws Exception {
        try (var jars = Files.list(AgentProcess.distribution().resolve("system"))) {
            String jar = jars.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(symbolicName + "-")).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + symbolicName + " in the distribution's system/"));
            return rebuild("system/" + jar, version, headers);
        }
    }

    private Path rebuild(String jarInDistribution, String version, Map<String, String> headers) throws Exception {
        return rebuild(work, jarInDistribution, version, headers);
    }

    /**
     * The agent distribution's {@code jarInDistribution} built again as {@code version}, with
     * {@code entries} put in (replacing those of the same name): a build that behaves otherwise.
     */
    Path withEntries(String jarInDistribution, String version, Map<String, byte[]> entries) throws Exception {
        Path out = Files.createTempDirectory(work, "build-").resolve("rebuilt-" + version + ".jar");
        try (JarFile in = new JarFile(AgentProcess.distribution().resolve(jarInDistribution).toFile())) {
            Manifest m = new Manifest(in.getManifest());
            m.getMainAttributes().putValue("Bundle-Version", version);
            copy(in, m, out, entries);
        }
        return out;
    }

    /** @return the class file of {@code source} (one public class {@code className}), compiled against the agent's API */
    byte[] compile(String className, String source) throws Exception {
        Path dir = Files.createTempDirectory(work, "javac-");
        Path src = dir.resolve(className.substring(className.lastIndexOf('.') + 1) + ".java");
        Files.writeString(src, source);
        String api;
        try (var jars = Files.list(AgentProcess.distribution().resolve("system"))) {
            api = jars.filter(p -> p.getFileName().toString().startsWith("io.sonde.api-")).findFirst().orElseThrow().toString();
        }
        int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "--release", "17", "-cp", api, "-d",
                dir.toString(), src.toString());
        if (rc != 0) {
            throw new AssertionError("javac failed on " + src);
        }
        return Files.readAllBytes(dir.resolve(className.replace('.', '/') + ".class"));
    }

    /** The agent distribution's {@code jarInDistribution} built again in {@code work} with {@code version} and {@code headers} set. */
    static Path rebuild(Path work, String jarInDistribution, String version, Map<String, String> headers) throws Exception {
        String name = Path.of(jarInDistribution).getFileName().toString().replaceAll("(-[0-9][^/]*)?\\.jar$", "");
        Path out = Files.createTempDirectory(work, "build-").resolve(name + "-" + version + ".jar"); // each build its own
        try (JarFile in = new JarFile(AgentProcess.distribution().resolve(jarInDistribution).toFile())) {
            Manifest m = new Manifest(in.getManifest());
            m.getMainAttributes().putValue("Bundle-Version", version);
            headers.forEach((k, v) -> m.getMainAttributes().putValue(k, v));
            copy(in, m, out, Map.of());
        }
        return out;
    }

    /** Writes {@code in}'s entries under manifest {@code m} to {@code out}, {@code entries} in place of those of their names. */
    static void copy(JarFile in, Manifest m, Path out, Map<String, byte[]> entries) throws Exception {
        try (OutputStream file = Files.newOutputStream(out); JarOutputStream jar = new JarOutputStream(file, m)) {
            for (Enumeration<JarEntry> e = in.entries(); e.hasMoreElements();) {
                JarEntry entry = e.nextElement();
                if (entry.getName().equals(JarFile.MANIFEST_NAME) || entries.containsKey(entry.getName())) {
                    continue;
                }
                jar.putNextEntry(new JarEntry(entry.getName()));
                try (InputStream data = in.getInputStream(entry)) {
                    data.transferTo(jar);
                }
                jar.closeEntry();
            }
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(e.getKey()));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
    }

    /** Signs {@code jar} with {@code owner}'s key; @return the manifest written beside it */
    Path sign(String owner, Path jar) throws Exception {
        AgentProcess.output(0, tool(), "sign", "--key", work.resolve(owner).resolve("release.key").toString(), jar.toString());
        return jar.resolveSibling(jar.getFileName() + ".manifest.json");
    }

    /** Uploads with curl; @return the status code and the body */
    String[] upload(Path manifest, Path jar, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "-", "-w", "\n%{http_code}",
                "--cacert", server.home.resolve("data/tls/ca.pem").toString(), "-H", "Authorization: Bearer " + server.adminToken()));
        if (manifest != null) {
            cmd.addAll(List.of("-F", "manifest=@" + manifest));
        }
        if (jar != null) {
            cmd.addAll(List.of("-F", "jar=@" + jar));
        }
        cmd.addAll(List.of(extra));
        cmd.add(server.url() + "/api/v1/bundles");
        String out = AgentProcess.output(0, cmd.toArray(new String[0]));
        int nl = out.lastIndexOf('\n');
        return new String[] {out.substring(nl + 1).strip(), out.substring(0, nl)};
    }

    /**
     * Starts an agent {@code id} enrolled with the server by {@code token}, pinning the owner's key
     * (a 5 s watch, 8 s to start), asking for its document every second, probing the tcp target
     * {@code web} every {@code intervalMs}; returns once it probes and has enrolled.
     */
    AgentProcess updatableAgent(String id, String token, int intervalMs) throws Exception {
        AgentProcess agent = AgentProcess.start(Map.of(
                "etc/io.sonde.agent.cfg", "agent_id = " + id + "\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"),
                "etc/io.sonde.updater.cfg", "public_key = " + publicKey("owner") + "\nhealth_watch_s = 5\nstart_timeout_s = 8\n"));
        int open = agent.openPort();
        agent.write("etc/io.sonde.target-web.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + open + "\ninterval_ms = " + intervalMs + "\n");
        agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"web\",kind=\"tcp\"}") == 1);
        agent.awaitLogLine("Enrolled with");
        return agent;
    }

    /** Declares the rollout {@code name} of {@code bundle} {@code version} to the agents {@code selector} takes. */
    void rollout(String name, String bundle, String version, String selector, String more) throws Exception {
        java.net.http.HttpResponse<String> r = server.admin("PUT", "/api/v1/rollouts/" + name, "{\"bundle\":\"" + bundle
                + "\",\"version\":\"" + version + "\",\"agents\":\"" + selector + "\"" + more + "}");
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw new AssertionError("PUT rollout " + name + ": " + r.statusCode() + " " + r.body());
        }
    }

    /** Builds, signs and uploads {@code jar} as {@code owner}. */
    void release(String owner, Path jar) throws Exception {
        String[] r = upload(sign(owner, jar), jar);
        if (!r[0].equals("201")) {
            throw new AssertionError("upload of " + jar + ": " + r[0] + " " + r[1]);
        }
    }

    /**
     * Waits ({@code seconds} at most) for the rollout to show {@code agent} in {@code state};
     * @return the agent's entry
     */
    com.google.gson.JsonObject awaitState(String rollout, String agent, String state, int seconds,
            java.util.concurrent.Callable<String> context) throws Exception {
        com.google.gson.JsonObject last = null;
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            last = server.json(server.admin("GET", "/api/v1/rollouts/" + rollout, null));
            if (last.has("agents_status")) {
                for (var e : last.getAsJsonArray("agents_status")) {
                    com.google.gson.JsonObject a = e.getAsJsonObject();
                    if (a.get("agent_id").getAsString().equals(agent) && a.get("state").getAsString().equals(state)) {
                        return a;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("rollout " + rollout + " never showed " + agent + " " + state + " in " + seconds + " s: " + last
                + "\nthe agent as the server has it: " + server.agent(agent) + "\n" + context.call());
    }

    @Override
    public void close() throws Exception {
        AgentProcess.run("rm", "-rf", work.toString());
    }
}
