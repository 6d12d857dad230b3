package io.sonde.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.Gson;
import com.google.gson.JsonElement;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sonde-cli server bundles} and {@code rollouts}: signed releases, and which agents run which version. */
final class ReleaseCommands {

    private ReleaseCommands() {
    }

    @Command(name = "bundles", mixinStandardHelpOptions = true,
            description = "Signed bundle releases: sign (on the release key's machine), upload, list",
            subcommands = {Bundles.List.class, Bundles.Sign.class, Bundles.Upload.class})
    static final class Bundles extends ServerSub {
        static final String[] COLUMNS = {"symbolic_name", "version", "size", "sha256", "uploaded_at"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/bundles"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "The releases the server holds")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/bundles"), out, COLUMNS);
            }
        }

        @Command(name = "sign", mixinStandardHelpOptions = true,
                description = "Signs a bundle jar with the release key (as bin/sonde-release sign): writes JAR.manifest.json."
                        + " Needs no server; keep the key off the servers.")
        static final class Sign implements Callable<Integer> {
            @Spec
            CommandSpec spec;

            @Option(names = "--key", required = true, paramLabel = "release.key")
            Path key;

            @Option(names = "--pub", paramLabel = "release.pub", description = "Default: release.pub beside the key")
            Path pub;

            @Parameters(paramLabel = "JAR")
            Path jar;

            @Override
            public Integer call() {
                try {
                    spec.commandLine().getOut().println(io.sonde.wire.internal.ReleaseCommand.sign(key, pub, jar));
                    spec.commandLine().getOut().flush();
                    return 0;
                } catch (java.io.IOException | java.security.GeneralSecurityException | io.sonde.wire.WireException
                        | IllegalArgumentException e) {
                    spec.commandLine().getErr().println("sign: " + e.getMessage());
                    return 1;
                }
            }
        }

        @Command(name = "upload", mixinStandardHelpOptions = true,
                description = "Uploads a signed release: the jar and its manifest (default: JAR.manifest.json, as sonde-release writes it)")
        static final class Upload extends ServerSub {
            @Parameters(paramLabel = "JAR")
            Path jar;

            @Option(names = "--manifest", paramLabel = "FILE")
            Path manifest;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Path m = manifest != null ? manifest : jar.resolveSibling(jar.getFileName() + ".manifest.json");
                for (Path p : new Path[] {jar, m}) {
                    if (!Files.isReadable(p)) {
                        throw new java.io.IOException(p + " does not exist or cannot be read");
                    }
                }
                JsonElement r = api.upload("/api/v1/bundles", new String[][] {{"manifest", m.getFileName().toString()},
                        {"jar", jar.getFileName().toString()}}, new byte[][] {Files.readAllBytes(m), Files.readAllBytes(jar)});
                show(r, out);
            }
        }
    }

    @Command(name = "rollouts", mixinStandardHelpOptions = true,
            description = "Which version of a bundle which agents run: list, set, status, delete",
            subcommands = {Rollouts.List.class, Rollouts.Set.class, Rollouts.Status.class, Rollouts.Delete.class})
    static final class Rollouts extends ServerSub {
        static final String[] COLUMNS = {"name", "bundle", "version", "agents", "percent", "state"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/rollouts"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every rollout")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/rollouts"), out, COLUMNS);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true, description = "Creates or changes a rollout")
        static final class Set extends ServerSub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Option(names = "--bundle", required = true, paramLabel = "SYMBOLIC_NAME")
            String bundle;

            @Option(names = "--version", required = true, paramLabel = "VERSION")
            String version;

            @Option(names = "--agents", defaultValue = "*", paramLabel = "SELECTOR", description = "Default: every agent")
            String agents;

            @Option(names = "--percent", defaultValue = "100", description = "The canary share of those agents (default 100)")
            int percent;

            @Option(names = "--max-failed-percent", paramLabel = "P", description = "Pause when this share of agents failed")
            Integer maxFailed;

            @Option(names = "--state", paramLabel = "STATE", description = "active or paused")
            String state;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("bundle", bundle);
                body.put("version", version);
                body.put("agents", agents);
                body.put("percent", percent);
                if (maxFailed != null) {
                    body.put("max_failed_percent", maxFailed);
                }
                if (state != null) {
                    body.put("state", state);
                }
                show(api.send("PUT", "/api/v1/rollouts/" + ServerApi.encode(name), new Gson().toJson(body)), out);
            }
        }

        @Command(name = "status", mixinStandardHelpOptions = true, description = "A rollout and each agent's state in it")
        static final class Status extends ServerSub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                show(api.get("/api/v1/rollouts/" + ServerApi.encode(name)), out);
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Ends a rollout (agents keep what they run)")
        static final class Delete extends ServerSub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/rollouts/" + ServerApi.encode(name), null);
                out.println("Deleted rollout " + name);
            }
        }
    }
}
