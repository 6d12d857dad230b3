package io.sonde.base;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The process's home: the directory of its {@code etc/}, {@code data/}, {@code log/} and {@code plugins/}, which the
 * start scripts give as the property {@code sonde.home} (the launcher hands it to the framework too). Every relative
 * file of an operator's configuration is the home's.
 */
public final class Home {

    /** The property that names the home, as a system property and as a framework property. */
    public static final String PROPERTY = "sonde.home";

    private Home() {
    }

    /** @return the home as this process's system property names it, else the working directory; absolute */
    public static Path ofProcess() {
        return of(System::getProperty);
    }

    /**
     * @param properties where the property is read: a bundle's {@code BundleContext::getProperty}, which sees the
     *                   framework's properties and then the system's
     * @return the home they name, else the working directory; absolute
     */
    public static Path of(UnaryOperator<String> properties) {
        return given(properties).orElse(Path.of("").toAbsolutePath());
    }

    /**
     * @return the home the properties name, absolute; empty where none is named (a framework that is no agent's or
     *         server's: an embedded one, a test's), for what only a home has (its plugins/, its state files)
     */
    public static Optional<Path> given(UnaryOperator<String> properties) {
        String home = properties.apply(PROPERTY);
        return home == null ? Optional.empty() : Optional.of(Path.of(home).toAbsolutePath().normalize());
    }
}
