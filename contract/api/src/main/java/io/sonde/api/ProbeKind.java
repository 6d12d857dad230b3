package io.sonde.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * The service properties of a {@link Prober}, typed: put it beside the prober's {@code @Component}
 * and the build writes {@value Prober#PROBE_TYPE}, {@value Prober#PROBE_ASYNC} and
 * {@value Prober#PROBE_COST} into the component's description.
 *
 * <pre>{@code
 * @Component(service = Prober.class)
 * @ProbeKind(type = "smtp", cost = 10)
 * public final class SmtpProber implements Prober { ... }
 * }</pre>
 *
 * @since 2.3
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface ProbeKind {

    /** The properties' common prefix: {@code type} is {@value Prober#PROBE_TYPE}, and so on. */
    String PREFIX_ = "probe.";

    /** @return the kind of the targets the prober measures ({@value Prober#PROBE_TYPE}), for example {@code tcp} */
    String type();

    /** @return whether {@link Prober#probe} never blocks ({@value Prober#PROBE_ASYNC}; see there) */
    boolean async() default false;

    /**
     * @return what one probe costs relative to a TCP connect ({@value Prober#PROBE_COST}; see there);
     *         0, the default, does not say, and the kind is then taken as dear
     */
    int cost() default 0;
}
