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

    private final H2Store store;
    private final ServiceRegistration<Store> registration;
    private final ServiceRegistration<Collector> metrics;

    @Activate
    public H2StoreService(BundleContext context, StoreConfig config) throws SQLException {
        if (!"h2".equals(config.store().strip())) {
            store = null;
            registration = null;
            metrics = null;
            return;
        }
        Path home = Path.of(Objects.requireNonNullElse(context.getProperty("sonde.home"), "."));
        store = H2Store.open(home.resolve("data").resolve("store"), Math.max(2, config.h2__pool__size()));
        LOG.info("Store: embedded H2 in {}", home.resolve("data").resolve("store"));
        registration = context.registerService(Store.class, store, null);
        metrics = context.registerService(Collector.class, new Collector() {
            @Override
            public java.util.List<MetricFamilySamples> collect() {
                return java.util.List.of(new GaugeMetricFamily("sonde_server_store_bytes",
                        "Bytes the store takes on disk", store.sizeBytes()));
            }
        }, null);
    }

    @Deactivate
    void deactivate() {
        if (registration != null) {
            registration.unregister();
            metrics.unregister();
            store.close();
        }
    }
}
