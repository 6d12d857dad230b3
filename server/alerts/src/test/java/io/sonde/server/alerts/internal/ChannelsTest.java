package io.sonde.server.alerts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

/**
 * The channels' documents as each provider documents them, the templates, and a receiver's secrets.
 * What a channel sends is recorded here; the end-to-end test (NotificationChannelsIT) sends to real
 * local receivers and a real SMTP server.
 */
public class ChannelsTest {

    /** One request a channel made. */
    record Sent(URI uri, JsonObject body, List<String> headers) {
    }

    /** Records what is posted and answers with {@link #status} and {@link #answer}. */
    static final class Recorder implements Channel.Transport {
        final List<Sent> sent = new ArrayList<>();
        int status = 202;
        String answer = "{}";

        @Override
        public HttpResponse<String> post(URI uri, String contentType, byte[] body, String... headers) {
            sent.add(new Sent(uri, JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject(), List.of(headers)));
            int s = status;
            String a = answer;
            return new HttpResponse<>() {
                public int statusCode() {
                    return s;
                }

                public HttpRequest request() {
                    return null;
                }

                public Optional<HttpResponse<String>> previousResponse() {
                    return Optional.empty();
                }

                public HttpHeaders headers() {
                    return HttpHeaders.of(Map.of(), (x, y) -> true);
                }

                public String body() {
                    return a;
                }

                public Optional<SSLSession> sslSession() {
                    return Optional.empty();
                }

                public URI uri() {
                    return uri;
                }

                public HttpClient.Version version() {
                    return HttpClient.Version.HTTP_1_1;
                }
            };
        }

        @Override
        public SSLContext tls() {
            return null;
        }

        @Override
        public String signature(long timestamp, byte[] body) {
            return Notifier.sign("0123456789abcdef".getBytes(StandardCharsets.UTF_8), timestamp, body);
        }
    }

    static final String FIRING = "{\"version\":1,\"status\":\"firing\",\"repeat\":false,\"rule\":\"web-loss\",\"type\":\"loss\",\"severity\":\"critical\","
            + "\"target\":\"web & <shop>\",\"value\":12.5,\"threshold\":5.0,\"unit\":\"%\",\"summary\":\"web loses 12.5 % of its packets\","
            + "\"detail\":\"edge-1: 12.5 %; edge-2: 0 %\",\"starts_at\":\"2026-12-06T10:00:00Z\",\"ends_at\":null,\"fired_at\":\"2026-12-06T10:00:00Z\"}";
    static final String RESOLVED = "{\"version\":1,\"status\":\"resolved\",\"repeat\":false,\"rule\":\"web-loss\",\"type\":\"loss\",\"severity\":\"critical\","
            + "\"target\":\"web & <shop>\",\"value\":0.0,\"threshold\":5.0,\"unit\":\"%\",\"summary\":\"web loses 0.0 % of its packets\","
            + "\"detail\":\"edge-1: 0 %\",\"starts_at\":null,\"ends_at\":\"2026-12-06T10:05:00Z\",\"fired_at\":\"2026-12-06T10:00:00Z\"}";

    static NamedReceiver receiver(String json) throws WireException {
        return NamedReceiver.parse("r", JsonParser.parseString(json).getAsJsonObject(), null);
    }

    static void refused(String json, String says) {
        try {
            receiver(json);
            fail("took " + json);
        } catch (WireException e) {
            assertTrue(e.getMessage() + " should say " + says, e.getMessage().contains(says));
        }
    }

    static Recorder send(NamedReceiver r, String payload) throws Exception {
        Recorder t = new Recorder();
        Message m = Message.of(payload, "https://sonde.example.test/", 7);
        r.channel().send(r.config(), m, r.title().render(m.fields()), r.text().render(m.fields()), t);
        return t;
    }

    @Test
    public void aTargetsLabelsAreFieldsOfTemplatesAndAlertmanagerLabels() throws Exception {
        com.google.gson.JsonObject p = JsonParser.parseString(FIRING).getAsJsonObject();
        com.google.gson.JsonObject labels = new com.google.gson.JsonObject();
        labels.addProperty("site", "fra");
        labels.addProperty("team", "db");
        labels.addProperty("severity", "mine"); // Sonde's own wins in Alertmanager
        p.add("labels", labels);
        Message m = Message.of(p.toString(), "", 1);
        assertEquals("db at fra (severity=mine, site=fra, team=db); none: []",
                Template.parse("text", "{{labels.team}} at {{labels.site}} ({{labels}}); none: [{{labels.rack}}]").render(m.fields()));
        refused("{\"type\":\"slack\",\"url\":\"https://hooks.example.test/x\",\"title\":\"{{labels.a-b}}\"}", "title: '{{labels.a-b}}' is not a field");
        com.google.gson.JsonObject am = AlertmanagerChannel.alerts(p).get(0).getAsJsonObject().getAsJsonObject("labels");
        assertEquals("fra", am.get("site").getAsString());
        assertEquals("db", am.get("team").getAsString());
        assertEquals("critical", am.get("severity").getAsString());
        assertEquals("web-loss", am.get("alertname").getAsString());
    }

