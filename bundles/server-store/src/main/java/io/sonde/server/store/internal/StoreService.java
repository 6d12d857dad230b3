package io.sonde.server.store.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.server.spi.Store;

/**
 * Registers the store that {@code store} names: {@code h2} (the default, files under
 * {@code data/store/}) or {@code postgres}. The PostgreSQL store is there at once, also while the
 * database is not: its calls fail as unavailable (ingest answers 503, agents keep their spool,
 * {@code /healthz} says why) until the database answers, and then the schema is migrated.
 */
@Component(configurationPid = StoreConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = StoreConfig.class)
// registered by hand (the one configured), announced for the resolver
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=\"io.sonde.server.spi.Store\"", uses = Store.class)
public final class StoreService {

    private static final Logger LOG = LoggerFactory.getLogger(StoreService.class);
    /** Seconds between attempts to reach and migrate PostgreSQL while it cannot be used. */
    static final int RETRY_SECONDS = 5;

    private final BundleContext context;
    private final Path home;
    private String settings; // what the open store was made from
    private JdbcStore store;
    private ScheduledExecutorService connector;
    private ServiceRegistration<Store> registration;
    private ServiceRegistration<Collector> metrics;

    @Activate
    public StoreService(BundleContext context, StoreConfig config) throws SQLException {
        this.context = context;
        this.home = Path.of(Objects.requireNonNullElse(context.getProperty("sonde.home"), "."));
        modified(config);
    }

    /** Other keys of the server's configuration change nothing here; the store keys open another store. */
    @Modified
    synchronized void modified(StoreConfig config) throws SQLException {
        String kind = config.store().strip();
        String now = switch (kind) {
            case "h2" -> "h2|" + config.h2__pool__size();
            case "postgres" -> "postgres|" + config.jdbc__url() + "|" + config.user() + "|" + config.password__file() + "|"
                    + config.pg__pool__size();
            default -> kind;
        };
        if (now.equals(settings)) {
            return;
        }
        deactivate();
        settings = now;
        switch (kind) {
            case "h2" -> {
                Path dir = home.resolve("data").resolve("store");
                register(H2Dialect.open(dir, Math.max(2, config.h2__pool__size())));
                LOG.info("Store: embedded H2 in {}", dir);
            }
            case "postgres" -> openPostgres(config);
            default -> LOG.error("Store: etc/{}.cfg: key 'store': '{}' is not a store; use h2 or postgres. No store until then",
                    StoreConfig.PID, kind);
        }
    }

    private void openPostgres(StoreConfig config) {
        String url = config.jdbc__url().strip();
        if (!url.startsWith("jdbc:postgresql:")) {
            LOG.error("Store: etc/{}.cfg: key 'jdbc_url': '{}' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database);"
                    + " no store until it is", StoreConfig.PID, PostgresDialect.withoutSecrets(url));
            return;
        }
        String password = null;
        String file = config.password__file().strip();
        if (!file.isEmpty()) { // without: trust, peer, or a ~/.pgpass of the server's user
            Path p = home.resolve(file);
            try {
                password = Files.readString(p, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                LOG.error("Store: etc/{}.cfg: key 'password_file': cannot read {} ({}); no store until it can be read",
                        StoreConfig.PID, p, e.getClass().getSimpleName());
                return;
            }
        }
        PostgresDialect dialect = new PostgresDialect(url);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(config.user().strip());
        ds.setPassword(password);
        ds.setApplicationName("sonde-server");
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(ds);
        hc.setPoolName("sonde-store");
        hc.setMaximumPoolSize(Math.max(2, config.pg__pool__size()));
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(3000); // a call waits this long for the database, then answers 503
        hc.setValidationTimeout(1000);
        hc.setInitializationFailTimeout(-1); // start without the database; connect when it is there
        HikariDataSource pool = new HikariDataSource(hc);
        JdbcStore s = new JdbcStore(pool, dialect, pool::close);
        register(s);
        LOG.info("Store: PostgreSQL {}, user {}; connecting", dialect.where(), config.user().strip());
        connector = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sonde-store-connect");
            t.setDaemon(true);
            return t;
        });
        ScheduledExecutorService c = connector;
        c.execute(() -> connect(c, s, dialect, pool, true));
    }

    /** Reaches and migrates the database, again every few seconds until it works; says so once each way. */
    private static void connect(ScheduledExecutorService connector, JdbcStore s, PostgresDialect dialect, HikariDataSource pool,
            boolean first) {
        try {
            s.migrate();
            try (Connection c = pool.getConnection()) {
                LOG.info("Store: {} {}, schema version {}", dialect.describe(c), dialect.where(), dialect.schemaVersion());
            }
        } catch (SQLException e) {
            if (s.refusal() != null) {
                LOG.error("Store: {}", s.refusal());
                return; // for good: every call says so
            }
            if (first) {
                LOG.warn("Store: PostgreSQL {} cannot be used yet ({}); ingest answers 503 and agents keep their results;"
                        + " trying again every {} s", dialect.where(), e.getMessage(), RETRY_SECONDS);
            }
            if (!connector.isShutdown()) {
                connector.schedule(() -> connect(connector, s, dialect, pool, false), RETRY_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    private void register(JdbcStore s) {
        store = s;
        registration = context.registerService(Store.class, s, null);
        metrics = context.registerService(Collector.class, new Collector() {
            @Override
            public List<MetricFamilySamples> collect() {
                return List.of(new GaugeMetricFamily("sonde_server_store_bytes", "Bytes the store takes on disk", s.sizeBytes()));
            }
        }, null);
    }

    @Deactivate
    synchronized void deactivate() {
        if (connector != null) {
            connector.shutdownNow();
            connector = null;
        }
        if (registration != null) {
            registration.unregister();
            metrics.unregister();
            registration = null;
            metrics = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
        settings = null;
    }
}
