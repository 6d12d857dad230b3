package io.sonde.server.store.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
@Component(configurationPid = StoreConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = Collector.class, immediate = true)
@Designate(ocd = StoreConfig.class)
// registered by hand (the one configured), announced for the resolver: the whole store and each of its parts
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=\"io.sonde.server.spi.Store,io.sonde.server.spi.AgentStore,io.sonde.server.spi.ResultStore,"
                + "io.sonde.server.spi.DefinitionStore,io.sonde.server.spi.ReleaseStore,io.sonde.server.spi.AlertStore,"
                + "io.sonde.server.spi.UserStore\"", uses = Store.class)
public final class StoreService extends Collector {

    /** The store is the whole and each of its parts: a component references what it uses. */
    static final String[] STORE_SERVICES = {Store.class.getName(), io.sonde.server.spi.AgentStore.class.getName(),
        io.sonde.server.spi.ResultStore.class.getName(), io.sonde.server.spi.DefinitionStore.class.getName(),
        io.sonde.server.spi.ReleaseStore.class.getName(), io.sonde.server.spi.AlertStore.class.getName(),
        io.sonde.server.spi.UserStore.class.getName()};
    /** Most hours the uptime job counts in a turn: a day's backlog after an upgrade takes a turn, a week's seven. */
    static final int UPTIME_HOURS = 24;
    private static final Logger LOG = LoggerFactory.getLogger(StoreService.class);
    /** Seconds between attempts to reach and migrate PostgreSQL while it cannot be used. */
    static final int RETRY_SECONDS = 5;
    /** Seconds between tries for the lead: a server that dies leaves it to another within this. */
    static final int LEAD_SECONDS = 15;
    /** Hours one round of the rollup job takes at most. */
    static final int ROLLUP_HOURS = 500;
    /** The retention job's period, on the leading server. */
    static final long RETENTION_PERIOD_MS = 3_600_000L;

    private final BundleContext context;
    private final Path home;
    private String settings; // what the open store was made from
    private JdbcStore store;
    private ScheduledExecutorService connector;
    private final ScheduledExecutorService jobs;
    private volatile int retentionDays;
    private volatile int minuteDays;
    private volatile int hourDays;
    private volatile boolean leading;
    private volatile boolean backlog;
    private final java.util.concurrent.atomic.AtomicLong rolledUp = new java.util.concurrent.atomic.AtomicLong();
    private long nextRetention; // the jobs thread's
    private ServiceRegistration<?> registration;
    /** The store registered now, whose figures {@link #collect} gives; null while none is. */
    private volatile JdbcStore served;

    @Activate
    public StoreService(BundleContext context, StoreConfig config, Map<String, Object> properties) throws SQLException {
        this.context = context;
        this.home = io.sonde.base.Home.of(context::getProperty);
        this.jobs = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-store-jobs"));
        modified(config, properties);
        jobs.scheduleWithFixedDelay(this::jobs, LEAD_SECONDS, LEAD_SECONDS, TimeUnit.SECONDS);
    }

