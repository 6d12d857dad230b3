package io.sonde.server.core.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * Whether every part of the server has started: each Sonde bundle of system/ active, each of their enabled components
 * satisfied or active (but for one that runs only when its configuration file exists and there is none). Until then a request may reach a path whose servlet is not there yet, so {@code /healthz} does not say ok.
 */
final class Readiness {

    private static final String PREFIX = "io.sonde.";

    private final BundleContext context;
    private final ServiceComponentRuntime scr;

    Readiness(BundleContext context, ServiceComponentRuntime scr) {
        this.context = context;
        this.scr = scr;
    }

    /** @return what has not started yet, one line each; empty when the server is whole */
    List<String> waiting() {
        List<String> waiting = new ArrayList<>();
        List<Bundle> ours = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            String name = b.getSymbolicName();
            // the server's own bundles from system/; a plugin an operator dropped in does not hold the server back
            if (name == null || !name.startsWith(PREFIX) || !b.getLocation().contains("/system/")
                    || b.getHeaders("").get(Constants.FRAGMENT_HOST) != null) {
                continue;
            }
            if (b.getState() == Bundle.ACTIVE) {
                ours.add(b);
            } else {
                waiting.add("bundle " + name + " is " + (b.getState() == Bundle.STARTING ? "starting" : "not started"));
            }
        }
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(ours.toArray(Bundle[]::new))) {
            if (!scr.isComponentEnabled(d)) {
                continue;
            }
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                String what = "component " + d.name.substring(d.name.lastIndexOf('.') + 1) + " of " + d.bundle.symbolicName;
                switch (c.state) {
                    // a part that runs only when configured (remote write, without its etc/ file) is off, not waited for
                    case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> { }
                    case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> waiting.add(what + " waits for "
                            + String.join(", ", Arrays.stream(c.unsatisfiedReferences).map(r -> r.name).toList()));
                    case ComponentConfigurationDTO.FAILED_ACTIVATION -> waiting.add(what + " failed to activate"
                            + (c.failure == null ? "" : ": " + c.failure.lines().findFirst().orElse("")));
                    default -> { } // satisfied or active
                }
            }
        }
        return waiting;
    }
}
