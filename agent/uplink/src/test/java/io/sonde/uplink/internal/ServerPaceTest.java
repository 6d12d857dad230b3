package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

import io.sonde.wire.BatchAck;
import io.sonde.wire.WireCodec;

/** What the server's answers to batches say of the agent's pace (UplinkIT shows the agent following it). */
public class ServerPaceTest {

    @Test
    public void whileAnswersSayTheDocumentsVersionItIsAskedForOnceAMinuteElseAtTheAgentsOwnPace() {
        assertEquals("never told", 5000, Uplink.configPollMs(5000, System.currentTimeMillis()));
        assertEquals("told a moment ago", Uplink.TOLD_CONFIG_POLL_MS, Uplink.configPollMs(5000, 1000));
        assertEquals("told, and an own pace slower still", 3_600_000, Uplink.configPollMs(3_600_000, 1000));
        assertEquals("told too long ago: the server stopped saying", 5000,
                Uplink.configPollMs(5000, Uplink.VERSION_TOLD_FOR_MS));
    }

    @Test
    public void anAnswerOfAnOlderServerSaysNothingOfThePace() {
        BatchAck old = WireCodec.gson().fromJson("{\"schema\":1,\"accepted\":3,\"duplicates\":0}", BatchAck.class);
        assertEquals(0, old.batchIntervalMs());
        assertEquals(null, old.configVersion());
        BatchAck now = WireCodec.gson().fromJson("{\"schema\":1,\"accepted\":3,\"duplicates\":1,\"batch_interval_ms\":5000,"
                + "\"config_version\":\"c0ffee\"}", BatchAck.class);
        assertEquals(new BatchAck(1, 3, 1, 5000, "c0ffee"), now);
        assertEquals(new BatchAck(1, 3, 1).with(5000, "c0ffee"), now);
        assertEquals("an answer before 1.6 asks for no status", false, now.statusWanted());
        BatchAck asking = WireCodec.gson().fromJson("{\"schema\":1,\"accepted\":3,\"duplicates\":1,\"batch_interval_ms\":5000,"
                + "\"config_version\":\"c0ffee\",\"status_wanted\":true}", BatchAck.class);
        assertEquals(new BatchAck(1, 3, 1).with(5000, "c0ffee", true), asking);
        assertEquals("{\"schema\":1,\"accepted\":3,\"duplicates\":1,\"batch_interval_ms\":5000,\"config_version\":\"c0ffee\","
                + "\"status_wanted\":true}", new String(WireCodec.json(asking), java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A status goes when nothing else was answered for the interval, every 5 minutes, and first of all; not while batches are answered. */
    @Test
    public void aStatusWithoutAChangeGoesOnlyWhenTheAgentWasQuietForItsIntervalOrEveryFiveMinutes() {
        long t = 1_000_000_000L;
        assertEquals("the first", true, Uplink.statusNeeded(t, 0, 0, 15_000));
        assertEquals("batches answered a second ago", false, Uplink.statusNeeded(t, t - 60_000, t - 1000, 15_000));
        assertEquals("nothing answered for 14.999 s", false, Uplink.statusNeeded(t, t - 60_000, t - 14_999, 15_000));
        assertEquals("nothing answered for the interval", true, Uplink.statusNeeded(t, t - 60_000, t - 15_000, 15_000));
        assertEquals("busy, but five minutes since the last status", true,
                Uplink.statusNeeded(t, t - BatchAck.STATUS_REFRESH_MS, t - 1000, 15_000));
        assertEquals("busy, a moment before the five minutes", false,
                Uplink.statusNeeded(t, t - BatchAck.STATUS_REFRESH_MS + 1, t - 1000, 15_000));
    }

    /** A result that changes its target's outcome is sent at once; the first of a target, and the same again, wait for the pace. */
    @Test
    public void aChangedOutcomeIsSentAtOnce() {
        java.util.Map<String, Boolean> outcomes = new java.util.HashMap<>();
        assertEquals("a target's first result", false, Uplink.changed(outcomes, "tcp/a", true));
        assertEquals(false, Uplink.changed(outcomes, "tcp/a", true));
        assertEquals("down", true, Uplink.changed(outcomes, "tcp/a", false));
        assertEquals("still down", false, Uplink.changed(outcomes, "tcp/a", false));
        assertEquals("another kind's target of the same name is another target", false, Uplink.changed(outcomes, "icmp/a", true));
        assertEquals("back", true, Uplink.changed(outcomes, "tcp/a", true));
        io.sonde.api.Target t = new io.sonde.api.Target("b", "tcp", "127.0.0.1", 1, java.time.Duration.ofSeconds(1),
                java.time.Duration.ofMillis(500), java.util.Set.of(), java.util.Map.of(), "test");
        assertEquals("tcp/b", Uplink.outcomeKey(t));
        Uplink.changed(outcomes, Uplink.outcomeKey(t), true);
        outcomes.remove(Uplink.outcomeKey(t)); // as targetRemoved does
        assertEquals("a target removed and come back starts afresh", false, Uplink.changed(outcomes, "tcp/b", false));
        outcomes.remove("tcp/b");
        assertEquals(true, ServerExchange.refusedForGood(422));
        assertEquals(true, ServerExchange.refusedForGood(400));
        assertEquals(true, ServerExchange.refusedForGood(413));
        assertEquals("busy is not for good", false, ServerExchange.refusedForGood(429));
        assertEquals(false, ServerExchange.refusedForGood(503));
        for (int i = 0; outcomes.size() < Uplink.MAX_OUTCOMES; i++) {
            Uplink.changed(outcomes, "tcp/t" + i, true);
        }
        assertEquals("a target known before is told at the bound", true, Uplink.changed(outcomes, "tcp/a", false));
        assertEquals("a new one at the bound: the outcomes start again", false, Uplink.changed(outcomes, "tcp/new", false));
        assertEquals(1, outcomes.size());
    }

    /** A busy answer keeps the poll slow where answers told the version, and changes nothing where none did. */
    @Test
    public void aBusyServerIsNotAskedForTheDocumentAtTheAgentsOwnPace() {
        long now = 10_000_000;
        assertEquals("never told: the agent's own pace stays", 0, Uplink.toldAfterBusy(0, now));
        long told = Uplink.toldAfterBusy(now - 3 * Uplink.VERSION_TOLD_FOR_MS, now);
        assertEquals(now, told);
        assertEquals("turned away for minutes: still the slow poll", Uplink.TOLD_CONFIG_POLL_MS, Uplink.configPollMs(5000, now - told));
    }
}
