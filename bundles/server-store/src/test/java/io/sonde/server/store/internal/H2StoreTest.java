package io.sonde.server.store.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.After;
import org.junit.Test;

/** The store contract on the embedded H2 store, in a directory of its own per test. */
public class H2StoreTest extends StoreContract {

    private Path dir;

    @Override
    protected JdbcStore open() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("h2store");
        }
        return H2Dialect.open(dir, 4);
    }

    @Override
    protected void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(H2Dialect.url(dir), "sonde", "");
                Statement s = c.createStatement()) {
            s.execute(statement);
            s.execute("SHUTDOWN");
        }
    }

    /** h2_compress: LZF pages of up to 64 KB, or plain pages of 16 KB; a store written one way reads the other. */
    @Test
    public void pagesAreCompressedUnlessConfiguredOtherwiseAndAStoreReadsEitherWay() throws Exception {
        store.ingest("a1", "e1", java.util.List.of(result(1, "t", T0, 0.001, true)));
        org.h2.jdbcx.JdbcDataSource same = new org.h2.jdbcx.JdbcDataSource(); // the store's own database, in this JVM
        same.setURL(H2Dialect.url(dir) + ";DB_CLOSE_ON_EXIT=FALSE");
        same.setUser("sonde");
        same.setPassword("");
        org.junit.Assert.assertEquals(65_536, H2Housekeeping.mvStore(same).getFileStore().getMaxPageSize());
        store.close();
        store = H2Dialect.open(dir, 2, false);
        org.junit.Assert.assertEquals(H2Dialect.PLAIN_PAGE_BYTES, H2Housekeeping.mvStore(same).getFileStore().getMaxPageSize());
        store.ingest("a1", "e1", java.util.List.of(result(2, "t", T0.plusSeconds(1), 0.002, true)));
        org.junit.Assert.assertEquals(2, store.results(new io.sonde.server.spi.ResultQuery("a1", "t", T0, T0.plusSeconds(60), 10, null))
                .items().size());
        org.junit.Assert.assertTrue("absent: compressed", StoreService.compress(null));
        org.junit.Assert.assertFalse(StoreService.compress(" False "));
        org.junit.Assert.assertTrue(StoreService.compress("true"));
        org.junit.Assert.assertTrue("not a boolean: said, and compressed", StoreService.compress("no"));
        store.close();
        store = open();
        org.junit.Assert.assertEquals(2, store.results(new io.sonde.server.spi.ResultQuery("a1", "t", T0, T0.plusSeconds(60), 10, null))
                .items().size());
    }

    /** Each connection keeps the statements of an agent's exchanges parsed: H2's own 8 made it parse most of them anew. */
    @Test
    public void theDatabaseKeepsEnoughStatementsParsed() throws Exception {
        org.h2.jdbcx.JdbcDataSource same = new org.h2.jdbcx.JdbcDataSource(); // the store's own database, in this JVM
        same.setURL(H2Dialect.url(dir) + ";DB_CLOSE_ON_EXIT=FALSE");
        same.setUser("sonde");
        same.setPassword("");
        try (Connection c = same.getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                        + " WHERE SETTING_NAME = 'QUERY_CACHE_SIZE'")) {
            org.junit.Assert.assertTrue("the setting is listed", rs.next());
            org.junit.Assert.assertEquals(String.valueOf(H2Dialect.QUERY_CACHE_SIZE), rs.getString(1));
        }
    }

    @After
    public void removeTheDirectory() throws Exception {
        closeTheStore();
        store = null;
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