    /** Other keys of the server's configuration change nothing here; the store keys open another store. */
    @Modified
    synchronized void modified(StoreConfig config, Map<String, Object> properties) throws SQLException {
        boolean compress = compress(properties.get("h2_compress"));
        retentionDays = days("retention_raw_days", config.retention__raw__days(), retentionDays, 30);
        minuteDays = days("retention_1m_days", config.retention__1m__days(), minuteDays, 90);
        hourDays = days("retention_1h_days", config.retention__1h__days(), hourDays, 730);
        String kind = config.store().strip();
        String now = switch (kind) {
            case "h2" -> "h2|" + config.h2__pool__size() + "|" + compress;
            case "postgres" -> "postgres|" + config.jdbc__url() + "|" + config.user() + "|" + config.password__file() + "|"
                    + config.pg__pool__size() + "|" + config.read__jdbc__url();
            default -> kind;
        };
        if (now.equals(settings)) {
            return;
        }
        deactivate();
        settings = now;
        switch (kind) {
            case "h2" -> {
                if (!config.read__jdbc__url().isBlank()) {
                    LOG.error("Store: etc/{}.cfg: key 'read_jdbc_url' is for store = postgres (a PostgreSQL standby); with H2 it is"
                            + " not used", StoreConfig.PID);
                }
                Path dir = home.resolve("data").resolve("store");
                register(H2Dialect.open(dir, Math.max(2, config.h2__pool__size()), compress));
                LOG.info("Store: embedded H2 in {}, pages {}", dir, compress ? "compressed" : "not compressed");
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
        HikariConfig hc = poolConfig("sonde-store", ds, config.pg__pool__size(), 3000); // waits this long, then answers 503
        HikariDataSource pool = new HikariDataSource(hc);
        HikariDataSource standby = standby(config, password);
        JdbcStore s = new JdbcStore(pool, standby, dialect, () -> {
            pool.close();
            if (standby != null) {
                standby.close();
            }
        }, hc.getConnectionTimeout());
        register(s);
        LOG.info("Store: PostgreSQL {}, user {}; connecting", dialect.where(), config.user().strip());
        if (standby != null) {
            LOG.info("Store: the API's read-only queries (series, results) go to the standby {}",
                    PostgresDialect.withoutSecrets(config.read__jdbc__url().strip()));
        }
        connector = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-store-connect"));
        ScheduledExecutorService c = connector;
        c.execute(() -> connect(c, s, dialect, pool, true));
    }

    private static HikariConfig poolConfig(String name, PGSimpleDataSource ds, int size, long waitMs) {
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(ds);
        hc.setPoolName(name);
        hc.setMaximumPoolSize(Math.max(2, size));
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(waitMs);
        hc.setValidationTimeout(1000);
        hc.setInitializationFailTimeout(-1); // start without the database; connect when it is there
        return hc;
    }

    /** @return the pool of the standby that read_jdbc_url names, or null where none is (or it is no PostgreSQL URL: said) */
    private static HikariDataSource standby(StoreConfig config, String password) {
        String url = config.read__jdbc__url().strip();
        if (url.isEmpty()) {
            return null;
        }
        if (!url.startsWith("jdbc:postgresql:")) {
            LOG.error("Store: etc/{}.cfg: key 'read_jdbc_url': '{}' is not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database);"
                    + " the primary answers the read-only queries", StoreConfig.PID, PostgresDialect.withoutSecrets(url));
            return null;
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(config.user().strip());
        ds.setPassword(password);
        ds.setApplicationName("sonde-server-reads");
        // a standby that does not answer costs a read one second, then the primary answers for a while
        HikariConfig hc = poolConfig("sonde-store-standby", ds, config.pg__pool__size(), 1000);
        hc.setReadOnly(true);
        return new HikariDataSource(hc);
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

    /** @return the configured days if they are a number of days, else (saying so) those in force or the default */
    /** @return h2_compress as written (true when absent); anything but true or false is said, and the pages stay compressed */
    static boolean compress(Object value) {
        String v = value == null ? "true" : String.valueOf(value).strip();
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        LOG.error("Store: etc/{}.cfg: key 'h2_compress': '{}' is neither true nor false; the pages stay compressed", StoreConfig.PID, v);
        return true;
    }

    private static int days(String key, int configured, int inForce, int fallback) {
        if (configured >= 1) {
            return configured;
        }
        int keep = inForce == 0 ? fallback : inForce;
        LOG.error("Store: etc/{}.cfg: key '{}': {} is not a number of days (1 or more); keeping {}", StoreConfig.PID, key, configured, keep);
        return keep;
    }

    /** On the jobs thread: takes or keeps the lead, and where it leads runs the retention job when it is due. */
    private void jobs() {
        JdbcStore s;
        synchronized (this) {
            s = store;
        }
        if (s == null) {
            return;
        }
        boolean lead = s.lead();
        if (lead != leading) {
            leading = lead;
            LOG.info(lead ? "Store: this server leads the servers of its database and runs the rollup and retention jobs"
                    : "Store: this server no longer leads (another does, or the database is away)");
        }
        long now = System.currentTimeMillis();
        if (!lead) {
            return;
        }
        try {
            Instant rawFrom = Instant.ofEpochMilli(now).minus(java.time.Duration.ofDays(retentionDays));
            int n = ROLLUP_HOURS;
            for (int round = 0; round < 100 && n == ROLLUP_HOURS; round++) { // a backlog: on until it is done (bounded)
                n = s.rollUp(ROLLUP_HOURS, rawFrom, Instant.ofEpochMilli(now));
                rolledUp.addAndGet(n);
                backlog = n == ROLLUP_HOURS; // seen while the turn works through it
            }
            n = ROLLUP_HOURS;
            for (int round = 0; round < 100 && n == ROLLUP_HOURS; round++) { // then targets across their series' new rollups
                n = s.rollUpTargets(ROLLUP_HOURS, Instant.ofEpochMilli(now));
                backlog |= n == ROLLUP_HOURS;
            }
            s.countUptime(UPTIME_HOURS, Instant.ofEpochMilli(now)); // then the hours' minutes per state, from those rollups
        } catch (io.sonde.server.spi.StoreException e) {
            LOG.warn("Store: the rollup job failed ({}); trying again in {} s", e.getMessage(), LEAD_SECONDS);
        }
        if (now < nextRetention) {
            return;
        }
        nextRetention = now + RETENTION_PERIOD_MS;
        try {
            long t0 = System.nanoTime();
            Instant at = Instant.ofEpochMilli(now);
            long dropped = s.dropOlderThan(java.time.Duration.ofDays(retentionDays), at);
            long minutes = s.dropRollupsOlderThan(60, java.time.Duration.ofDays(minuteDays), at);
            long hours = s.dropRollupsOlderThan(3600, java.time.Duration.ofDays(hourDays), at);
            s.dropUptimeOlderThan(java.time.Duration.ofDays(hourDays), at); // uptime kept as long as the hours it is counted from
            if (dropped + minutes + hours > 0) {
                LOG.info("Store: retention dropped {} raw results (kept {} days), {} 1-minute and {} 1-hour rollups (kept {} and {} days)"
                        + " in {} ms", dropped, retentionDays, minutes, hours, minuteDays, hourDays, (System.nanoTime() - t0) / 1_000_000);
            }
        } catch (io.sonde.server.spi.StoreException e) {
            LOG.warn("Store: the retention job failed ({}); trying again in {} s", e.getMessage(), LEAD_SECONDS);
            nextRetention = now; // again at the next turn
        }
    }

    private void register(JdbcStore s) {
        store = s;
        registration = context.registerService(STORE_SERVICES, s, null);
        served = s;
    }

    /** The served store's metrics, at the server's /metrics (a Collector service, by DS); none while no store is served. */
    @Override
    public List<MetricFamilySamples> collect() {
        JdbcStore s = served;
        if (s == null) {
            return List.of();
        }
        long[] commits = s.commits();
        long[] recent = s.recentWindows();
        return List.of(new io.prometheus.client.CounterMetricFamily("sonde_server_store_windows_from_memory",
                        "Windows of recent results (the health list's, the alert rules', the mesh matrix's) answered from the"
                                + " results kept in memory rather than read from the database", recent[0]),
                new GaugeMetricFamily("sonde_server_store_recent_results",
                        "Results of the last minutes kept in memory for those windows (an embedded store)", recent[1]),
                new GaugeMetricFamily("sonde_server_store_bytes", "Bytes the store takes on disk", s.sizeBytes()),
                new io.prometheus.client.CounterMetricFamily("sonde_server_store_commits",
                        "Transactions that stored result batches (concurrent batches share one)", commits[0]),
                new io.prometheus.client.CounterMetricFamily("sonde_server_store_committed_batches",
                        "Result batches those transactions stored", commits[1]),
                reads(s.reads()),
                new GaugeMetricFamily("sonde_server_store_leader",
                        "1 where this server leads the servers of its database (runs the rollup and retention jobs)", leading ? 1 : 0),
                new GaugeMetricFamily("sonde_server_rollup_backlog",
                        "1 while the rollup job works through more closed hours than one round takes", backlog ? 1 : 0),
                new io.prometheus.client.CounterMetricFamily("sonde_server_rolled_up",
                        "(series, hour) pairs rolled up by this server", rolledUp.get()),
                new io.prometheus.client.CounterMetricFamily("sonde_server_target_rolled_up",
                        "(target, hour) pairs rolled up across the target's series by this server", s.targetHoursRolledUp()));
    }

    private static Collector.MetricFamilySamples reads(long[] reads) {
        io.prometheus.client.CounterMetricFamily f = new io.prometheus.client.CounterMetricFamily("sonde_server_store_api_reads",
                "The API's read-only queries (series, results), by the database that answered them", List.of("database"));
        f.addMetric(List.of("standby"), reads[0]);
        f.addMetric(List.of("primary"), reads[1]);
        return f;
    }

    @Deactivate
    void stop() {
        jobs.shutdownNow();
        deactivate();
    }

    private synchronized void deactivate() {
        leading = false;
        if (connector != null) {
            connector.shutdownNow();
            connector = null;
        }
        served = null;
        if (registration != null) {
            registration.unregister();
            registration = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
        settings = null;
    }
}
