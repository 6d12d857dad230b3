package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import org.junit.Test;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * Two server instances over one PostgreSQL database, an agent that lists both: each instance is
 * SIGKILLed in turn while results flow, and the agent goes on with the other. In the end the
 * stored sequence is whole and nothing is stored twice, whichever instance took which batch (a
 * batch cut off by a kill is sent again, to the other instance). One instance leads (runs the
 * retention job); when it dies, the other takes the lead within a minute.
 */
public class MultiInstanceIT {

    @Test
    public void anAgentFailsOverBetweenInstancesAndEveryResultIsStoredOnce() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String store = ServerProcess.postgres(db, db.newDatabase());
            try (ServerProcess a = ServerProcess.start(store);
                    ServerProcess b = ServerProcess.startBeside(a, store);
                    AgentProcess agent = AgentProcess.start();
                    CountingListener listener = new CountingListener()) {
                assertEquals("one CA for both", a.fingerprint(), b.fingerprint());
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-multi\n");
                String uplink = a.uplinkConfig(a.enrollmentToken("{}"), "batch_max_results = 200\n")
                        .replace("server_url = " + a.url(), "server_url = " + a.url() + ", " + b.url());
                agent.write("etc/io.sonde.uplink.cfg", uplink);
                agent.awaitLogLine("Enrolled with");
                agent.write("etc/targets.json", UplinkIT.targetsFile(20, listener.port(), 100));
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-multi\ntargets_file = etc/targets.json\n");
                double acked = waitAcked(agent, 300);

                awaitLeader(a, b);
                a.kill(); // the instance in use dies: the agent goes on with b, which leads within a minute
                acked = waitAcked(agent, acked + 600);
                awaitLeader(b);
                assertTrue(agent.log(), agent.log().contains("Uplink to " + a.url()));
                assertTrue("b took batches", b.get("/metrics").body().matches("(?s).*sonde_server_ingested_results_total [1-9].*"));

                a.launch();
                b.kill(); // and now the other one
                waitAcked(agent, acked + 600);
                awaitLeader(a);

                a.awaitHealthy();
                assertEquals(1, UplinkIT.stopAndCheckEverythingArrived(agent, a, "e2e-multi", 1500).size());
            }
        }
    }

    /**
     * Each instance keeps an agent's credential check (no store look-up per request), yet a
     * credential revoked or reset through one instance stops working on the other as soon as the
     * database tells it (PostgreSQL's NOTIFY at the commit): the other instance's next requests are
     * refused, not those of some later time.
     */
    @Test
    public void aCredentialEndedThroughOneInstanceEndsOnTheOther() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String store = ServerProcess.postgres(db, db.newDatabase());
            try (ServerProcess a = ServerProcess.start(store);
                    ServerProcess b = ServerProcess.startBeside(a, store)) {
                String token = a.enrollmentToken("{}");
                String revoked = AttackIT.credential(AttackIT.enrollOn(a, token, "mi-revoked"));
                String reset = AttackIT.credential(AttackIT.enrollOn(a, token, "mi-reset"));
                // the instances' listeners are up once a check is kept: statuses until one is, on each
                for (ServerProcess s : List.of(a, b)) {
                    for (String[] c : List.of(new String[] {revoked, "mi-revoked"}, new String[] {reset, "mi-reset"})) {
                        NewKindIT.await("a kept check on " + s.url(), 30, () -> {
                            double kept = kept(s);
                            assertEquals(204, status(s, c[0], c[1]));
                            return kept(s) > kept;
                        });
                    }
                }
                assertEquals(204, b.admin("DELETE", "/api/v1/agents/mi-revoked", null).statusCode());
                assertEquals("on the instance that revoked it, at once", 401, status(b, revoked, "mi-revoked"));
                int served = awaitRefused(a, revoked, "mi-revoked");
                System.out.println("requests the other instance served after the revocation: " + served);
                assertEquals("the other agent's kept check stays", 204, status(a, reset, "mi-reset"));

                HttpResponse<String> r = a.admin("POST", "/api/v1/agents/mi-reset/reset", "{}");
                assertEquals(r.body(), 200, r.statusCode());
                assertEquals(401, status(a, reset, "mi-reset"));
                awaitRefused(b, reset, "mi-reset");
            }
        }
    }

    private static double kept(ServerProcess s) throws Exception {
        double v = AgentProcess.value(s.get("/metrics").body(), "sonde_server_agent_credential_checks_total{by=\"kept\",} ");
        return Double.isNaN(v) ? 0 : v;
    }

    private static int status(ServerProcess s, String credential, String agent) throws Exception {
        return s.post("/api/v1/agents/" + agent + "/status", credential, "{\"schema\":1,\"version\":\"e2e\",\"spool_records\":0}"
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json").statusCode();
    }

    /** @return how many requests {@code s} still served with the credential before it refused it (waits up to 30 s) */
    private static int awaitRefused(ServerProcess s, String credential, String agent) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        int served = 0;
        while (System.nanoTime() < deadline) {
            int code = status(s, credential, agent);
            if (code == 401) {
                return served;
            }
            assertEquals(204, code);
            served++;
            Thread.sleep(10);
        }
        throw new AssertionError(s.url() + " still takes the ended credential of " + agent + " after 30 s (" + served + " requests)");
    }

    /**
     * Two instances evaluate nothing twice: only the leader evaluates the alert rules and sends, so
     * a target that goes down is told once; the leader is SIGKILLed the moment its firing
     * notification arrives, and the other instance, taking the lead, carries the alert on from the
     * store and sends its resolution, once. A delivery the dead leader had not marked sent is sent
     * again with the same id (at least once; once for a receiver that drops duplicates by id).
     */
    @Test
    public void eachAlertIsSentOnceAndTheNextLeaderCarriesItOn() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String store = ServerProcess.postgres(db, db.newDatabase()) + "alert_eval_s = 1\n";
            try (ServerProcess a = ServerProcess.start(store);
                    ServerProcess b = ServerProcess.startBeside(a, store);
                    AlertingIT.Target target = new AlertingIT.Target();
                    AlertingIT.Webhook webhook = new AlertingIT.Webhook(
                            Files.readString(a.home.resolve("data/alerts/webhook.key")).strip().getBytes(StandardCharsets.UTF_8));
                    AgentProcess agent = AgentProcess.start()) {
                assertEquals(201, a.admin("PUT", "/api/v1/targets/web", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
                        + target.port + ", \"interval_ms\": 500, \"timeout_ms\": 400, \"agents\": \"*\"}").statusCode());
                assertEquals(201, b.admin("PUT", "/api/v1/alert-rules/web-down", "{\"type\": \"target_down\", \"target\": \"web\","
                        + " \"for\": \"2s\", \"recover_for\": \"2s\", \"window\": \"3s\", \"notify\": [{\"webhook\": \"" + webhook.url() + "\"}]}")
                        .statusCode());
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-alerts\n");
                agent.write("etc/io.sonde.uplink.cfg", a.uplinkConfig(a.enrollmentToken("{}"), "config_poll_s = 1\n")
                        .replace("server_url = " + a.url(), "server_url = " + a.url() + ", " + b.url()));
                for (int i = 0; i < 600 && a.results("e2e-alerts", "web").isEmpty(); i++) {
                    Thread.sleep(100);
                }
                awaitAlertLeader(a, b);
                ServerProcess leader = a.get("/metrics").body().contains("sonde_server_alert_leader 1.0") ? a : b;
                ServerProcess other = leader == a ? b : a;
                target.down();
                awaitDeliveries(webhook, List.of("firing web"));
                leader.kill();
                awaitAlertLeader(other);
                target.up();
                for (int i = 0; i < 900 && !webhook.of("web-down").contains("resolved web"); i++) {
                    Thread.sleep(100);
                }
                Thread.sleep(4000);
                // the leader is killed the moment the firing arrives: it may not have marked it sent, and
                // then the next leader sends it again under the same X-Sonde-Delivery, which a receiver drops
                assertEquals("once each, from whichever led; deliveries " + webhook.deliveries + "\n" + alertLines(a) + alertLines(b),
                        List.of("firing web", "resolved web"), webhook.distinct("web-down"));
                assertTrue("a notification made twice: " + webhook.deliveries, webhook.of("web-down").size() <= 3);
                assertEquals(List.of(), webhook.refused);
            }
        }
    }

    private static String alertLines(ServerProcess s) throws java.io.IOException {
        StringBuilder out = new StringBuilder();
        for (String line : s.log().split("\n")) {
            if (line.contains("Alerts:")) {
                out.append(s.url()).append(' ').append(line).append('\n');
            }
        }
        return out.toString();
    }

    private static void awaitDeliveries(AlertingIT.Webhook webhook, List<String> expected) throws InterruptedException {
        for (int i = 0; i < 900 && !webhook.distinct("web-down").equals(expected); i++) {
            Thread.sleep(100);
        }
        assertEquals(expected, webhook.distinct("web-down"));
    }

    /** Waits (a minute at most) until one of the servers evaluates the alert rules; fails if two do. */
    private static void awaitAlertLeader(ServerProcess... servers) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            int leading = 0;
            for (ServerProcess s : servers) {
                if (s.get("/metrics").body().contains("sonde_server_alert_leader 1.0")) {
                    leading++;
                }
            }
            assertTrue("two servers evaluate the alert rules", leading <= 1);
            if (leading == 1) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no server evaluated the alert rules within a minute");
    }

    /** Waits (a minute at most) until one of the servers says it leads; fails if two do. */
    static void awaitLeader(ServerProcess... servers) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            int leading = 0;
            for (ServerProcess s : servers) {
                if (s.get("/metrics").body().contains("sonde_server_store_leader 1.0")) {
                    leading++;
                }
            }
            assertTrue("two servers lead", leading <= 1);
            if (leading == 1) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no server took the lead within a minute");
    }

    private static double waitAcked(AgentProcess agent, double atLeast) throws Exception {
        String m = agent.awaitMetrics(text -> AgentProcess.value(text, "sonde_uplink_acked_total ") > atLeast);
        return AgentProcess.value(m, "sonde_uplink_acked_total ");
    }
}
