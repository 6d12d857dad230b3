package io.sonde.server.spi;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The signed bundle releases the server hands the agents' updaters: their metadata and jars.
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface ReleaseStore {

    /**
     * Stores a release and its jar, once: the same release again changes nothing.
     *
     * @param release its manifest, checked by the caller
     * @param jar     its bytes, {@code release.size()} of them
     * @return false when this release was already there, byte for byte
     * @throws StoreException {@link StoreException.Kind#REFUSED} when its version is there with other bytes
     * @since 1.3
     */
    boolean putRelease(Release release, java.io.InputStream jar) throws StoreException;

    /** @return every release, by symbolic name and version @since 1.3 */
    List<Release> releases() throws StoreException;

    /** @return one release, without its jar @since 1.3 */
    Optional<Release> release(String symbolicName, String version) throws StoreException;

    /**
     * Copies a release's jar to {@code out}, streamed.
     *
     * @return false when there is no such release
     * @since 1.3
     */
    boolean copyReleaseJar(String symbolicName, String version, java.io.OutputStream out) throws StoreException, java.io.IOException;
}
