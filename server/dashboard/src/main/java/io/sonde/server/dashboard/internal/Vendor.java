package io.sonde.server.dashboard.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardResource;

/** Bulma's stylesheet, from its WebJar, at {@code /ui/vendor/bulma/}. */
@Component(service = Vendor.class)
@HttpWhiteboardResource(pattern = "/ui/vendor/bulma/*", prefix = "/META-INF/resources/webjars/bulma/1.0.4/css")
public final class Vendor {

    /** uPlot's module and stylesheet, from its WebJar, at {@code /ui/vendor/uplot/}. */
    @Component(service = Vendor.Uplot.class)
    @HttpWhiteboardResource(pattern = "/ui/vendor/uplot/*", prefix = "/META-INF/resources/webjars/uplot/1.6.30/dist")
    public static final class Uplot {
    }
}
