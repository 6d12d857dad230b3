package io.sonde.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sonde-cli server agents} and {@code tokens}: the enrolled agents, and the tokens they enroll with. */
final class AgentCommands {

    private AgentCommands() {
    }

    @Command(name = "agents", mixinStandardHelpOptions = true, description = "Enrolled agents: list, show one, reset or revoke one",
            subcommands = {Agents.List.class, Agents.Show.class, Agents.Reset.class, Agents.Revoke.class})
    static final class Agents extends ServerSub {
        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.all("/api/v1/agents"), out, LIST_COLUMNS);
        }

        static final String[] LIST_COLUMNS = {"agent_id", "online", "version", "tags", "last_seen", "spool_records", "refused", "revoked"};

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every agent, or those a selector takes")
        static final class List extends ServerSub {
            @Option(names = "--selector", paramLabel = "SELECTOR", description = "Tags: eu AND NOT edge")
            String selector;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.all("/api/v1/agents" + (selector == null ? "" : "?selector=" + ServerApi.encode(selector))), out, LIST_COLUMNS);
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "One agent")
        static final class Show extends ServerSub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                show(api.get("/api/v1/agents/" + ServerApi.encode(id)), out);
            }
        }

        @Command(name = "reset", mixinStandardHelpOptions = true, description = "Ends the agent's credential now; it enrolls again under"
                + " its id with an enrollment token, keeping its spool (a lost or stolen credential, a host rebuilt)")
        static final class Reset extends ServerSub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("POST", "/api/v1/agents/" + ServerApi.encode(id) + "/reset", "{}");
                out.println("Reset agent " + id + ": its credential no longer works; give it an enrollment token (enrollment_token in its"
                        + " etc/io.sonde.uplink.cfg) and it enrolls again, keeping its spool");
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Refuses the agent's requests from now on")
        static final class Revoke extends ServerSub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/agents/" + ServerApi.encode(id), null);
                out.println("Revoked agent " + id);
            }
        }
    }

    @Command(name = "tokens", mixinStandardHelpOptions = true, description = "Enrollment tokens: create, list, revoke",
            subcommands = {Tokens.Create.class, Tokens.List.class, Tokens.Revoke.class})
    static final class Tokens extends ServerSub {
        static final String[] LIST_COLUMNS = {"id", "tags", "expires_at", "single_use", "agent_tags"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/enrollment-tokens"), out, LIST_COLUMNS);
        }

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Makes a token for agents to enroll with; it is shown once, here")
        static final class Create extends ServerSub {
            @Option(names = "--tag", paramLabel = "TAG", description = "A tag the agents enrolled with it get (repeatable)")
            java.util.List<String> tags = new ArrayList<>();

            @Option(names = "--expires", paramLabel = "RFC3339", description = "When it expires (default: the server's)")
            String expires;

            @Option(names = "--single-use", description = "Good for one enrollment only")
            boolean singleUse;

            @Option(names = "--agent-tags", description = "Agents enrolling with it may add tags of their own (their tags key);"
                    + " without it an agent asking for tags the token does not give is refused")
            boolean agentTags;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("tags", tags);
                if (expires != null) {
                    body.put("expires_at", expires);
                }
                body.put("single_use", singleUse);
                body.put("agent_tags", agentTags);
                JsonElement r = api.send("POST", "/api/v1/enrollment-tokens", new Gson().toJson(body));
                if (json()) {
                    out.println(PRETTY.toJson(r));
                } else {
                    JsonObject o = r.getAsJsonObject();
                    out.println(o.get("token").getAsString());
                    spec.commandLine().getErr().println("Enrollment token " + text(o.get("id")) + ", tags " + text(o.get("tags"))
                            + ", expires " + text(o.get("expires_at")) + ": shown once; put it in the agents' etc/io.sonde.uplink.cfg"
                            + " as enrollment_token");
                }
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "The tokens not expired or revoked")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/enrollment-tokens"), out, LIST_COLUMNS);
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true, description = "No agent enrolls with it any more")
        static final class Revoke extends ServerSub {
            @Parameters(paramLabel = "ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/enrollment-tokens/" + ServerApi.encode(id), null);
                out.println("Revoked enrollment token " + id);
            }
        }
    }
}
