package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;

/**
 * Notification channels against real local receivers: one HTTPS server of the test's own (its
 * certificate from a CA the server trusts through {@code alert_ca_file}) answering as Slack,
 * Microsoft Teams, Discord, PagerDuty, Opsgenie and Telegram do and refusing (400/401) any document
 * that lacks what their documentation requires; and a real SMTP server (aiosmtpd) that requires
 * STARTTLS and a login. A TCP target the test turns off and on, an agent probing it, a rule naming
 * every receiver: each is told it is down and then that it is back, PagerDuty and Opsgenie with one
 * key for both.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class NotificationChannelsIT {

    static final String SLACK_PATH = "/slack/services/T0SONDE/B0SONDE/slacksecret0123456789";
    static final String TEAMS_PATH = "/teams/workflows/teamssecret0123456789/triggers/manual/paths/invoke";
    static final String DISCORD_PATH = "/discord/api/webhooks/123456/discordsecret0123456789";
    static final String ROUTING_KEY = "R0SONDEpagerdutysecret0123456789";
    static final String GENIE_KEY = "0123abcd-0123-4567-89ab-opsgeniesecret";
    static final String BOT_TOKEN = "123456789:telegramsecretABCDEFGHIJKLMNOP";
    static final String CHAT = "-1001234567";
    static final String SMTP_PASSWORD = "smtp-secret-p4ss";
    static final List<String> SECRETS = List.of("slacksecret0123456789", "teamssecret0123456789", "discordsecret0123456789", ROUTING_KEY,
            GENIE_KEY, "telegramsecretABCDEFGHIJKLMNOP", SMTP_PASSWORD);

    private static ServerProcess server;
    private static AgentProcess agent;
    private static AlertingIT.Target target;
    private static Path dir;
    private static HttpsServer receivers;
    private static Process smtp;
    private static Path mails;
    /** What each provider took, by provider: the path and the document. */
    static final Map<String, List<JsonObject>> taken = new ConcurrentHashMap<>();
    /** While set, the Slack receiver answers 500, as Slack does in an outage. */
    static volatile boolean slackDown;
    /** What a provider refused, and why. */
    static final List<String> refused = new CopyOnWriteArrayList<>();

    @BeforeClass
    public static void start() throws Exception {
        dir = Files.createTempDirectory("sonde-receivers-");
        AgentProcess.output(0, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=receivers", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.resolve("key.pem").toString(), "-out",
                dir.resolve("cert.pem").toString());
        AgentProcess.output(0, "openssl", "pkcs12", "-export", "-in", dir.resolve("cert.pem").toString(), "-inkey",
                dir.resolve("key.pem").toString(), "-out", dir.resolve("r.p12").toString(), "-passout", "pass:changeit");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("r.p12"))) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        receivers = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        receivers.setHttpsConfigurator(new HttpsConfigurator(tls));
        receivers.createContext("/", NotificationChannelsIT::receive);
        receivers.start();

        boolean there = new ProcessBuilder("/usr/bin/python3", "-c", "import aiosmtpd").start().waitFor() == 0;
        assertTrue("aiosmtpd is not installed (Debian package python3-aiosmtpd; .ci/run installs it)", there);
        int smtpPort = AgentProcess.freePort();
        mails = dir.resolve("mails");
        Path script = dir.resolve("smtp_receiver.py");
        try (InputStream in = NotificationChannelsIT.class.getResourceAsStream("/smtp_receiver.py")) {
            Files.copy(in, script);
        }
        smtp = new ProcessBuilder("/usr/bin/python3", script.toString(), Integer.toString(smtpPort), dir.resolve("cert.pem").toString(),
                dir.resolve("key.pem").toString(), "sonde", SMTP_PASSWORD, mails.toString()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(smtp.getInputStream(), StandardCharsets.UTF_8));
        String first = out.readLine();
        assertEquals("the SMTP server's first line", "ready", first);

        server = ServerProcess.start("offline_after_s = 6\nalert_eval_s = 1\nbatch_interval_s = 0\nalert_ca_file = " + dir.resolve("cert.pem")
                + "\npublic_url = https://sonde.example.test/\n");
        target = new AlertingIT.Target();
        HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/web", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
                + target.port + ", \"interval_ms\": 500, \"timeout_ms\": 400, \"agents\": \"*\"}");
        assertEquals(put.body(), 201, put.statusCode());
        String token = server.enrollmentToken("{\"tags\": [\"edge\"]}");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = vantage-1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n")));
        await("the agent's first result for web", 60, () -> !server.results("vantage-1", "web").isEmpty());

        String base = "https://127.0.0.1:" + receivers.getAddress().getPort();
        define("ops-slack", "{\"type\": \"slack\", \"url\": \"" + base + SLACK_PATH + "\"}");
        define("ops-teams", "{\"type\": \"teams\", \"url\": \"" + base + TEAMS_PATH + "\"}");
        define("ops-discord", "{\"type\": \"discord\", \"url\": \"" + base + DISCORD_PATH + "\"}");
        define("ops-pagerduty", "{\"type\": \"pagerduty\", \"routing_key\": \"" + ROUTING_KEY + "\", \"url\": \"" + base + "/pagerduty/v2/enqueue\"}");
        define("ops-opsgenie", "{\"type\": \"opsgenie\", \"api_key\": \"" + GENIE_KEY + "\", \"url\": \"" + base + "/opsgenie\"}");
        define("ops-telegram", "{\"type\": \"telegram\", \"bot_token\": \"" + BOT_TOKEN + "\", \"chat_id\": " + CHAT + ", \"url\": \"" + base
                + "/telegram\"}");
        define("ops-mail", "{\"type\": \"email\", \"host\": \"127.0.0.1\", \"port\": " + smtpPort + ", \"tls\": \"starttls\", \"username\": \"sonde\","
                + " \"password\": \"" + SMTP_PASSWORD + "\", \"from\": \"Sonde <sonde@example.test>\", \"to\": [\"ops@example.test\", \"oncall@example.test\"],"
                + " \"title\": \"{{severity}}: {{target}} {{status}}\"}");
    }

    static void define(String name, String json) throws Exception {
        HttpResponse<String> r = server.admin("PUT", "/api/v1/receivers/" + name, json);
        assertEquals(r.body(), 201, r.statusCode());
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (target != null) {
            target.close();
        }
        if (receivers != null) {
            receivers.stop(0);
        }
        if (smtp != null) {
            smtp.getOutputStream().close(); // its standard input closed: it stops
            if (!smtp.waitFor(10, TimeUnit.SECONDS)) {
                smtp.destroyForcibly();
            }
        }
        if (dir != null) {
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    // ---- the receivers, each checking what its provider documents as required -------------------------------------------------

    static void receive(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getRawPath();
            String query = x.getRequestURI().getRawQuery();
            byte[] body = x.getRequestBody().readAllBytes();
            JsonObject doc;
            try {
                doc = JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
            } catch (RuntimeException e) {
                answer(x, 400, "{\"error\":\"not JSON\"}", path);
                return;
            }
            if (!"application/json".equals(x.getRequestHeaders().getFirst("Content-Type"))) {
                answer(x, 415, "{\"error\":\"not application/json\"}", path);
                return;
            }
            String problem;
            String provider;
            int status;
            String reply;
            if (path.equals(SLACK_PATH) && slackDown) {
                answer(x, 500, "{\"error\":\"service unavailable\"}", path);
                return;
            } else if (path.equals(SLACK_PATH)) {
                provider = "slack";
                problem = slack(doc);
                status = 200;
                reply = "ok";
            } else if (path.equals(TEAMS_PATH)) {
                provider = "teams";
                problem = teams(doc);
                status = 202;
                reply = "";
            } else if (path.equals(DISCORD_PATH)) {
                provider = "discord";
                problem = discord(doc);
                status = 204;
                reply = null;
            } else if (path.equals("/pagerduty/v2/enqueue")) {
                provider = "pagerduty";
                problem = pagerduty(doc);
                status = 202;
                reply = "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":" + doc.get("dedup_key") + "}";
            } else if (path.startsWith("/opsgenie/v2/alerts")) {
                provider = "opsgenie";
                if (!("GenieKey " + GENIE_KEY).equals(x.getRequestHeaders().getFirst("Authorization"))) {
                    answer(x, 401, "{\"message\":\"Could not authenticate\"}", path);
                    return;
                }
                problem = opsgenie(path, query, doc);
                status = 202;
                reply = "{\"result\":\"Request will be processed\",\"took\":0.01,\"requestId\":\"r-" + System.nanoTime() + "\"}";
                doc.addProperty("_path", java.net.URLDecoder.decode(path, StandardCharsets.UTF_8));
            } else if (path.startsWith("/telegram/bot")) {
                provider = "telegram";
                if (!path.equals("/telegram/bot" + BOT_TOKEN + "/sendMessage")) {
                    answer(x, 401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}", path);
                    return;
                }
                problem = telegram(doc);
                status = 200;
                reply = "{\"ok\":true,\"result\":{\"message_id\":" + (taken.getOrDefault("telegram", List.of()).size() + 1) + "}}";
            } else {
                answer(x, 404, "{\"error\":\"no such path\"}", path);
                return;
            }
            if (problem != null) {
                refused.add(provider + ": " + problem);
                answer(x, 400, "{\"error\":\"" + problem.replace("\"", "'") + "\"}", path);
                return;
            }
            taken.computeIfAbsent(provider, k -> new CopyOnWriteArrayList<>()).add(doc);
            answer(x, status, reply, path);
        }
    }

    static void answer(HttpExchange x, int status, String body, String path) throws IOException {
        if (status >= 400) {
            refused.add(path + " " + status + " " + body);
        }
        if (body == null) {
            x.sendResponseHeaders(status, -1);
            return;
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", body.startsWith("{") ? "application/json" : "text/plain");
        x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            x.getResponseBody().write(b);
        }
    }

    static boolean string(JsonObject o, String key, int max) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() && !e.getAsString().isEmpty() && e.getAsString().length() <= max;
    }

    /** Slack's incoming webhook: text, or blocks each with a type; a header's text plain_text of at most 150. */
    static String slack(JsonObject d) {
        if (!string(d, "text", 40000)) {
            return "text missing";
        }
        if (d.has("blocks")) {
            if (!d.get("blocks").isJsonArray() || d.getAsJsonArray("blocks").size() > 50) {
                return "blocks not an array of at most 50";
            }
            for (JsonElement b : d.getAsJsonArray("blocks")) {
                JsonObject o = b.getAsJsonObject();
                if (!string(o, "type", 50)) {
                    return "a block without type";
                }
                if (o.get("type").getAsString().equals("header") && (!o.getAsJsonObject("text").get("type").getAsString().equals("plain_text")
                        || !string(o.getAsJsonObject("text"), "text", 150))) {
                    return "a header's text is not plain_text of 1-150";
                }
                if (o.get("type").getAsString().equals("section") && !o.has("text") && !o.has("fields")) {
                    return "a section without text or fields";
                }
                if (o.has("fields") && o.getAsJsonArray("fields").size() > 10) {
                    return "more than 10 fields";
                }
            }
        }
        return null;
    }

    /** A Teams workflow: a message whose attachments hold an Adaptive Card with a body. */
    static String teams(JsonObject d) {
        if (!"message".equals(d.has("type") ? d.get("type").getAsString() : null) || !d.has("attachments") || d.getAsJsonArray("attachments").isEmpty()) {
            return "not a message with attachments";
        }
        JsonObject a = d.getAsJsonArray("attachments").get(0).getAsJsonObject();
        if (!"application/vnd.microsoft.card.adaptive".equals(a.get("contentType").getAsString())) {
            return "not an adaptive card";
        }
        JsonObject c = a.getAsJsonObject("content");
        if (!"AdaptiveCard".equals(c.get("type").getAsString()) || !string(c, "version", 10) || !c.has("body") || c.getAsJsonArray("body").isEmpty()) {
            return "the card lacks type, version or body";
        }
        return null;
    }

    /** Discord: content (at most 2000) or embeds (at most 10, title at most 256, color a number). */
    static String discord(JsonObject d) {
        if (!string(d, "content", 2000) && !d.has("embeds")) {
            return "neither content nor embeds";
        }
        if (d.has("embeds")) {
            JsonArray e = d.getAsJsonArray("embeds");
            if (e.size() > 10) {
                return "more than 10 embeds";
            }
            for (JsonElement x : e) {
                JsonObject o = x.getAsJsonObject();
                if (o.has("title") && !string(o, "title", 256) || o.has("color") && !o.get("color").getAsJsonPrimitive().isNumber()) {
                    return "an embed's title or color";
                }
                if (o.has("fields") && o.getAsJsonArray("fields").size() > 25) {
                    return "more than 25 fields";
                }
            }
        }
        return null;
    }

    /** PagerDuty Events v2: routing_key, event_action, dedup_key; a trigger's payload with summary, source and severity. */
    static String pagerduty(JsonObject d) {
        if (!ROUTING_KEY.equals(d.has("routing_key") ? d.get("routing_key").getAsString() : null)) {
            return "routing_key";
        }
        String action = d.has("event_action") ? d.get("event_action").getAsString() : "";
        if (!List.of("trigger", "acknowledge", "resolve").contains(action)) {
            return "event_action";
        }
        if (!string(d, "dedup_key", 255) && !action.equals("trigger")) {
            return "dedup_key is needed to " + action;
        }
        if (action.equals("trigger")) {
            JsonObject p = d.getAsJsonObject("payload");
            if (p == null || !string(p, "summary", 1024) || !string(p, "source", 255)
                    || !List.of("critical", "error", "warning", "info").contains(p.has("severity") ? p.get("severity").getAsString() : "")) {
                return "payload summary, source or severity";
            }
        }
        return null;
    }

    /** Opsgenie: a create with message (at most 130) and alias (at most 512); a close by alias. */
    static String opsgenie(String path, String query, JsonObject d) {
        if (path.equals("/opsgenie/v2/alerts")) {
            return string(d, "message", 130) && (!d.has("alias") || string(d, "alias", 512)) ? null : "message or alias";
        }
        if (path.endsWith("/close")) {
            return "identifierType=alias".equals(query) ? null : "a close by alias needs identifierType=alias";
        }
        return "not an alert's path";
    }

    /** Telegram's sendMessage: chat_id, text of 1-4096, a known parse_mode. */
    static String telegram(JsonObject d) {
        if (!d.has("chat_id") || !d.get("chat_id").getAsString().equals(CHAT)) {
            return "chat_id";
        }
        if (!string(d, "text", 4096)) {
            return "text";
        }
        return !d.has("parse_mode") || List.of("HTML", "MarkdownV2", "Markdown").contains(d.get("parse_mode").getAsString()) ? null : "parse_mode";
    }

    static List<MimeMessage> mails() throws Exception {
        List<MimeMessage> out = new ArrayList<>();
        if (!Files.isDirectory(mails)) {
            return out;
        }
        try (Stream<Path> s = Files.list(mails)) {
            for (Path p : s.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                JsonObject m = JsonParser.parseString(Files.readString(p)).getAsJsonObject();
                assertTrue("the mail came under TLS: " + m, m.get("tls").getAsBoolean());
                assertEquals("the mail came after the login", "sonde", m.get("login").getAsString());
                assertEquals("[\"ops@example.test\",\"oncall@example.test\"]", m.get("to").toString());
                out.add(new MimeMessage(Session.getInstance(new java.util.Properties()),
                        new java.io.ByteArrayInputStream(m.get("data").getAsString().getBytes(StandardCharsets.UTF_8))));
            }
        }
        return out;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void await(String what, int seconds, Check check) throws Exception {
        for (int i = 0; i < seconds * 10; i++) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " within " + seconds + " s; taken: " + taken.keySet() + ", refused: " + refused + "; alerts: "
                + server.admin("GET", "/api/v1/alerts", null).body() + "; notifications: " + server.admin("GET", "/api/v1/notifications", null).body());
    }

    static List<JsonObject> of(String provider) {
        return taken.getOrDefault(provider, List.of());
    }

    // ---- the tests ----------------------------------------------------------------------------------------------------------

    @Test
    public void a_receiversShowNoSecretAndBadOnesAreRefusedNamingTheKey() throws Exception {
        HttpResponse<String> list = server.admin("GET", "/api/v1/receivers", null);
        assertEquals(list.body(), 200, list.statusCode());
        for (String secret : SECRETS) {
            assertFalse("a secret shown: " + secret, list.body().contains(secret));
        }
        JsonArray items = server.json(list).getAsJsonArray("items");
        assertEquals(7, items.size());
        JsonObject pd = server.json(server.admin("GET", "/api/v1/receivers/ops-pagerduty", null));
        assertEquals("[\"routing_key\"]", pd.get("secrets_set").toString());
        assertNull(pd.get("routing_key"));
        assertEquals("[{{status}}] {{summary}}", pd.get("title").getAsString());
        // the document as shown, PUT back with another title: the key is kept (the next test pages through it)
        pd.addProperty("title", "[{{status}}] {{summary}} ({{severity}})");
        pd.remove("updated_at");
        HttpResponse<String> again = server.admin("PUT", "/api/v1/receivers/ops-pagerduty", pd.toString());
        assertEquals(again.body(), 200, again.statusCode());

        Map<String, String> bad = Map.of(
                "{\"type\": \"slack\", \"url\": \"https://127.0.0.1:1/x\", \"title\": \"{{target}} is {{mood}}\"}", "title: '{{mood}}' is not a field",
                "{\"type\": \"sms\"}", "type: 'sms' is not a receiver's type",
                "{\"type\": \"pagerduty\"}", "routing_key: missing",
                "{\"type\": \"email\", \"host\": \"127.0.0.1\", \"from\": \"sonde@example.test\", \"to\": [\"x@\"]}", "to[0]: 'x@' is not a mail address",
                "{\"type\": \"telegram\", \"bot_token\": \"" + BOT_TOKEN + "\", \"chat_id\": \"me\"}", "chat_id: 'me' is not a chat's id");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            HttpResponse<String> r = server.admin("PUT", "/api/v1/receivers/bad", e.getKey());
            assertEquals(e.getKey() + " -> " + r.body(), 400, r.statusCode());
            assertTrue(r.body() + " should say " + e.getValue(), server.json(r).get("error").getAsString().contains(e.getValue()));
        }
        HttpResponse<String> rule = server.admin("PUT", "/api/v1/alert-rules/nowhere", "{\"type\": \"target_down\", \"target\": \"web\","
                + " \"notify\": [{\"receiver\": \"ops-slack\"}, {\"receiver\": \"ops-pager\"}]}");
        assertEquals(rule.body(), 400, rule.statusCode());
        assertTrue(rule.body(), server.json(rule).get("error").getAsString().startsWith("notify[1].receiver: no receiver named 'ops-pager'"));
        assertEquals(404, server.admin("GET", "/api/v1/receivers/bad", null).statusCode());
    }

    @Test
    public void b_aDownTargetIsToldOnEveryChannelAndItsResolutionClosesItUnderTheSameKey() throws Exception {
        HttpResponse<String> rule = server.admin("PUT", "/api/v1/alert-rules/web-down", "{\"type\": \"target_down\", \"target\": \"web\","
                + " \"for\": \"2s\", \"recover_for\": \"2s\", \"window\": \"5s\", \"severity\": \"critical\", \"notify\": [{\"receiver\": \"ops-slack\"},"
                + " {\"receiver\": \"ops-teams\"}, {\"receiver\": \"ops-discord\"}, {\"receiver\": \"ops-pagerduty\"}, {\"receiver\": \"ops-opsgenie\"},"
                + " {\"receiver\": \"ops-telegram\"}, {\"receiver\": \"ops-mail\"}]}");
        assertEquals(rule.body(), 201, rule.statusCode());
        target.down();
        List<String> providers = List.of("slack", "teams", "discord", "pagerduty", "opsgenie", "telegram");
        await("every channel told of the firing", 60, () -> providers.stream().allMatch(p -> of(p).size() >= 1) && mails().size() >= 1);
        target.up();
        await("every channel told of the resolution", 60, () -> providers.stream().allMatch(p -> of(p).size() >= 2) && mails().size() >= 2);
        Thread.sleep(2000); // nothing more comes
        assertEquals("refused by a receiver: " + refused, List.of(), refused);
        for (String p : providers) {
            assertEquals(p + " got " + of(p), 2, of(p).size());
        }

        String down = "[firing] web is down from 1 of 1 vantage agents";
        JsonObject slack = of("slack").get(0);
        assertEquals(down, slack.get("text").getAsString());
        assertTrue(slack.toString(), slack.toString().contains("https://sonde.example.test/ui/#/target/web"));
        assertTrue(of("slack").get(1).get("text").getAsString(), of("slack").get(1).get("text").getAsString().startsWith("[resolved] web"));

        JsonObject card = of("teams").get(0).getAsJsonArray("attachments").get(0).getAsJsonObject().getAsJsonObject("content");
        assertEquals(down, card.getAsJsonArray("body").get(0).getAsJsonObject().get("text").getAsString());
        assertEquals("Attention", card.getAsJsonArray("body").get(0).getAsJsonObject().get("color").getAsString());

        assertEquals(down, of("discord").get(0).get("content").getAsString());

        JsonObject trigger = of("pagerduty").get(0);
        JsonObject resolve = of("pagerduty").get(1);
        assertEquals("trigger", trigger.get("event_action").getAsString());
        assertEquals("resolve", resolve.get("event_action").getAsString());
        assertEquals("sonde/web-down/web", trigger.get("dedup_key").getAsString());
        assertEquals(trigger.get("dedup_key"), resolve.get("dedup_key"));
        assertEquals(down + " (critical)", trigger.getAsJsonObject("payload").get("summary").getAsString());
        assertEquals("critical", trigger.getAsJsonObject("payload").get("severity").getAsString());

        JsonObject create = of("opsgenie").get(0);
        assertEquals("/opsgenie/v2/alerts", create.get("_path").getAsString());
        assertEquals("sonde/web-down/web", create.get("alias").getAsString());
        assertEquals("P1", create.get("priority").getAsString());
        assertEquals("/opsgenie/v2/alerts/sonde/web-down/web/close", of("opsgenie").get(1).get("_path").getAsString());

        assertTrue(of("telegram").get(0).get("text").getAsString(), of("telegram").get(0).get("text").getAsString().startsWith("<b>" + down + "</b>"));

        List<MimeMessage> m = mails();
        assertEquals(2, m.size());
        assertEquals("critical: web firing", m.get(0).getSubject());
        assertEquals("critical: web resolved", m.get(1).getSubject());
        assertEquals("Sonde <sonde@example.test>", m.get(0).getFrom()[0].toString());
        Multipart parts = (Multipart) m.get(0).getContent();
        assertTrue(parts.getContentType(), parts.getContentType().startsWith("multipart/alternative"));
        assertEquals(2, parts.getCount());
        String plain = (String) parts.getBodyPart(0).getContent();
        String html = (String) parts.getBodyPart(1).getContent();
        assertTrue(parts.getBodyPart(0).getContentType(), parts.getBodyPart(0).isMimeType("text/plain"));
        assertTrue(parts.getBodyPart(1).getContentType(), parts.getBodyPart(1).isMimeType("text/html"));
        assertTrue(plain, plain.contains("web is down from 1 of 1 vantage agents") && plain.contains("vantage-1")
                && plain.contains("https://sonde.example.test/ui/#/target/web"));
        assertTrue(html, html.contains("<a href=\"https://sonde.example.test/ui/#/target/web\">"));

        JsonArray sent = server.json(server.admin("GET", "/api/v1/notifications?limit=50", null)).getAsJsonArray("items");
        int ours = 0;
        for (JsonElement e : sent) {
            JsonObject n = e.getAsJsonObject();
            if (n.get("rule").getAsString().equals("web-down")) {
                ours++;
                assertEquals(n.toString(), "sent", n.get("state").getAsString());
                assertTrue(n.toString(), n.get("receiver").getAsString().startsWith("receiver 'ops-"));
            }
        }
        assertEquals("14 deliveries, each sent once", 14, ours);
        String metrics = server.get("/metrics").body();
        for (String p : List.of("slack", "teams", "discord", "pagerduty", "opsgenie", "telegram", "email")) {
            assertTrue(p + " in " + metrics, java.util.regex.Pattern.compile("sonde_server_notifications_total\\{receiver=\"" + p
                    + "\",outcome=\"sent\",?\\} 2\\.0").matcher(metrics).find());
        }
    }

    @Test
    public void bb_aReceiverThatFailsGetsItsMessagesInOrderOnceWhenItIsBack() throws Exception {
        int slack = of("slack").size();
        int pagerduty = of("pagerduty").size();
        int mailed = mails().size();
        slackDown = true;
        try {
            target.down();
            await("PagerDuty told of the firing", 60, () -> of("pagerduty").size() >= pagerduty + 1);
            target.up();
            await("PagerDuty told of the resolution", 60, () -> of("pagerduty").size() >= pagerduty + 2);
            JsonObject pending = null;
            for (JsonElement e : server.json(server.admin("GET", "/api/v1/notifications?limit=50", null)).getAsJsonArray("items")) {
                JsonObject n = e.getAsJsonObject();
                if (n.get("receiver").getAsString().equals("receiver 'ops-slack'") && n.get("state").getAsString().equals("pending")) {
                    pending = n;
                }
            }
            assertTrue("Slack's messages wait", pending != null);
            assertTrue(pending.toString(), pending.get("last_error").getAsString().startsWith("answered 500"));
            assertEquals("nothing taken while it fails", slack, of("slack").size());
        } finally {
            slackDown = false;
        }
        await("Slack gets both once back (and the mail both)", 60, () -> of("slack").size() >= slack + 2 && mails().size() >= mailed + 2);
        Thread.sleep(2000);
        assertEquals(slack + 2, of("slack").size());
        assertTrue(of("slack").get(slack).get("text").getAsString(), of("slack").get(slack).get("text").getAsString().startsWith("[firing] web"));
        assertTrue(of("slack").get(slack + 1).get("text").getAsString(), of("slack").get(slack + 1).get("text").getAsString().startsWith("[resolved] web"));
        refused.clear(); // the 500s were this test's
    }

    @Test
    public void bc_aMaintenanceWindowHoldsNotificationsBackUntilItCloses() throws Exception {
        // open now, every day, in a zone that is not the machine's: from an hour ago to an hour ahead there (past midnight too)
        java.time.ZoneId zone = java.time.ZoneId.of("Asia/Kolkata");
        java.time.format.DateTimeFormatter hhmm = java.time.format.DateTimeFormatter.ofPattern("HH:mm");
        java.time.LocalTime here = java.time.LocalTime.now(zone);
        String window = "{\"weekly\": [{\"days\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"], \"from\": \""
                + here.minusHours(1).format(hhmm) + "\", \"to\": \"" + here.plusHours(1).format(hhmm) + "\"}], \"time_zone\": \"Asia/Kolkata\","
                + " \"targets\": \"web\", \"rules\": \"web-*\", \"comment\": \"patching\"}";
        HttpResponse<String> put = server.admin("PUT", "/api/v1/maintenance/patching", window);
        assertEquals(put.body(), 201, put.statusCode());
        JsonArray forWeb = server.json(server.admin("GET", "/api/v1/maintenance?target=web", null)).getAsJsonArray("items");
        assertEquals(1, forWeb.size());
        assertTrue(forWeb.toString(), forWeb.get(0).getAsJsonObject().get("active").getAsBoolean());
        assertEquals(0, server.json(server.admin("GET", "/api/v1/maintenance?target=mail", null)).getAsJsonArray("items").size());
        HttpResponse<String> bad = server.admin("PUT", "/api/v1/maintenance/bad", "{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"9:00\","
                + " \"to\": \"10:00\"}]}");
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), server.json(bad).get("error").getAsString().startsWith("weekly[0].from: '9:00' is not a time of day (HH:MM)"));

        int slack = of("slack").size();
        int mailed = mails().size();
        target.down();
        await("the alert firing, held back by the window", 60, () -> {
            JsonObject a = alert("web-down");
            return a != null && a.get("state").getAsString().equals("firing");
        });
        JsonObject a = alert("web-down");
        assertEquals(a.toString(), "patching", a.get("maintenance").getAsString());
        assertTrue(a.toString(), a.get("silenced").getAsBoolean());
        Thread.sleep(4000); // several evaluations: nothing is sent while the window is open
        assertEquals("nothing sent during the window", slack, of("slack").size());
        assertEquals(204, server.admin("DELETE", "/api/v1/maintenance/patching", null).statusCode());
        await("the firing sent once the window is gone", 60, () -> of("slack").size() >= slack + 1);
        assertTrue(of("slack").get(slack).get("text").getAsString(), of("slack").get(slack).get("text").getAsString().startsWith("[firing] web"));
        target.up();
        await("the resolution, on Slack and by mail", 60, () -> of("slack").size() >= slack + 2 && mails().size() >= mailed + 2);
        assertTrue(of("slack").get(slack + 1).get("text").getAsString().startsWith("[resolved] web"));
    }

    static JsonObject alert(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("rule").getAsString().equals(rule)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }

    @Test
    public void c_aTestIsSentAtOnceAndAFailureSaysWhy() throws Exception {
        int before = of("slack").size();
        JsonObject r = server.json(server.admin("POST", "/api/v1/receivers/ops-slack/test", null));
        assertEquals(r.toString(), true, r.get("sent").getAsBoolean());
        assertEquals(of("slack").stream().map(o -> o.get("text").getAsString()).toList().toString(), before + 1, of("slack").size());
        assertTrue(of("slack").get(before).toString(), of("slack").get(before).get("text").getAsString()
                .startsWith("[test] A test of receiver ops-slack from Sonde"));

        int pd = of("pagerduty").size();
        r = server.json(server.admin("POST", "/api/v1/receivers/ops-pagerduty/test", null));
        assertEquals(r.toString(), true, r.get("sent").getAsBoolean());
        assertEquals("a test triggers and resolves at once", List.of("trigger", "resolve"),
                of("pagerduty").subList(pd, pd + 2).stream().map(o -> o.get("event_action").getAsString()).toList());

        int mailsBefore = mails().size();
        r = server.json(server.admin("POST", "/api/v1/receivers/ops-mail/test", null));
        assertEquals(r.toString(), true, r.get("sent").getAsBoolean());
        List<MimeMessage> m = mails();
        assertEquals(mailsBefore + 1, m.size());
        assertEquals("info: test test", m.get(m.size() - 1).getSubject());

        // a wrong SMTP password, an endpoint that refuses connections, a Telegram token the bot API does not know
        JsonObject mail = server.json(server.admin("GET", "/api/v1/receivers/ops-mail", null));
        mail.addProperty("password", "wrong");
        mail.remove("updated_at");
        mail.remove("name");
        HttpResponse<String> wrong = server.admin("PUT", "/api/v1/receivers/wrong-mail", mail.toString());
        assertEquals(wrong.body(), 201, wrong.statusCode());
        r = server.json(server.admin("POST", "/api/v1/receivers/wrong-mail/test", null));
        assertEquals(r.toString(), false, r.get("sent").getAsBoolean());
        assertTrue(r.toString(), r.get("error").getAsString().contains("535"));

        int closed = AgentProcess.freePort();
        define("gone", "{\"type\": \"slack\", \"url\": \"https://127.0.0.1:" + closed + "/services/x\"}");
        r = server.json(server.admin("POST", "/api/v1/receivers/gone/test", null));
        assertEquals(r.toString(), false, r.get("sent").getAsBoolean());
        assertTrue(r.toString(), r.get("error").getAsString().contains("ConnectException") || r.get("error").getAsString().contains("refused"));

        define("wrong-bot", "{\"type\": \"telegram\", \"bot_token\": \"987654321:notthebotABCDEFGHIJKLMNOPQRS\", \"chat_id\": " + CHAT + ", \"url\": \""
                + "https://127.0.0.1:" + receivers.getAddress().getPort() + "/telegram\"}");
        r = server.json(server.admin("POST", "/api/v1/receivers/wrong-bot/test", null));
        assertEquals(r.toString(), false, r.get("sent").getAsBoolean());
        assertTrue(r.toString(), r.get("error").getAsString().startsWith("answered 401"));
        refused.clear();
        assertEquals(404, server.admin("POST", "/api/v1/receivers/nobody/test", null).statusCode());
    }

    @Test
    public void d_aReceiverInUseIsNotDeletedOnlyAdminsReachThemAndNoSecretIsLogged() throws Exception {
        assertEquals(401, server.get("/api/v1/receivers").statusCode());
        String agentCredential = SecurityIT.enroll(server, "not-an-admin");
        assertEquals(403, server.request("GET", "/api/v1/receivers/ops-slack", agentCredential, null).statusCode());
        assertEquals(403, server.request("POST", "/api/v1/receivers/ops-slack/test", agentCredential, null).statusCode());
        HttpResponse<String> del = server.admin("DELETE", "/api/v1/receivers/ops-slack", null);
        assertEquals(del.body(), 409, del.statusCode());
        assertTrue(del.body(), server.json(del).get("error").getAsString().contains("named by the alert rules web-down"));
        assertEquals(204, server.admin("DELETE", "/api/v1/receivers/gone", null).statusCode());
        assertEquals(404, server.admin("GET", "/api/v1/receivers/gone", null).statusCode());
        String log = server.log();
        assertTrue(log, log.contains("Receiver 'ops-slack' defined: slack https://127.0.0.1:"));
        for (String secret : SECRETS) {
            assertFalse("a secret in the log: " + secret, log.contains(secret));
        }
    }
}
