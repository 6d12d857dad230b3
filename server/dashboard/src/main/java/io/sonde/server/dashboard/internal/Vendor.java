package io.sonde.server.dashboard.internal;

import org.osgi.service.component.annotations.Component;

/**
 * Bulma's stylesheet, from its WebJar, at {@code /ui/vendor/bulma/}. Where in the bundle the files
 * are depends on the WebJar's version, which the POM alone says: the resource prefix is in
 * {@code OSGI-INF/vendor/bulma.properties}, which the build writes for that version.
 */
@Component(service = Vendor.class, property = "osgi.http.whiteboard.resource.pattern=/ui/vendor/bulma/*",
        properties = "OSGI-INF/vendor/bulma.properties")
public final class Vendor {

    /** uPlot's module and stylesheet, from its WebJar, at {@code /ui/vendor/uplot/} (prefix: {@code OSGI-INF/vendor/uplot.properties}). */
    @Component(service = Vendor.Uplot.class, property = "osgi.http.whiteboard.resource.pattern=/ui/vendor/uplot/*",
            properties = "OSGI-INF/vendor/uplot.properties")
    public static final class Uplot {
    }
}
