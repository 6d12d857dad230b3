package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * What contrib/ ships for deployment, checked by the tools that judge it: the systemd units by
 * systemd-analyze (verify, and the offline security review), the Kubernetes manifests by the API's
 * schema (e2e/src/test/python/k8s_schema.py on Debian's python3-kubernetes) and the agent's own
 * validation of the configuration they carry, the Dockerfiles against the built distributions.
 */
public class DeploymentIT {

    private static final Path CONTRIB = Path.of("../contrib").toAbsolutePath().normalize();
    private static final Path SCHEMA = Path.of("src/test/python/k8s_schema.py").toAbsolutePath();

    /** Exit code and output of a command run to its end (two minutes at most). */
    private static CliIT.Run run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " did not end");
        }
        return new CliIT.Run(p.exitValue(), out);
    }

    /** The units as installed over the built distributions (their /opt paths pointed at them). */
    private static Path installedUnits() throws Exception {
        Path dir = Files.createTempDirectory("sonde-units-");
        Path agent = AgentProcess.distribution().normalize();
        Path server = ServerProcess.distribution().normalize();
        for (String unit : List.of("sonde-agent.service", "sonde-server.service")) {
            String text = Files.readString(CONTRIB.resolve("systemd").resolve(unit))
                    .replace("/opt/sonde-server", server.toString()).replace("/opt/sonde", agent.toString());
            Files.writeString(dir.resolve(unit), text);
        }
        return dir;
    }

    @Test
    public void theSystemdUnitsVerifyCleanAndAreHardened() throws Exception {
        assumeTrue("systemd-analyze is not installed; CI installs it",
                new File("/usr/bin/systemd-analyze").canExecute() || System.getenv("CI") != null);
        Path dir = installedUnits();
        try {
            CliIT.Run verify = run(List.of("systemd-analyze", "verify", dir.resolve("sonde-agent.service").toString(),
                    dir.resolve("sonde-server.service").toString()));
            assertEquals(verify.out(), 0, verify.exit());
            assertEquals("systemd-analyze verify says nothing of a clean unit", "", verify.out().strip());

            // the check checks: a misspelt directive is reported
            Path bad = dir.resolve("bad.service");
            Files.writeString(bad, Files.readString(dir.resolve("sonde-agent.service")).replace("ProtectSystem=", "ProtectSystm="));
            CliIT.Run misspelt = run(List.of("systemd-analyze", "verify", bad.toString()));
            assertTrue(misspelt.out(), misspelt.out().contains("Unknown key 'ProtectSystm' in section [Service]"));
            Files.delete(bad);

            for (String unit : List.of("sonde-agent.service", "sonde-server.service")) {
                CliIT.Run security = run(List.of("systemd-analyze", "security", "--offline=true", "--threshold=25",
                        dir.resolve(unit).toString()));
                assertEquals(unit + ": exposure above 2.5:\n" + security.out(), 0, security.exit());
                assertTrue(security.out(), security.out().contains("Overall exposure level for " + unit));
            }
            String agent = Files.readString(CONTRIB.resolve("systemd/sonde-agent.service"));
            String server = Files.readString(CONTRIB.resolve("systemd/sonde-server.service"));
            for (String unit : List.of(agent, server)) {
                for (String directive : List.of("User=sonde", "NoNewPrivileges=true", "ProtectSystem=strict", "Restart=on-failure",
                        "ExecReload=/bin/kill -HUP $MAINPID")) {
                    assertTrue(directive, unit.contains("\n" + directive + "\n"));
                }
            }
            assertTrue(agent.contains("\nAmbientCapabilities=CAP_NET_RAW\n"));
            assertTrue(agent.contains("\nReadWritePaths=/opt/sonde/data /opt/sonde/log "));
            assertTrue(server.contains("\nAmbientCapabilities=\n"));
            assertTrue(server.contains("\nReadWritePaths=/opt/sonde-server/data /opt/sonde-server/log\n"));
            // the user both run as
            Path root = Files.createTempDirectory("sonde-sysusers-");
            CliIT.Run users = run(List.of("systemd-sysusers", "--dry-run", "--root=" + root,
                    CONTRIB.resolve("systemd/sonde.sysusers.conf").toString()));
            assertEquals(users.out(), 0, users.exit());
            assertTrue(users.out(), users.out().contains("Creating user 'sonde'"));
            AgentProcess.run("rm", "-rf", root.toString());
        } finally {
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    @Test
    public void theKubernetesManifestsPassTheApiSchemaAndCarryValidConfiguration() throws Exception {
        assumeTrue("python3-kubernetes is not installed; CI installs it",
                new File("/usr/lib/python3/dist-packages/kubernetes").isDirectory() || System.getenv("CI") != null);
        List<String> manifests = new ArrayList<>();
        try (var s = Files.list(CONTRIB.resolve("k8s"))) {
            s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(p -> manifests.add(p.toString()));
        }
        assertEquals(3, manifests.size());
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", SCHEMA.toString()));
        command.addAll(manifests);
        CliIT.Run schema = run(command);
        assertEquals(schema.out(), 0, schema.exit());
        assertTrue(schema.out(), schema.out().contains("3 files checked, 0 problems"));

        // the check checks: a broken copy is refused with the path and the reason
        Path broken = Files.createTempFile("sonde-k8s-", ".yaml");
        try {
            Files.writeString(broken, Files.readString(CONTRIB.resolve("k8s/agent.yaml"))
                    .replace("containerPort: 9100", "containerPort: \"9100\"").replace("readOnlyRootFilesystem", "readOnlyRootFileSystem")
                    .replace("apiVersion: apps/v1\nkind: DaemonSet", "apiVersion: v1\nkind: DaemonSet"));
            CliIT.Run refused = run(List.of("/usr/bin/python3", SCHEMA.toString(), broken.toString()));
            assertEquals(refused.out(), 1, refused.exit());
            assertTrue(refused.out(), refused.out().contains("(DaemonSet/sonde-agent): apiVersion v1: DaemonSet is in group 'apps'"));
            Files.writeString(broken, Files.readString(CONTRIB.resolve("k8s/agent.yaml"))
                    .replace("containerPort: 9100", "containerPort: \"9100\"").replace("readOnlyRootFilesystem", "readOnlyRootFileSystem"));
            refused = run(List.of("/usr/bin/python3", SCHEMA.toString(), broken.toString()));
            assertTrue(refused.out(), refused.out().contains(
                    ".spec.template.spec.containers[0].ports[0].containerPort: must be a whole number, not '9100'"));
            assertTrue(refused.out(), refused.out().contains(
                    ".spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: no such field in V1SecurityContext"));
        } finally {
            Files.delete(broken);
        }

        String agent = Files.readString(CONTRIB.resolve("k8s/agent.yaml"));
        assertTrue("ICMP without a capability", agent.contains("- name: net.ipv4.ping_group_range\n            value: \"0 2147483647\""));
        assertTrue(agent.contains("drop: [\"ALL\"]"));
        assertFalse(agent.contains("hostNetwork"));
        // the agent's etc/ in the ConfigMap is what sonde-cli validate passes
        Path etc = Files.createTempDirectory("sonde-k8s-etc-");
        try {
            for (Map.Entry<String, String> f : configMap(agent, "sonde-agent-etc").entrySet()) {
                Files.writeString(etc.resolve(f.getKey()), f.getValue());
            }
            assertTrue(Files.exists(etc.resolve("io.sonde.agent.cfg")));
            CliIT.Run valid = CliIT.cli(AgentProcess.distribution(), "validate", etc.toString());
            assertEquals(valid.out(), 0, valid.exit());
        } finally {
            AgentProcess.run("rm", "-rf", etc.toString());
        }
        for (String file : List.of("server.yaml", "server-postgres.yaml")) {
            Path serverEtc = Files.createTempDirectory("sonde-k8s-server-etc-");
            try {
                for (Map.Entry<String, String> f : configMap(Files.readString(CONTRIB.resolve("k8s").resolve(file)), "sonde-server-etc")
                        .entrySet()) {
                    Files.writeString(serverEtc.resolve(f.getKey()), f.getValue());
                }
                CliIT.Run valid = CliIT.cli(ServerProcess.distribution(), "validate", serverEtc.toString());
                assertEquals(file + ": " + valid.out(), 0, valid.exit());
            } finally {
                AgentProcess.run("rm", "-rf", serverEtc.toString());
            }
        }
    }

    /** The files of a ConfigMap's data in a manifest, read with the same YAML library the schema check uses. */
    private static Map<String, String> configMap(String manifest, String name) throws Exception {
        Path file = Files.createTempFile("sonde-manifest-", ".yaml");
        try {
            Files.writeString(file, manifest);
            CliIT.Run json = run(List.of("/usr/bin/python3", "-c", "import json,sys,yaml\n"
                    + "for d in yaml.safe_load_all(open(sys.argv[1])):\n"
                    + "    if d and d.get('kind') == 'ConfigMap' and d['metadata']['name'] == sys.argv[2]:\n"
                    + "        print(json.dumps(d['data']))\n", file.toString(), name));
            assertEquals(json.out(), 0, json.exit());
            Map<String, String> out = new LinkedHashMap<>();
            com.google.gson.JsonParser.parseString(json.out()).getAsJsonObject().entrySet()
                    .forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
            return out;
        } finally {
            Files.delete(file);
        }
    }

    /**
     * etc/ as Kubernetes mounts a ConfigMap: each file a link through ..data into a timestamped
     * directory, and an update swaps ..data in one rename. The agent follows the swap, and a key
     * the ConfigMap no longer has takes its target away.
     */
    @Test
    public void anEtcMountedFromAConfigMapIsFollowedThroughItsSwaps() throws Exception {
        try (java.net.ServerSocket open = AgentProcess.acceptor(); AgentProcess agent = AgentProcess.start()) {
            Path etc = agent.home.resolve("etc");
            String file = "io.sonde.target-cm.cfg";
            configMapVersion(etc, "..2026_12_03_10_00_00.1", file, "kind = tcp\nhost = 127.0.0.1\nport = " + open.getLocalPort()
                    + "\ninterval_ms = 200\n");
            Files.createSymbolicLink(etc.resolve(file), Path.of("..data", file));
            agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"cm\",kind=\"tcp\"}") == 1);

            // the ConfigMap changes: a new directory, ..data swapped to it, the old one removed
            configMapVersion(etc, "..2026_12_03_10_05_00.2", file, "kind = tcp\nhost = 127.0.0.1\nport = " + AgentProcess.freePort()
                    + "\ninterval_ms = 200\nbackoff = off\n");
            AgentProcess.run("rm", "-rf", etc.resolve("..2026_12_03_10_00_00.1").toString());
            agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"cm\",kind=\"tcp\"}") == 0);

            // the key is gone from the ConfigMap: its link goes, and the target with it
            Files.delete(etc.resolve(file));
            agent.awaitMetrics(m -> !m.contains("target=\"cm\""));
            assertEquals("the mount's own entries are nobody's configuration", 0, AgentProcess.output(0,
                    agent.home.resolve("bin/sonde-cli").toString(), "validate").lines().filter(l -> l.contains("..")).count());
        }
    }

    /** Writes one version of a ConfigMap's directory and points ..data at it in one rename, as the kubelet does. */
    private static void configMapVersion(Path etc, String version, String file, String content) throws Exception {
        Files.createDirectories(etc.resolve(version));
        Files.writeString(etc.resolve(version).resolve(file), content);
        Path next = etc.resolve("..data_tmp");
        Files.deleteIfExists(next);
        Files.createSymbolicLink(next, Path.of(version));
        Files.move(next, etc.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    public void theDockerfilesBuildFromTheDistributionsAsANonRootUserWithAHealthcheck() throws Exception {
        Path context = AgentProcess.distribution().normalize().getParent(); // dist/target, the build context
        for (String[] image : new String[][] {{"agent.Dockerfile", "sonde", "9100", "bin/sonde"},
                {"server.Dockerfile", "sonde-server", "8443", "bin/sonde-server"}}) {
            List<String[]> instructions = instructions(CONTRIB.resolve("docker").resolve(image[0]));
            String where = image[0] + ": ";
            assertEquals(where + "starts FROM a base", "FROM", instructions.get(0)[0]);
            int user = -1;
            int entrypoint = -1;
            boolean healthcheck = false;
            for (int i = 0; i < instructions.size(); i++) {
                String[] in = instructions.get(i);
                switch (in[0]) {
                    case "COPY" -> {
                        String source = in[1].split("\\s+")[0];
                        assertTrue(where + "COPY " + source + " is not in the build context " + context,
                                Files.isDirectory(context.resolve(source)));
                    }
                    case "USER" -> {
                        user = i;
                        String who = in[1].split(":")[0].strip();
                        assertFalse(where + "runs as root", who.equals("root") || who.equals("0"));
                    }
                    case "HEALTHCHECK" -> {
                        healthcheck = true;
                        assertTrue(where + in[1], in[1].contains(":" + image[2] + "/healthz"));
                    }
                    case "EXPOSE" -> assertEquals(where + "the default port", image[2], in[1].strip());
                    case "ENTRYPOINT" -> {
                        entrypoint = i;
                        String program = in[1].replaceAll("[\\[\\]\" ]", "").split(",")[0];
                        String relative = program.replaceFirst("^/opt/" + image[1] + "/", "");
                        assertEquals(where + program, image[3], relative);
                        assertTrue(where + program + " is in the distribution and runs", Files.isExecutable(context.resolve(image[1]).resolve(relative)));
                    }
                    default -> {
                        // RUN, ENV, WORKDIR, VOLUME: nothing to hold against the distribution
                    }
                }
            }
            assertTrue(where + "has a HEALTHCHECK", healthcheck);
            assertTrue(where + "switches to its user before the ENTRYPOINT", user >= 0 && user < entrypoint);
        }
    }

    /** A Dockerfile's instructions (continuation lines joined, comments dropped): keyword and the rest. */
    private static List<String[]> instructions(Path dockerfile) throws Exception {
        List<String[]> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            if (line.strip().startsWith("#") || (line.isBlank() && current.length() == 0)) {
                continue;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            String text = current.toString().strip();
            current.setLength(0);
            String[] parts = text.split("\\s+", 2);
            out.add(new String[] {parts[0].toUpperCase(java.util.Locale.ROOT), parts.length > 1 ? parts[1] : ""});
        }
        return out;
    }
}
