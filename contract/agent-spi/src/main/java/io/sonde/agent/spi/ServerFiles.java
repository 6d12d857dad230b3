package io.sonde.agent.spi;

import java.io.IOException;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Files the agent's server serves to its agents (bundle releases and their manifests), fetched
 * over the uplink's TLS with the agent's own credential. Registered by the uplink while it runs; until
 * the agent has enrolled, a fetch fails saying so. Nothing fetched is trusted for coming from there:
 * the caller verifies what it got.
 *
 * @since 1.5
 */
@ProviderType
public interface ServerFiles {

    /**
     * Fetches {@code path} into {@code target}, resuming: what {@code target} holds already is
     * taken as the file's first bytes and only the rest is asked for ({@code Range}).
     *
     * @param path     the server's path, e.g. {@code /api/v1/bundles/io.sonde.plugin.tcp/0.2.0/jar}
     * @param target   the file to write, created when missing
     * @param maxBytes the most bytes the whole file may have; a longer one is cut off and refused
     * @return the length of {@code target}: the whole file
     * @throws IOException saying why it could not be fetched whole: the server cannot be reached, it
     *                     refuses this agent, it has no such file, the file is longer than
     *                     {@code maxBytes}, the connection broke (what came is kept, for the next try)
     */
    long fetch(String path, Path target, long maxBytes) throws IOException;
}
