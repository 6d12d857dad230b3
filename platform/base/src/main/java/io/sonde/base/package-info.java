/**
 * What every Sonde process does with files and threads, done once: a file replaced whole and durably
 * ({@link io.sonde.base.AtomicFiles}), the process's home ({@link io.sonde.base.Home}), named daemon
 * threads ({@link io.sonde.base.DaemonThreads}). A bundle in {@code system/} for the framework's bundles,
 * and a jar on the launcher's class path ({@code system/boot/}) for the launcher and the command line.
 */
@Export
@Version("1.0.0")
package io.sonde.base;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
