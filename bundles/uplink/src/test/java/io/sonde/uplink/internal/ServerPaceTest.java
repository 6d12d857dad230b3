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
    }
}
