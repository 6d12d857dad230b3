package io.sonde.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.apache.felix.framework.FrameworkFactory;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/** The keeper on a real Felix, with bundles that cannot start until another one is installed. */
public class BundleKeeperTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Framework framework;
    private final List<String> logged = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r.getLevel() + " " + r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Before
    public void start() throws Exception {
        framework = new FrameworkFactory().newFramework(Map.of(Constants.FRAMEWORK_STORAGE, tmp.newFolder("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
        Logger.getLogger("io.sonde.launcher").addHandler(capture);
    }

    @After
    public void stop() throws Exception {
        Logger.getLogger("io.sonde.launcher").removeHandler(capture);
        framework.stop();
        framework.waitForStop(10_000);
    }

    /** A bundle with only a manifest. */
    private Bundle install(String name, String header, String value) throws IOException, BundleException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue(Constants.BUNDLE_MANIFESTVERSION, "2");
        a.putValue(Constants.BUNDLE_SYMBOLICNAME, name);
        a.putValue(Constants.BUNDLE_VERSION, "1.2.3");
        if (header != null) {
            a.putValue(header, value);
        }
        Path jar = tmp.getRoot().toPath().resolve(name + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            // the manifest is all
        }
        return framework.getBundleContext().installBundle(jar.toUri().toString());
    }

    private static boolean startFails(Bundle b) {
        try {
            b.start();
            return false;
        } catch (BundleException e) {
            return true;
        }
    }

    @Test
    public void aBundleThatFailedToStartIsStartedOnceItCan() throws Exception {
        Bundle needy = install("needy", Constants.IMPORT_PACKAGE, "io.sonde.test.missing");
        assertTrue("needs a package nobody exports yet", startFails(needy));
        BundleKeeper keeper = new BundleKeeper(framework);
        long t = 1_000_000;

        assertEquals("seen down: left alone for one check", 0, keeper.check(t));
        assertEquals(Map.of(needy.getBundleId(), 0), keeper.attempts());
        assertEquals(0, keeper.check(t + BundleKeeper.CHECK_MS)); // tried: fails, waits 2 s
        assertEquals(Map.of(needy.getBundleId(), 1), keeper.attempts());
        assertEquals(Bundle.INSTALLED, needy.getState());
        assertEquals(0, keeper.check(t + 2 * BundleKeeper.CHECK_MS)); // tried again: fails, waits 4 s
        assertEquals(0, keeper.check(t + 3 * BundleKeeper.CHECK_MS)); // within the 4 s: not tried
        assertEquals(Map.of(needy.getBundleId(), 2), keeper.attempts());
        long warnings = logged.stream().filter(l -> l.startsWith("WARNING needy 1.2.3")).count();
        assertEquals("the same reason is logged once: " + logged, 1, warnings);
        assertTrue(logged.toString(), logged.get(0).contains("io.sonde.test.missing"));

        install("provider", Constants.EXPORT_PACKAGE, "io.sonde.test.missing"); // installed, never started
        assertEquals(1, keeper.check(t + 4 * BundleKeeper.CHECK_MS));
        assertEquals(Bundle.ACTIVE, needy.getState());
        assertEquals(Map.of(), keeper.attempts());
        String started = logged.get(logged.size() - 1);
        assertTrue(started, started.startsWith("INFO Started needy 1.2.3") && started.contains("it had failed to start")
                && started.contains("io.sonde.test.missing"));
        assertEquals("nothing more to do", 0, keeper.check(t + 5 * BundleKeeper.CHECK_MS));
    }

    @Test
    public void stoppedInstalledAndFragmentBundlesAreLeftAlone() throws Exception {
        Bundle stopped = install("stopped", null, null);
        stopped.start();
        stopped.stop(); // someone's choice: not persistently started any more
        Bundle never = install("never", null, null); // installed, never asked to start
        Bundle fragment = install("fragment", Constants.FRAGMENT_HOST, "stopped");
        BundleKeeper keeper = new BundleKeeper(framework);
        for (int i = 0; i < 5; i++) {
            assertEquals(0, keeper.check(1_000_000 + i * BundleKeeper.CHECK_MS));
        }
        assertEquals(Bundle.RESOLVED, stopped.getState());
        assertTrue((never.getState() & (Bundle.INSTALLED | Bundle.RESOLVED)) != 0);
        assertTrue((fragment.getState() & (Bundle.INSTALLED | Bundle.RESOLVED)) != 0);
        assertEquals(Map.of(), keeper.attempts());
        assertEquals(List.of(), logged);
    }

    @Test
    public void theBackoffGrowsToItsBound() throws Exception {
        Bundle needy = install("needy", Constants.IMPORT_PACKAGE, "io.sonde.test.never");
        assertTrue(startFails(needy));
        BundleKeeper keeper = new BundleKeeper(framework);
        long t = 0;
        keeper.check(t);
        List<Long> tries = new ArrayList<>();
        int before = 0;
        for (int i = 1; i <= 200 && tries.size() < 9; i++) { // 200 checks of 2 s: 400 s of the keeper's time
            long now = t + i * BundleKeeper.CHECK_MS;
            keeper.check(now);
            int attempts = keeper.attempts().get(needy.getBundleId());
            if (attempts > before) {
                tries.add(now);
                before = attempts;
            }
        }
        List<Long> gaps = new ArrayList<>();
        for (int i = 1; i < tries.size(); i++) {
            gaps.add((tries.get(i) - tries.get(i - 1)) / 1000);
        }
        assertEquals(List.of(2L, 4L, 8L, 16L, 32L, 64L, 64L, 64L), gaps);
    }
}
