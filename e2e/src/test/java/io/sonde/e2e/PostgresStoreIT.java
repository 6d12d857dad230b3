package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;

import org.junit.Test;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * The server on a real PostgreSQL: the database crashes while results flow, the server is killed
 * and started again while the database is still away, then the database comes back. The server
 * stays up throughout, says why it cannot store, reconnects by itself, and in the end every result
 * is stored once. A pg_dump taken while results flow, restored into a new database under a new
 * server, has every result acknowledged before the dump began, nothing torn.
 */
public class PostgresStoreIT {

    @Test
    public void aDatabaseThatGoesAwayLosesNothing() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String url = db.newDatabase();
            try (ServerProcess server = ServerProcess.start(ServerProcess.postgres(db, url));
                    AgentProcess agent = AgentProcess.start();
                    CountingListener listener = new CountingListener()) {
                assertTrue(server.log(), server.log().contains("declarative partitioning"));
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-pg\n");
                agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "batch_max_results = 500\n"));
                agent.awaitLogLine("Enrolled with");
                agent.write("etc/targets.json", UplinkIT.targetsFile(20, listener.port(), 100));
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-pg\ntargets_file = etc/targets.json\n");
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 300);

                // the database crashes: ingest answers 503, the agent spools, /healthz says why
                db.stopServer("immediate");
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") > 600);
                HttpResponse<String> health = server.get("/healthz");
                assertEquals(health.body(), 503, health.statusCode());
                assertTrue(health.body(), health.body().contains("\"store\":\"the store failed"));
                assertEquals("not ready, but alive: no reason to restart it", 200, server.get("/livez").statusCode());
                assertTrue("the server stays up", server.alive());

                // the server dies too, and starts while the database is still away
                server.kill();
                server.launchUnwaited();
                long deadline = System.nanoTime() + ServerProcess.PATIENCE.toNanos();
                while (!server.log().contains("cannot be used yet") && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertTrue(server.log(), server.log().contains("cannot be used yet"));
                assertTrue(server.alive());
                // an agent's document waits for the database too: 503 with Retry-After (the agent keeps the one it has)
                HttpResponse<String> doc = server.admin("GET", "/api/v1/agents/e2e-pg/config", null);
                assertEquals(doc.body(), 503, doc.statusCode());
                assertTrue(doc.headers().firstValue("Retry-After").isPresent());

                // the database comes back: the server finds it by itself and the backlog drains
                db.startServer();
                server.awaitHealthy();
                assertEquals("and is there once the database is back", 200, server.admin("GET", "/api/v1/agents/e2e-pg/config", null).statusCode());
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1);
                double ackedBeforeDump = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
                java.nio.file.Path dump = java.nio.file.Files.createTempFile("sonde-e2e", ".dump");
                db.dump(url.substring(url.lastIndexOf('/') + 1), dump);
                assertEquals(1, UplinkIT.stopAndCheckEverythingArrived(agent, server, "e2e-pg", 1000).size());

                String restored = db.restore(dump);
                java.nio.file.Files.delete(dump);
                try (ServerProcess other = ServerProcess.start(ServerProcess.postgres(db, restored))) {
                    java.util.List<com.google.gson.JsonObject> back = other.results("e2e-pg", null);
                    UplinkIT.assertIdentitiesContiguous(back);
                    assertTrue("acknowledged before the dump: " + ackedBeforeDump + ", restored: " + back.size(),
                            back.size() >= ackedBeforeDump);
                }
                assertTrue(server.log(), server.log().contains("Store: PostgreSQL 15"));
            }
        }
    }

    /**
     * The server is SIGKILLed in the middle of its first migration (blocked, with three tables
     * made, on a table name another session is making): the migration leaves nothing behind, and
     * the next start migrates the database whole.
     */
    @Test
    public void aMigrationCutShortByAKillIsDoneWholeNextTime() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String url = db.newDatabase();
            try (java.sql.Connection other = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, PostgresCluster.PASSWORD);
                    java.sql.Statement s = other.createStatement();
                    java.sql.Connection watch = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, PostgresCluster.PASSWORD);
                    java.sql.Statement w = watch.createStatement()) { // its own: one transaction sees one snapshot of pg_stat_activity
                other.setAutoCommit(false);
                s.execute("CREATE TABLE series (x INT)"); // not committed: the server's CREATE TABLE series waits for it
                try (ServerProcess server = ServerProcess.startUnwaited(ServerProcess.postgres(db, url))) {
                    long deadline = System.nanoTime() + ServerProcess.PATIENCE.toNanos();
                    boolean waiting = false;
                    while (!waiting && System.nanoTime() < deadline) {
                        try (java.sql.ResultSet rs = w.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                + " AND query LIKE 'CREATE TABLE series%'")) {
                            rs.next();
                            waiting = rs.getInt(1) > 0;
                        }
                        Thread.sleep(100);
                    }
                    assertTrue("the migration did not reach CREATE TABLE series", waiting);
                    server.kill();
                    other.rollback();
                    try (java.sql.ResultSet rs = w.executeQuery("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")) {
                        rs.next();
                        assertEquals("nothing of the cut migration stays", 0, rs.getInt(1));
                    }
                    server.launch();
                    try (java.sql.ResultSet rs = w.executeQuery("SELECT count(*), max(version) FROM schema_version")) {
                        rs.next();
                        assertEquals("every version once, from 1", rs.getInt(2), rs.getInt(1));
                        assertTrue(server.log(), server.log().contains("schema version " + rs.getInt(2)));
                    }
                }
            }
        }
    }

    /**
     * read_jdbc_url: the API's reads come from a real streaming standby — while its replay is paused the results the agent
     * keeps delivering to the primary are not in the API's answers, and appear once it resumes; a read_jdbc_url that is no
     * PostgreSQL URL is said, with the key, and the primary answers.
     */
    @Test
    public void theApisReadsComeFromTheStandbyThatReadJdbcUrlNames() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String url = db.newDatabase();
            try (PostgresCluster standby = db.standby()) {
                String standbyUrl = standby.url(url.substring(url.lastIndexOf('/') + 1));
                String store = ServerProcess.postgres(db, url);
                try (ServerProcess server = ServerProcess.start(store + "read_jdbc_url = " + standbyUrl + "\n");
                        AgentProcess agent = AgentProcess.start();
                        CountingListener listener = new CountingListener()) {
                    assertTrue(server.log(), server.log().contains("the API's read-only queries (series, results) go to the standby "
                            + standbyUrl));
                    agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-standby\n");
                    agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
                    agent.awaitLogLine("Enrolled with");
                    agent.write("etc/targets.json", UplinkIT.targetsFile(5, listener.port(), 200));
                    agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-standby\ntargets_file = etc/targets.json\n");
                    agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 50);

                    standby.pauseReplay(true);
                    int seen = server.results("e2e-standby", null).size();
                    double acked = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
                    agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > acked + 50);
                    assertEquals("the paused standby answers: nothing stored since it paused", seen,
                            server.results("e2e-standby", null).size());
                    standby.pauseReplay(false);
                    double now = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
                    int after = 0;
                    for (int i = 0; i < 300 && after < now; i++) {
                        after = server.results("e2e-standby", null).size();
                        Thread.sleep(100);
                    }
                    assertTrue(after + " results read, " + now + " acknowledged", after >= now && after > seen + 50);
                    String metrics = server.get("/metrics").body();
                    assertTrue(metrics, AgentProcess.value(metrics, "sonde_server_store_api_reads_total{database=\"standby\",} ") >= 3);
                    assertEquals(metrics, 0, AgentProcess.value(metrics, "sonde_server_store_api_reads_total{database=\"primary\",} "), 0);

                    // a read_jdbc_url that is no PostgreSQL URL: said with the key; the primary answers
                    java.nio.file.Path cfg = server.home.resolve("etc/io.sonde.server.cfg");
                    java.nio.file.Files.writeString(cfg, java.nio.file.Files.readString(cfg).replace("read_jdbc_url = " + standbyUrl,
                            "read_jdbc_url = mysql://127.0.0.1/sonde"));
                    server.awaitLogLine("key 'read_jdbc_url'", "'mysql://127.0.0.1/sonde' is not a PostgreSQL JDBC URL",
                            "the primary answers the read-only queries");
                    standby.pauseReplay(true);
                    double acked2 = AgentProcess.value(agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > now + 20),
                            "sonde_uplink_acked_total ");
                    int read = -1;
                    for (int i = 0; i < 100 && read < 0; i++) { // the store is opened anew on the changed keys: a moment without
                        try {
                            read = server.results("e2e-standby", null).size();
                        } catch (AssertionError e) {
                            Thread.sleep(100);
                        }
                    }
                    assertTrue("the primary answers: " + read + " of " + acked2, read >= acked2);
                    String last = server.get("/metrics").body();
                    assertTrue(last, AgentProcess.value(last, "sonde_server_store_api_reads_total{database=\"primary\",} ") >= 1);
                }
            }
        }
    }
}
