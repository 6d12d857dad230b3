package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * Three server instances over one PostgreSQL behind a real HAProxy, agents that know only the
 * load balancer's address. Under the agents' load the instance that took the most is SIGKILLed,
 * then (the first back) the leader is: the agents go on through the others, the lead moves within
 * a minute, and in the end, per agent, what its target counted is what the server stored — each
 * result once, none missing but the probes in flight when the targets were taken away.
 */
public class LoadBalancedIT {

    static final int AGENTS = 4;
    static final int TARGETS = 10;

    @Test
    public void instancesDieBehindTheLoadBalancerAndWhatTheTargetsSawIsStoredOnce() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String store = ServerProcess.postgres(db, db.newDatabase());
            List<AutoCloseable> open = new ArrayList<>();
            try {
                ServerProcess a = ServerProcess.start(store);
                open.add(a);
                ServerProcess b = ServerProcess.startBeside(a, store);
                open.add(b);
                ServerProcess c = ServerProcess.startBeside(a, store);
                open.add(c);
                List<ServerProcess> servers = List.of(a, b, c);
                LoadBalancer lb = LoadBalancer.start(servers);
                open.add(lb);
                String token = a.enrollmentToken("{}");
                List<AgentProcess> agents = new ArrayList<>();
                List<CountingListener> targets = new ArrayList<>();
                for (int i = 0; i < AGENTS; i++) {
                    AgentProcess agent = AgentProcess.start();
                    open.add(agent);
                    CountingListener target = new CountingListener();
                    open.add(target);
                    agents.add(agent);
                    targets.add(target);
                    agent.write("etc/io.sonde.agent.cfg", "agent_id = lb-" + i + "\n");
                    agent.write("etc/io.sonde.uplink.cfg", a.uplinkConfig(token, "").replace("server_url = " + a.url(),
                            "server_url = " + lb.url()));
                }
                for (int i = 0; i < AGENTS; i++) {
                    agents.get(i).awaitLogLine("Enrolled with " + lb.url() + " as agent lb-" + i);
                    agents.get(i).write("etc/targets.json", UplinkIT.targetsFile(TARGETS, targets.get(i).port(), 200));
                    agents.get(i).write("etc/io.sonde.agent.cfg", "agent_id = lb-" + i + "\ntargets_file = etc/targets.json\n");
                }
                double[] acked = awaitAcked(agents, new double[AGENTS], 200);
                MultiInstanceIT.awaitLeader(a, b, c);

                // the instance that took the most dies first
                ServerProcess first = a;
                for (ServerProcess s : servers) {
                    if (ingested(s) > ingested(first)) {
                        first = s;
                    }
                }
                assertTrue("the load balancer sent the agents' batches to an instance", ingested(first) > 0);
                first.kill();
                acked = awaitAcked(agents, acked, 300);
                List<ServerProcess> rest = new ArrayList<>(servers);
                rest.remove(first);
                MultiInstanceIT.awaitLeader(rest.toArray(new ServerProcess[0]));
                awaitLogged(lb, "is DOWN");
                double[] before = {ingested(rest.get(0)), ingested(rest.get(1))};

                // it comes back; then the leader dies, and the lead moves to one of the other two
                first.launch();
                ServerProcess leader = leader(servers);
                leader.kill();
                acked = awaitAcked(agents, acked, 300);
                List<ServerProcess> living = new ArrayList<>(servers);
                living.remove(leader);
                MultiInstanceIT.awaitLeader(living.toArray(new ServerProcess[0]));
                ServerProcess survivor = living.get(0);

                // the targets go; the last results drain through the load balancer
                for (int i = 0; i < AGENTS; i++) {
                    agents.get(i).write("etc/io.sonde.agent.cfg", "agent_id = lb-" + i + "\n");
                }
                Thread.sleep(1500);
                StringBuilder figures = new StringBuilder();
                List<Long> stores = new ArrayList<>();
                List<Long> saws = new ArrayList<>();
                for (int i = 0; i < AGENTS; i++) {
                    AgentProcess agent = agents.get(i);
                    UplinkIT.awaitDrained(agent);
                    String m = agent.metrics();
                    for (String reason : List.of("full", "age", "corrupt", "rejected", "crash")) {
                        assertEquals("lb-" + i + " dropped nothing (" + reason + ")", 0,
                                AgentProcess.value(m, "sonde_spool_dropped_total{reason=\"" + reason + "\",} "), 0);
                    }
                    List<JsonObject> results = survivor.results("lb-" + i, null);
                    UplinkIT.assertIdentitiesAccountedFor(results, 0);
                    // the shipped configuration's own target (self) is not one of the counting ones
                    long stored = results.stream().filter(r -> r.get("success").getAsBoolean()
                            && r.get("target").getAsString().matches("t[0-9]+")).count();
                    long saw = targets.get(i).accepted.get();
                    figures.append("lb-").append(i).append(' ').append(stored).append('/').append(saw).append(" (the same measurement twice: ")
                            .append(measuredTwice(results)).append("); ");
                    assertEquals("lb-" + i + ": a measurement stored twice under two numbers", 0, measuredTwice(results));
                    stores.add(stored);
                    saws.add(saw);
                }
                System.out.println("FIGURE load balanced: stored successes/connections " + figures + "instances ingested before the"
                        + " second kill " + (long) before[0] + ", " + (long) before[1]);
                for (int i = 0; i < AGENTS; i++) {
                    long stored = stores.get(i);
                    long saw = saws.get(i);
                    assertTrue("stored successes/connections: " + figures + ": never more", stored <= saw);
                    assertTrue("stored successes/connections: " + figures + ": at most one probe per target in flight when the"
                            + " targets went", saw - stored <= TARGETS);
                    assertTrue("lb-" + i + ": " + saw + " connections", saw > 500);
                }
                System.out.println("FIGURE load balanced: stored successes/connections " + figures + "instances ingested before the"
                        + " second kill " + (long) before[0] + ", " + (long) before[1]);
                // after the first kill every agent had 300 more results acknowledged, stored by the two instances left
                assertTrue("the instances left took the agents' batches: " + before[0] + " + " + before[1],
                        before[0] + before[1] >= AGENTS * 300 - AGENTS * 200);
            } finally {
                for (int i = open.size() - 1; i >= 0; i--) {
                    open.get(i).close();
                }
            }
        }
    }

    /** Results that say the same as another but for their numbers: a measurement stored twice under two identities. */
    static int measuredTwice(List<JsonObject> results) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        int twice = 0;
        for (JsonObject r : results) {
            JsonObject copy = r.deepCopy();
            copy.remove("seq");
            copy.remove("epoch");
            copy.remove("received_at");
            if (!seen.add(copy.toString())) {
                twice++;
            }
        }
        return twice;
    }

    private static double ingested(ServerProcess s) throws Exception {
        return s.alive() ? AgentProcess.value(s.get("/metrics").body(), "sonde_server_ingested_results_total ") : -1;
    }

    private static ServerProcess leader(List<ServerProcess> servers) throws Exception {
        for (ServerProcess s : servers) {
            if (s.alive() && s.get("/metrics").body().contains("sonde_server_store_leader 1.0")) {
                return s;
            }
        }
        throw new AssertionError("no instance leads");
    }

    /** Waits until every agent has {@code more} results acknowledged beyond {@code from}; returns the counts. */
    private static double[] awaitAcked(List<AgentProcess> agents, double[] from, int more) throws Exception {
        double[] now = new double[agents.size()];
        for (int i = 0; i < agents.size(); i++) {
            double floor = from[i] + more;
            String m = agents.get(i).awaitMetrics(text -> AgentProcess.value(text, "sonde_uplink_acked_total ") >= floor);
            now[i] = AgentProcess.value(m, "sonde_uplink_acked_total ");
        }
        return now;
    }

    private static void awaitLogged(LoadBalancer lb, String what) throws Exception {
        for (int i = 0; i < 100 && !lb.log().contains(what); i++) {
            Thread.sleep(100);
        }
        assertTrue("haproxy's log: " + lb.log(), lb.log().contains(what));
    }
}
