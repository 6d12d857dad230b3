package io.sonde.agent.spi;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The configuration document the server made for this agent, as the agent holds it now: registered
 * as a service by the bundle that fetches it (the uplink), once; its properties {@link #VERSION} and
 * {@link #ORIGIN} change when a new document is taken. Its {@code targets} are a third source of targets beside {@code etc/} and the
 * targets file; its {@code responder} and {@code meshes} are read by the bundles they concern.
 *
 * <p>The document is JSON: {@code {"schema": 1, "agent_id": ..., "version": ..., "targets": [...],
 * "meshes": [...], "responder": {"port": ...}}}; unknown fields are ignored.
 *
 * @since 1.5
 */
@ProviderType
public interface RemoteConfig {

    /** {@link Document#origin()} of a document the server has sent since the agent started. */
    String SERVER = "server";

    /** {@link Document#origin()} of the document kept on disk, in force until the server sends one. */
    String SERVER_CACHE = "server-cache";

    /** Service property: the version of the document in force; it changes with each new document. */
    String VERSION = "config.version";

    /** Service property: the origin of the document in force. */
    String ORIGIN = "config.origin";

    /** @return the document in force now */
    Document document();

    /**
     * One document, whole.
     *
     * @param version the document's version, as the server named it
     * @param json    the document as JSON text, checked as JSON of the right schema and agent
     * @param origin  {@link #SERVER} or {@link #SERVER_CACHE}
     */
    record Document(String version, String json, String origin) {
    }

    /**
     * What the agent made of this document, reported to the server with the agent's status.
     *
     * @param version  the version applied
     * @param rejected each entry refused, with its reason; empty when all were taken
     */
    void applied(String version, List<Rejected> rejected);

    /**
     * What the agent's updater did with the document's bundles, reported to the server with the
     * agent's status; each call replaces the last.
     *
     * @param updates one entry per bundle the updater acted on
     */
    void updated(List<BundleUpdate> updates);

    /**
     * @return when (epoch milliseconds) the server last took a batch of this agent's results from
     *         the uplink that registered this service, 0 when it has taken none yet: the updater's
     *         proof that an update left the uplink delivering
     * @since 1.6
     */
    long delivered();

    /**
     * @return the longest the uplink now waits between two batches, in milliseconds: the pace the
     *         server asks for; 0 when it sends as soon as it has results. The updater's watch waits
     *         that long for a delivery before it calls the uplink stopped.
     * @since 1.1
     */
    default long batchIntervalMs() {
        return 0;
    }

    /**
     * What the updater did with one bundle of the document.
     *
     * @param symbolicName the bundle
     * @param version      the version its rollout names
     * @param rollout      the rollout
     * @param state        {@code downloading}, {@code installing}, {@code watching}, {@code healthy} or {@code failed}
     * @param reason       why it failed, or null
     */
    record BundleUpdate(String symbolicName, String version, String rollout, String state, String reason) {
    }

    /**
     * An entry of the document the agent did not take.
     *
     * @param name   the entry's target name, or its place ({@code targets[3]}) when it has none
     * @param reason why, as the agent's log says it
     */
    record Rejected(String name, String reason) {
    }
}
