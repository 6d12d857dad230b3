package io.sonde.server.store.internal;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import org.postgresql.ds.PGSimpleDataSource;

/** The store contract on PostgreSQL: a real cluster for the class, a database of its own per test. */
public class PostgresStoreTest extends StoreContract {

    static PostgresCluster cluster;
    private String url;

    @BeforeClass
    public static void startCluster() throws Exception {
        cluster = PostgresCluster.start();
    }

    @AfterClass
    public static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected JdbcStore open() throws Exception {
        if (url == null) {
            url = cluster.newDatabase();
        }
        return open(url);
    }

    /** Opens the store as the service does, on a pool of its own. */
    static JdbcStore open(String url) {
        PostgresDialect dialect = new PostgresDialect(url);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(PostgresCluster.USER);
        ds.setPassword(PostgresCluster.PASSWORD);
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(ds);
        hc.setMaximumPoolSize(6);
        hc.setConnectionTimeout(3000);
        hc.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(hc);
        return new JdbcStore(pool, dialect, pool::close);
    }

    @Override
    protected void sql(String statement) throws Exception {
        cluster.sql(url, statement);
    }

    @Test
    public void oneServerOfADatabaseLeadsAndAnotherTakesOverWhenItGoes() throws Exception {
        JdbcStore other = open(url);
        try {
            other.migrate();
            org.junit.Assert.assertTrue(store.lead());
            org.junit.Assert.assertTrue("keeps it", store.lead());
            org.junit.Assert.assertFalse(other.lead());
            store.close(); // as a server that stops or dies: its session ends
            store = null;
            org.junit.Assert.assertTrue(other.lead());
        } finally {
            other.close();
        }
    }
}