    @Test
    public void aTemplateNamesOnlyFieldsAndABadOneIsRefusedNamingIt() throws Exception {
        Template t = Template.parse("title", "{{severity}}: {{ target }} is {{status}} {{{{}}literal}}");
        Message m = Message.of(FIRING, "", 1);
        assertEquals("critical: web & <shop> is firing {{literal}}", t.render(m.fields()));
        refused("{\"type\":\"slack\",\"url\":\"https://hooks.example.test/x\",\"title\":\"{{nope}} down\"}", "title: '{{nope}}' is not a field");
        refused("{\"type\":\"slack\",\"url\":\"https://hooks.example.test/x\",\"text\":\"a {{summary\"}", "text: '{{' at character 3 is not closed");
        refused("{\"type\":\"carrier-pigeon\"}", "type: 'carrier-pigeon' is not a receiver's type (slack, teams, discord, pagerduty");
        refused("{\"type\":\"slack\",\"url\":\"https://hooks.example.test/x\",\"channel\":\"#ops\"}", "channel: not a key of a slack receiver");
        refused("{\"type\":\"slack\",\"url\":\"ftp://hooks.example.test/x\"}", "url: not an http(s) URL");
        refused("{\"type\":\"pagerduty\",\"routing_key\":\"short\"}", "routing_key: not an Events API v2 integration key");
        refused("{\"type\":\"telegram\",\"bot_token\":\"123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ\",\"chat_id\":\"me\"}", "chat_id: 'me' is not a chat's id");
        refused("{\"type\":\"email\",\"host\":\"127.0.0.1\",\"from\":\"sonde@example.test\",\"to\":[\"ops@example.test\",\"not an address\"]}",
                "to[1]: 'not an address' is not a mail address");
        refused("{\"type\":\"email\",\"host\":\"127.0.0.1\",\"tls\":\"ssl3\",\"from\":\"a@example.test\",\"to\":\"b@example.test\"}",
                "tls: 'ssl3' is not starttls, tls or none");
        refused("{\"type\":\"email\",\"host\":\"127.0.0.1\",\"password\":\"p\",\"from\":\"a@example.test\",\"to\":\"b@example.test\"}",
                "password: given without a username");
        refused("{\"type\":\"email\",\"host\":\"127.0.0.1\",\"tls\":\"none\",\"username\":\"u\",\"password\":\"p\",\"from\":\"a@example.test\","
                + "\"to\":\"b@example.test\"}", "username: a login is never sent over a connection without TLS");
    }

    @Test
    public void secretsAreNeverShownAndAreKeptWhenAnUpdateLeavesThemOut() throws Exception {
        String key = "R0123456789abcdef0123456789abcdef";
        NamedReceiver r = receiver("{\"type\":\"pagerduty\",\"routing_key\":\"" + key + "\"}");
        JsonObject shown = r.shown();
        assertFalse(shown.toString(), shown.toString().contains(key));
        assertEquals("[\"routing_key\"]", shown.get("secrets_set").toString());
        assertEquals(PagerDutyChannel.URL, shown.get("url").getAsString());
        // the document as GET shows it, PUT back with another title: the key is kept
        JsonObject back = shown.deepCopy();
        back.addProperty("title", "{{summary}}");
        NamedReceiver again = NamedReceiver.parse("r", back, r.config());
        assertEquals(key, again.config().get("routing_key").getAsString());
        assertEquals("{{summary}}", again.title().source());
        // another type does not inherit the secret
        try {
            NamedReceiver.parse("r", JsonParser.parseString("{\"type\":\"opsgenie\"}").getAsJsonObject(), r.config());
            fail("an opsgenie receiver without its key");
        } catch (WireException e) {
            assertEquals("api_key: missing", e.getMessage());
        }
        assertTrue(r.where(), r.where().equals("receiver 'r' (pagerduty https://events.pagerduty.com)"));
    }

