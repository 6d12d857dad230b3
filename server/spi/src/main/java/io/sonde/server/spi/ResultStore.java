package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import io.sonde.wire.WireResult;

/**
 * The results: ingest (exactly once per agent, epoch and sequence), the results and series queries,
 * the windows the health model reads, each series' latest word, and the uptime the rollups counted.
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface ResultStore {

    /**
     * @return the sequence counts of an agent's spool epochs, the newest epoch first (empty for an
     *         agent that sent nothing)
     * @since 1.6
     */
    List<EpochCount> epochCounts(String agentId) throws StoreException;

    /**
     * @return per agent with any, the results it numbered and the server never got (the sum of
     *         {@link EpochCount#gaps()} over its epochs); agents without gaps are not listed
     * @since 1.6
     */
    Map<String, Long> resultGaps() throws StoreException;

    /**
     * Stores results of one agent and spool epoch, each identity once, all or nothing.
     *
     * @return how many were new; the rest were stored before
     */
    int ingest(String agentId, String epoch, List<WireResult> results) throws StoreException;

    /** Raw results, oldest first, paged. */
    Page<StoredResult> results(ResultQuery query) throws StoreException;

    /** Per step statistics of response times; steps without results are left out. */
    List<SeriesStep> series(SeriesQuery query) throws StoreException;

    /**
     * Per agent and target, what its results that started in [{@code from}, {@code to}) say.
     *
     * @since 1.4
     */
    List<SeriesWindow> window(Instant from, Instant to) throws StoreException;

    /**
     * Per agent and target whose name begins with {@code targetPrefix} (a mesh's:
     * {@code mesh/<mesh>/<kind>/}), what its results that started in [{@code from}, {@code to}) say.
     *
     * @since 1.12
     */
    default List<SeriesWindow> window(String targetPrefix, Instant from, Instant to) throws StoreException {
        List<SeriesWindow> out = new java.util.ArrayList<>();
        for (SeriesWindow w : window(from, to)) {
            if (w.target().startsWith(targetPrefix)) {
                out.add(w);
            }
        }
        return out;
    }

    /** @return the latest result of an agent for a target, if it has one @since 1.4 */
    Optional<StoredResult> latest(String agentId, String target) throws StoreException;

    /** @return every (agent, target, kind) that has results @since 1.4 */
    List<SeriesName> seriesNames() throws StoreException;

    /** @return results stored */
    long resultCount() throws StoreException;

    /**
     * @return results stored, as cheaply as the database can say it: for metrics scraped every few
     *         seconds (PostgreSQL: the planner's estimate, not a count of millions of rows)
     */
    default long resultCountEstimate() throws StoreException {
        return resultCount();
    }

    /**
     * @return the latest word of each agent on each target it has results for (one per series),
     *         kept by {@link #ingest} in the results' own transaction
     * @since 1.5
     */
    List<TargetState> targetStates() throws StoreException;

    /**
     * Each target's minutes per state (and each vantage agent's), summed over the days in
     * [{@code from}, {@code to}) or one row a day, as the uptime job counted them so far
     * ({@link #uptimeThrough}).
     *
     * @param target one target's rows, or null for every target's
     * @param byDay  one row per day, else one per target and agent over the range
     * @since 1.16
     */
    default List<Uptime> uptime(Instant from, Instant to, String target, boolean byDay) throws StoreException {
        return List.of();
    }

    /**
     * @param target one target's outages, or null for every target's
     * @return the targets' outages that overlap [{@code from}, {@code to}), minutes down one after
     *         the other joined across hours and days, by target and start
     * @since 1.16
     */
    default List<Uptime.Outage> outages(Instant from, Instant to, String target) throws StoreException {
        return List.of();
    }

    /** @return the end of the last hour the uptime job counted, or null before its first @since 1.16 */
    default Instant uptimeThrough() throws StoreException {
        return null;
    }

    /**
     * The labels the agents' results carry for each target (a target's labels on the agent: its
     * {@code labels} key, a mesh's {@code mesh} and {@code peer}), as each series last had them;
     * a target probed by several agents has the labels of them all.
     *
     * @return labels by name, by target; targets without labels left out
     * @since 1.17
     */
    default java.util.Map<String, java.util.Map<String, String>> targetLabels() throws StoreException {
        return java.util.Map.of();
    }
}
