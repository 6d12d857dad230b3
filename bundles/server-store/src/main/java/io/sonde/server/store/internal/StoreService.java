package io.sonde.server.store.h2.internal;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Objects;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.server.spi.Store;

/** Registers the embedded H2 store when {@code store = h2} (the default). */
@Component(configurationPid = StoreConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = StoreConfig.class)
// registered by hand (only when store = h2), announced for the resolver
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=\"io.sonde.server.spi.Store\"", uses = Store.class)
public final class H2StoreService {

    private static final Logger LOG = LoggerFactory.getLogger(H2StoreService.class);

    private final BundleContext context;
    private final Path dir;
    private final int poolSize;
    private H2Store store;
    private ServiceRegistration<Store> registration;
    private ServiceRegistration<Collector> metrics;

    @Activate
    public H2StoreService(BundleContext context, StoreConfig config) throws SQLException {
        this.context = context;
        Path home = Path.of(Objects.requireNonNullElse(context.getProperty("sonde.home"), "."));
        this.dir = home.resolve("data").resolve("store");
        this.poolSize = Math.max(2, config.h2__pool__size());
        modified(config);
    }

    /** Other keys of the server's configuration change nothing here; {@code store} switches the store on or off. */
    @Modified
    synchronized void modified(StoreConfig config) throws SQLException {
        boolean wanted = "h2".equals(config.store().strip());
        if (wanted && store == null) {
            H2Store s = H2Store.open(dir, poolSize);
            store = s;
            LOG.info("Store: embedded H2 in {}", dir);
            registration = context.registerService(Store.class, s, null);
            metrics = context.registerService(Collector.class, new Collector() {
                @Override
                public java.util.List<MetricFamilySamples> collect() {
                    return java.util.List.of(new GaugeMetricFamily("sonde_server_store_bytes",
                            "Bytes the store takes on disk", s.sizeBytes()));
                }
            }, null);
        } else if (!wanted && store != null) {
            LOG.info("Store: the embedded H2 store is not the one configured (store = {}); closed", config.store());
            deactivate();
        }
    }

    @Deactivate
    synchronized void deactivate() {
        if (registration != null) {
            registration.unregister();
            metrics.unregister();
            store.close();
            registration = null;
            metrics = null;
            store = null;
        }
    }
}
