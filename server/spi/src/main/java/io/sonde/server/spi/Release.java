package io.sonde.server.spi;

import java.time.Instant;

/**
 * A bundle release in the server's repository: its signed manifest, checked when it was stored, and
 * where to find its jar.
 *
 * @param symbolicName the bundle's symbolic name
 * @param version      its version
 * @param sha256       the jar's SHA-256, lower-case hex
 * @param size         the jar's length in bytes
 * @param manifest     the release manifest as the owner signed it (JSON)
 * @param uploadedAt   when it was stored
 * @since 1.3
 */
public record Release(String symbolicName, String version, String sha256, long size, String manifest, Instant uploadedAt) {
}