    @Test
    public void pagerDutyTriggersAndResolvesWithOneDedupKeyAndATestResolvesAtOnce() throws Exception {
        NamedReceiver r = receiver("{\"type\":\"pagerduty\",\"routing_key\":\"R0123456789abcdef0123456789abcdef\","
                + "\"url\":\"https://127.0.0.1:9/v2/enqueue\"}");
        Sent trigger = send(r, FIRING).sent.get(0);
        assertEquals("https://127.0.0.1:9/v2/enqueue", trigger.uri().toString());
        assertEquals("trigger", trigger.body().get("event_action").getAsString());
        assertEquals("sonde/web-loss/web & <shop>", trigger.body().get("dedup_key").getAsString());
        JsonObject p = trigger.body().getAsJsonObject("payload");
        assertEquals("[firing] web loses 12.5 % of its packets", p.get("summary").getAsString());
        assertEquals("critical", p.get("severity").getAsString());
        assertEquals("web & <shop>", p.get("source").getAsString());
        assertEquals("2026-12-06T10:00:00Z", p.get("timestamp").getAsString());
        assertEquals("12.5 % (threshold 5 %)", p.getAsJsonObject("custom_details").get("value").getAsString());
        assertEquals("https://sonde.example.test/ui/#/target/web%20%26%20%3Cshop%3E",
                trigger.body().getAsJsonArray("links").get(0).getAsJsonObject().get("href").getAsString());
        List<Sent> resolve = send(r, RESOLVED).sent;
        assertEquals(1, resolve.size());
        assertEquals("resolve", resolve.get(0).body().get("event_action").getAsString());
        assertEquals(trigger.body().get("dedup_key"), resolve.get(0).body().get("dedup_key"));
        assertNull("a resolve carries no payload", resolve.get(0).body().get("payload"));
        List<Sent> test = send(r, Message.test("r", Instant.parse("2026-12-06T11:00:00Z"))).sent;
        assertEquals(List.of("trigger", "resolve"), test.stream().map(s -> s.body().get("event_action").getAsString()).toList());
        assertEquals(test.get(0).body().get("dedup_key"), test.get(1).body().get("dedup_key"));
        assertTrue(test.get(0).body().get("dedup_key").getAsString().startsWith("sonde/test/"));
    }

    @Test
    public void opsgenieCreatesAndClosesByAliasWithItsKey() throws Exception {
        NamedReceiver r = receiver("{\"type\":\"opsgenie\",\"api_key\":\"0123abcd-0123-4567-89ab-0123456789ab\",\"url\":\"https://127.0.0.1:9/\"}");
        Sent create = send(r, FIRING).sent.get(0);
        assertEquals("https://127.0.0.1:9/v2/alerts", create.uri().toString());
        assertEquals(List.of("Authorization", "GenieKey 0123abcd-0123-4567-89ab-0123456789ab"), create.headers());
        assertEquals("sonde/web-loss/web & <shop>", create.body().get("alias").getAsString());
        assertEquals("P1", create.body().get("priority").getAsString());
        assertTrue(create.body().get("message").getAsString().length() <= 130);
        Sent close = send(r, RESOLVED).sent.get(0);
        assertEquals("https://127.0.0.1:9/v2/alerts/sonde%2Fweb-loss%2Fweb%20%26%20%3Cshop%3E/close?identifierType=alias", close.uri().toString());
        assertEquals("Sonde", close.body().get("source").getAsString());
    }

