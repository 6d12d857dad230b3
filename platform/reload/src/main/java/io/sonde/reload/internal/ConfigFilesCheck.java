package io.sonde.reload.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.agent.spi.ConfigCheck;
import io.sonde.agent.spi.ConfigSource;

/**
 * Checks every configuration of a Sonde PID the running agent or server is given (its
 * {@code etc/*.cfg} file) against the keys its components declare, by the one check
 * {@code sonde-cli validate} applies ({@link ConfigCheck}): an unknown key or a bad value is logged
 * as a configuration error naming the file, the key and the reason, once per change of the file.
 * Targets ({@code io.sonde.target}) are the core's to check, which reports them the same way.
 */
@Component(service = ConfigurationListener.class)
public final class ConfigFilesCheck implements ConfigurationListener {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigFilesCheck.class);
    static final String METATYPE_DIR = "OSGI-INF/metatype";

    private final BundleContext context;
    private final ConfigurationAdmin configAdmin;
    /** The problems last logged per configuration: a file logs again only when what is wrong with it changes. */
    private final Map<String, List<String>> logged = new ConcurrentHashMap<>();

    @Activate
    public ConfigFilesCheck(BundleContext context, @Reference ConfigurationAdmin configAdmin) {
        this.context = context;
        this.configAdmin = configAdmin;
        try {
            Configuration[] all = configAdmin.listConfigurations("(service.pid=io.sonde.*)");
            if (all != null) {
                Map<String, Map<String, ConfigCheck.Key>> declared = declared();
                for (Configuration c : all) {
                    check(c, declared);
                }
            }
        } catch (IOException | org.osgi.framework.InvalidSyntaxException e) {
            LOG.debug("Cannot list the configurations", e);
        }
    }

    @Override
    public void configurationEvent(ConfigurationEvent event) {
        if (event.getType() == ConfigurationEvent.CM_DELETED) {
            logged.remove(event.getPid());
            return;
        }
        String pid = event.getFactoryPid() != null ? event.getFactoryPid() : event.getPid();
        if (!pid.startsWith("io.sonde.") || pid.equals("io.sonde.target")) {
            return;
        }
        try {
            Configuration[] found = configAdmin.listConfigurations("(service.pid=" + event.getPid() + ")");
            if (found != null) {
                Map<String, Map<String, ConfigCheck.Key>> declared = declared();
                for (Configuration c : found) {
                    check(c, declared);
                }
            }
        } catch (IOException | org.osgi.framework.InvalidSyntaxException e) {
            LOG.debug("Cannot read the configuration {}", event.getPid(), e);
        }
    }

    private void check(Configuration c, Map<String, Map<String, ConfigCheck.Key>> declared) {
        String pid = c.getFactoryPid() != null ? c.getFactoryPid() : c.getPid();
        if (!pid.startsWith("io.sonde.") || pid.equals("io.sonde.target")) {
            return;
        }
        Dictionary<String, Object> props = c.getProperties();
        Map<String, ConfigCheck.Key> keys = declared.get(pid);
        if (props == null || keys == null) {
            return; // no component of this runtime reads it: sonde-cli validate names that
        }
        Map<String, Object> raw = new HashMap<>();
        Map<String, String> text = new LinkedHashMap<>();
        for (String k : Collections.list(props.keys())) {
            Object v = props.get(k);
            raw.put(k, v);
            text.put(k, v == null ? null : v.getClass().isArray() ? String.join(",", java.util.Arrays.stream((Object[]) v)
                    .map(String::valueOf).toList()) : String.valueOf(v));
        }
        List<String> problems = ConfigCheck.problems(pid, text, keys);
        List<String> before = logged.put(c.getPid(), problems);
        if (problems.equals(before)) {
            return;
        }
        String file = ConfigSource.of(raw, "configuration " + c.getPid());
        for (String p : problems) {
            LOG.warn("Configuration error: {}: {}", file, p);
        }
    }

    /** The declared keys and the bundles (id and last change) they were read from: read again only when those change. */
    private volatile Map.Entry<List<String>, Map<String, Map<String, ConfigCheck.Key>>> declaredCache;

    /** @return the keys every installed bundle declares per PID, from their MetaType documents */
    private Map<String, Map<String, ConfigCheck.Key>> declared() {
        List<String> bundles = new java.util.ArrayList<>();
        for (Bundle b : context.getBundles()) {
            bundles.add(b.getBundleId() + "@" + b.getLastModified());
        }
        Map.Entry<List<String>, Map<String, Map<String, ConfigCheck.Key>>> cached = declaredCache;
        if (cached != null && cached.getKey().equals(bundles)) {
            return cached.getValue();
        }
        Map<String, Map<String, ConfigCheck.Key>> byPid = readDeclared();
        declaredCache = Map.entry(bundles, byPid);
        return byPid;
    }

    private Map<String, Map<String, ConfigCheck.Key>> readDeclared() {
        Map<String, Map<String, ConfigCheck.Key>> byPid = new HashMap<>();
        for (Bundle b : context.getBundles()) {
            java.util.Enumeration<URL> docs;
            try {
                docs = b.findEntries(METATYPE_DIR, "*.xml", false);
            } catch (IllegalStateException e) {
                continue; // uninstalled meanwhile
            }
            if (docs == null) {
                continue;
            }
            for (URL u : Collections.list(docs)) {
                try (InputStream in = u.openStream()) {
                    ConfigCheck.read(in, byPid);
                } catch (IOException e) {
                    LOG.debug("Cannot read {} of {}", u, b.getSymbolicName(), e);
                }
            }
        }
        return byPid;
    }
}
