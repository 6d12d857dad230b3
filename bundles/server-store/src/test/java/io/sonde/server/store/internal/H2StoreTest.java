package io.sonde.server.store.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.After;

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

    @After
    public void removeTheDirectory() throws Exception {
        closeTheStore();
        store = null;
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
