package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.Assume;
import org.junit.Test;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * The database's disk fills while results flow (its tables in a tablespace on a 2 MiB tmpfs): the
 * server answers ingest with 503 saying so, the agent spools, and once the disk is larger
 * everything arrives, once. Needs root (mount); CI runs as root.
 */
public class DatabaseDiskFullIT {

    @Test
    public void aFullDatabaseDiskLosesNothing() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        Assume.assumeTrue("mounting a small file system needs root", root || System.getenv("CI") != null);
        Path disk = Files.createTempDirectory("sonde-e2e-disk-");
        AgentProcess.run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", disk.toString());
        try {
            AgentProcess.run("chown", "nobody:nogroup", disk.toString());
            try (PostgresCluster db = PostgresCluster.start()) {
                String url = db.newDatabase();
                String name = url.substring(url.lastIndexOf('/') + 1);
                try (Connection c = DriverManager.getConnection(db.url("postgres"), PostgresCluster.USER, PostgresCluster.PASSWORD);
                        Statement s = c.createStatement()) {
                    s.execute("CREATE TABLESPACE small LOCATION '" + disk + "'");
                    s.execute("ALTER DATABASE " + name + " SET default_tablespace = small");
                }
                try (ServerProcess server = ServerProcess.start(ServerProcess.postgres(db, url));
                        AgentProcess agent = AgentProcess.start();
                        CountingListener listener = new CountingListener()) {
                    agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-disk\n");
                    agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
                    agent.awaitLogLine("Enrolled with");
                    agent.write("etc/targets.json", UplinkIT.targetsFile(40, listener.port(), 50));
                    agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-disk\ntargets_file = etc/targets.json\n");

                    // the disk fills: ingest is refused as unavailable, and says why
                    agent.awaitLogLine("Uplink to " + server.url(), "No space left on device");
                    agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") > 2000);
                    assertTrue("the server stays up", server.alive());

                    // more room: the backlog goes in
                    AgentProcess.run("mount", "-o", "remount,size=256m", disk.toString());
                    assertEquals(1, UplinkIT.stopAndCheckEverythingArrived(agent, server, "e2e-disk", 3000).size());
                }
            }
        } finally {
            AgentProcess.run("umount", disk.toString());
            Files.delete(disk);
        }
    }
}