    @Test
    public void slackTeamsDiscordAndTelegramSayItInTheirOwnForm() throws Exception {
        Sent slack = send(receiver("{\"type\":\"slack\",\"url\":\"https://127.0.0.1:9/services/T/B/x\",\"title\":\"{{severity}}: {{target}}\"}"), FIRING)
                .sent.get(0);
        assertEquals("critical: web & <shop>", slack.body().get("text").getAsString());
        var blocks = slack.body().getAsJsonArray("blocks");
        assertEquals("header", blocks.get(0).getAsJsonObject().get("type").getAsString());
        assertEquals("critical: web & <shop>", blocks.get(0).getAsJsonObject().getAsJsonObject("text").get("text").getAsString());
        assertTrue(blocks.get(1).toString(), blocks.get(1).getAsJsonObject().getAsJsonObject("text").get("text").getAsString()
                .startsWith("web loses 12.5 % of its packets\nRule web-loss (loss), severity critical, since 2026-12-06T10:00:00Z\nedge-1"));
        assertTrue("mrkdwn escapes & < >: " + blocks.get(2), blocks.get(2).toString().contains("web &amp; &lt;shop&gt;"));
        assertEquals("https://sonde.example.test/ui/#/target/web%20%26%20%3Cshop%3E",
                blocks.get(3).getAsJsonObject().getAsJsonArray("elements").get(0).getAsJsonObject().get("url").getAsString());

        JsonObject teams = send(receiver("{\"type\":\"teams\",\"url\":\"https://127.0.0.1:9/workflows/x\"}"), RESOLVED).sent.get(0).body();
        assertEquals("message", teams.get("type").getAsString());
        JsonObject card = teams.getAsJsonArray("attachments").get(0).getAsJsonObject().getAsJsonObject("content");
        assertEquals("AdaptiveCard", card.get("type").getAsString());
        assertEquals("[resolved] web loses 0.0 % of its packets", card.getAsJsonArray("body").get(0).getAsJsonObject().get("text").getAsString());
        assertEquals("Good", card.getAsJsonArray("body").get(0).getAsJsonObject().get("color").getAsString());

        JsonObject discord = send(receiver("{\"type\":\"discord\",\"url\":\"https://127.0.0.1:9/api/webhooks/1/x\"}"), FIRING).sent.get(0).body();
        JsonObject embed = discord.getAsJsonArray("embeds").get(0).getAsJsonObject();
        assertEquals(DiscordChannel.RED, embed.get("color").getAsInt());
        assertEquals("[]", discord.getAsJsonObject("allowed_mentions").get("parse").toString());

        Recorder t = new Recorder();
        t.status = 200;
        t.answer = "{\"ok\":true,\"result\":{}}";
        NamedReceiver tg = receiver("{\"type\":\"telegram\",\"bot_token\":\"123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ\",\"chat_id\":-1001234,"
                + "\"url\":\"https://127.0.0.1:9\"}");
        Message m = Message.of(FIRING, "", 1);
        tg.channel().send(tg.config(), m, tg.title().render(m.fields()), tg.text().render(m.fields()), t);
        assertEquals("https://127.0.0.1:9/bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ/sendMessage", t.sent.get(0).uri().toString());
        assertEquals(-1001234L, t.sent.get(0).body().get("chat_id").getAsLong());
        assertTrue(t.sent.get(0).body().get("text").getAsString(), t.sent.get(0).body().get("text").getAsString()
                .startsWith("<b>[firing] web loses 12.5 % of its packets</b>\nweb loses"));
        assertEquals("telegram https://127.0.0.1:9", tg.channel().where(tg.config()));
        t.answer = "{\"ok\":false,\"description\":\"Bad Request: chat not found\"}";
        try {
            tg.channel().send(tg.config(), m, "t", "x", t);
            fail("ok: false taken as delivered");
        } catch (IOException e) {
            assertEquals("answered ok: false", e.getMessage());
        }
    }

    @Test
    public void aBadPublicUrlOrCaFileLeavesAlertingUp() throws Exception {
        assertEquals("https://sonde.example.test", AlertService.publicUrl(" https://sonde.example.test "));
        assertEquals("no links rather than no alerts", "", AlertService.publicUrl("sonde.example.test"));
        assertEquals("", AlertService.publicUrl("https://"));
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sonde-ca-");
        try {
            java.nio.file.Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
            assertTrue(AlertService.tls(dir, "empty.pem") != null);
            assertTrue(AlertService.tls(dir, "missing.pem") != null);
            try {
                Notifier.tls(dir.resolve("empty.pem"));
                fail("a CA file without a certificate taken");
            } catch (IOException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("empty.pem"));
            }
        } finally {
            java.nio.file.Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    public void telegramCutsNeverInsideAnEntity() {
        String escaped = ChannelKeys.html("a".repeat(4090) + "&&&&&&&&&&");
        String cut = TelegramChannel.cut(escaped, 4096);
        assertTrue(cut.length() <= 4096);
        assertTrue(cut, cut.endsWith("&amp;…") || cut.endsWith("a…"));
    }

    @Test
    public void aFailedAnswerSaysItsStatusAndBody() throws Exception {
        Recorder t = new Recorder();
        t.status = 404;
        t.answer = "no_service";
        NamedReceiver r = receiver("{\"type\":\"slack\",\"url\":\"https://127.0.0.1:9/services/T/B/x\"}");
        Message m = Message.of(FIRING, "", 1);
        try {
            r.channel().send(r.config(), m, "t", "x", t);
            fail("a 404 taken as delivered");
        } catch (IOException e) {
            assertEquals("answered 404: no_service", e.getMessage());
        }
        assertEquals("", m.get("link"));
        assertEquals("slack https://127.0.0.1:9", r.channel().where(r.config()));
    }
}
