package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.Test;

/**
 * A kind belongs to its plugin: no main code outside {@code plugins/}, the probe contract included,
 * names a kind or a kind's result type. The kinds are the folders of {@code plugins/}, so a new plugin is checked
 * as soon as it exists. The few places that do name one are listed below, each with why; a new
 * one fails this test with its file and line.
 */
public class KindKnowledgeIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** The result records of the built-in kinds, each in its plugin's own internal package. */
    private static final List<String> RESULT_TYPES = List.of("PingResult", "TracerouteResult", "HttpGetResult", "TcpConnectResult",
            "UdpConnectResult");

    /** file (from the root) and what it names, with why it may. */
    private static final Map<String, String> ALLOWED = Map.ofEntries(
            Map.entry("contract/api/src/main/java/io/sonde/api/Target.java \"tcp\"",
                    "the aliases users have written in their files since 1.0 (tcpconnect = tcp, echo = udp), kept so those files read"),
            Map.entry("contract/api/src/main/java/io/sonde/api/Target.java \"udp\"",
                    "the aliases users have written in their files since 1.0 (tcpconnect = tcp, echo = udp), kept so those files read"),
            Map.entry("contract/api/src/main/java/io/sonde/api/HostForm.java \"http\"", "the scheme of the URL host form"),
            Map.entry("agent/responder/src/main/java/io/sonde/responder/internal/Responder.java \"tcp\"",
                    "the responder answers TCP connects: its own protocol's label, not a kind"),
            Map.entry("agent/responder/src/main/java/io/sonde/responder/internal/Responder.java \"udp\"",
                    "the responder echoes UDP: its own protocol's label, not a kind"),
            Map.entry("server/config/src/main/java/io/sonde/server/config/internal/ConfigModel.java \"tcp\"",
                    "a mesh's kinds that probe the peers' responders (TCP and UDP echo) get the responder's port"),
            Map.entry("server/config/src/main/java/io/sonde/server/config/internal/ConfigModel.java \"udp\"",
                    "a mesh's kinds that probe the peers' responders (TCP and UDP echo) get the responder's port"),
            Map.entry("server/spi/src/main/java/io/sonde/server/spi/DetailsCodec.java \"dns\"",
                    "a phase's name in the stored details' key dictionary (append-only: stored data refers to it)"),
            Map.entry("server/spi/src/main/java/io/sonde/server/spi/DetailsCodec.java \"tls\"",
                    "a phase's name in the stored details' key dictionary (append-only: stored data refers to it)"),
            Map.entry("server/alerts/src/main/java/io/sonde/server/alerts/internal/AlertRule.java \"http\"",
                    "a receiver URL's scheme"),
            Map.entry("server/alerts/src/main/java/io/sonde/server/alerts/internal/ChannelKeys.java \"http\"",
                    "a receiver URL's scheme"),
            Map.entry("server/alerts/src/main/java/io/sonde/server/alerts/internal/AlertService.java \"http\"",
                    "the scheme of public_url, the server's own address"),
            Map.entry("server/alerts/src/main/java/io/sonde/server/alerts/internal/EmailChannel.java \"tls\"",
                    "an email receiver's transport security (starttls, tls or none), SMTP's own"),
            Map.entry("server/remotewrite/src/main/java/io/sonde/server/remotewrite/internal/RemoteWrite.java \"http\"",
                    "a remote-write receiver URL's scheme"),
            Map.entry("contract/wire/src/main/java/io/sonde/wire/WireResult.java \"dns\"", "a failure reason"),
            Map.entry("contract/wire/src/main/java/io/sonde/wire/WireResult.java \"tls\"", "a failure reason"),
            Map.entry("server/core/src/main/java/io/sonde/server/core/internal/HttpsListener.java \"tls\"",
                    "the server's own TLS material's folder"),
            Map.entry("server/dashboard/src/main/resources/ui/assets/settings.js 'tcp'",
                    "the example a new target definition starts from in the editor"),
            Map.entry("server/dashboard/src/main/resources/ui/assets/settings.js 'icmp'",
                    "the example a new mesh definition starts from in the editor"));

    @Test
    public void noModuleOutsideThePluginsNamesAKindOrAKindsResultType() throws IOException {
        List<String> kinds = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(ROOT.resolve("plugins"))) {
            dirs.filter(d -> Files.isRegularFile(d.resolve("pom.xml"))).forEach(d -> kinds.add(d.getFileName().toString()));
        }
        assertTrue(kinds.toString(), kinds.containsAll(List.of("tcp", "icmp", "traceroute", "http", "udp", "dns", "tls", "websocket", "grpc")));
        String names = String.join("|", kinds);
        Pattern java = Pattern.compile("\"(" + names + ")\"|\\b(" + String.join("|", RESULT_TYPES) + ")\\b");
        Pattern js = Pattern.compile("'(" + names + ")'|\"(" + names + ")\"");
        List<String> found = new ArrayList<>();
        TreeSet<String> used = new TreeSet<>();
        for (String tree : List.of("contract", "agent", "server", "platform", "tools")) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(tree))) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String rel = ROOT.relativize(f).toString();
                    boolean main = rel.contains("/src/main/");
                    boolean javaFile = rel.endsWith(".java");
                    boolean jsFile = rel.endsWith(".js") && !rel.contains("/vendor/") && !rel.contains("webjars");
                    if (!main || !(javaFile || jsFile)) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(f);
                    for (int i = 0; i < lines.size(); i++) {
                        String line = lines.get(i).strip();
                        if (line.startsWith("*") || line.startsWith("//") || line.startsWith("/*")) {
                            continue; // documentation may give examples
                        }
                        Matcher m = (javaFile ? java : js).matcher(line);
                        while (m.find()) {
                            String what = m.group(1) != null ? m.group(0) : m.group(2) != null && javaFile ? m.group(2) : m.group(0);
                            String key = rel + " " + what;
                            if (ALLOWED.containsKey(key)) {
                                used.add(key);
                            } else {
                                found.add(rel + ":" + (i + 1) + ": " + what + "  — " + line);
                            }
                        }
                    }
                }
            }
        }
        assertEquals("kinds named outside their plugins (a kind's values are read by their roles, from its result schema):\n"
                + String.join("\n", found), List.of(), found);
        assertEquals("exceptions listed here that no longer occur: drop them", new TreeSet<>(ALLOWED.keySet()), used);
    }

    /**
     * A plugin needs the probe contract and nothing of the agent's own: no plugin's main code imports
     * the agent SPI, and none reaches into another bundle's internal package.
     */
    @Test
    public void pluginsBuildAgainstTheProbeContractAlone() throws IOException {
        List<String> found = new ArrayList<>();
        Pattern reach = Pattern.compile("\\bio\\.sonde\\.(agent\\.spi|core|scheduler|exporter|uplink|server)\\b|\\bio\\.sonde\\.[a-z.]*\\.internal\\b");
        int files = 0;
        for (String tree : List.of("plugins", "examples")) {
            try (Stream<Path> walk = Files.walk(ROOT.resolve(tree))) {
                for (Path f : walk.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/")
                        && !p.toString().contains("/target/")).toList()) {
                    files++;
                    String own = ROOT.relativize(f).toString();
                    List<String> lines = Files.readAllLines(f);
                    String pkg = lines.stream().filter(l -> l.startsWith("package ")).findFirst().orElse("");
                    for (int i = 0; i < lines.size(); i++) {
                        Matcher m = reach.matcher(lines.get(i));
                        while (m.find()) {
                            if (!lines.get(i).startsWith("package ") && !pkg.contains(m.group())) {
                                found.add(own + ":" + (i + 1) + ": " + lines.get(i).strip());
                            }
                        }
                    }
                }
            }
        }
        assertTrue("plugin sources found: " + files, files > 25);
        assertEquals("plugins reaching past the probe contract:\n" + String.join("\n", found), List.of(), found);
    }
}
