package io.sonde.server.alerts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.time.Instant;

import org.junit.Test;

import com.google.gson.JsonParser;

import io.sonde.server.spi.AlertState;

/** The alert's life: for, recovery with its own threshold and time, repeat, no data, silences. */
public class StateMachineTest {

    static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");

    static AlertRule rule(String json) throws Exception {
        return AlertRule.parse("r", JsonParser.parseString(json).getAsJsonObject());
    }

    static Observation bad(boolean bad, boolean stillBad) {
        return new Observation("web", false, bad, stillBad, bad ? 1 : 0, "web", "");
    }

    /** Runs one evaluation a second from T0 + from to T0 + to, the observation the same; @return the events, one letter each (F, R, P for repeat, . for none) */
    static String run(AlertRule rule, AlertState[] state, Observation o, int from, int to, boolean silenced) {
        StringBuilder events = new StringBuilder();
        for (int s = from; s <= to; s++) {
            StateMachine.Step step = StateMachine.next(rule, state[0], o, T0.plusSeconds(s), silenced);
            state[0] = step.next();
            events.append(switch (step.event()) {
                case FIRING -> 'F';
                case RESOLVED -> 'R';
                case REPEAT -> 'P';
                default -> '.';
            });
        }
        return events.toString();
    }

    @Test
    public void firesAfterForAndResolvesAfterRecoverFor() throws Exception {
        AlertRule r = rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"3s\",\"recover_for\":\"2s\"}");
        AlertState[] s = {null};
        assertEquals("...F.", run(r, s, bad(true, true), 0, 4, false));
        assertEquals(StateMachine.FIRING, s[0].state());
        assertEquals(T0.plusSeconds(3), s[0].firedAt());
        assertEquals("..R", run(r, s, bad(false, false), 5, 7, false));
        assertEquals(StateMachine.OK, s[0].state());
        assertEquals(T0.plusSeconds(7), s[0].resolvedAt());
        assertNull(s[0].firedAt());
    }

    @Test
    public void aFlappingTargetNeverPagesAndAFiringOneIsNotResolvedByABlip() throws Exception {
        AlertRule r = rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"5s\"}");
        AlertState[] s = {null};
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 10; i++) { // down 2 s, up 2 s
            all.append(run(r, s, bad(true, true), i * 4, i * 4 + 1, false)).append(run(r, s, bad(false, false), i * 4 + 2, i * 4 + 3, false));
        }
        assertEquals("no page", -1, all.indexOf("F"));
        AlertState[] f = {null};
        assertEquals("F", run(rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"0s\",\"recover_for\":\"5s\"}"), f, bad(true, true), 0, 0, false));
        AlertRule r2 = rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"0s\",\"recover_for\":\"5s\"}");
        StringBuilder blips = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            blips.append(run(r2, f, bad(false, false), 1 + i * 4, 2 + i * 4, false)).append(run(r2, f, bad(true, true), 3 + i * 4, 4 + i * 4, false));
        }
        assertEquals("up for 2 s at a time: not resolved", -1, blips.indexOf("R"));
        assertEquals(StateMachine.FIRING, f[0].state());
    }

    @Test
    public void theRecoveryThresholdHoldsTheAlertUntilItIsCrossed() throws Exception {
        AlertRule r = rule("{\"type\":\"loss\",\"target\":\"gw\",\"threshold\":20,\"recovery\":5,\"for\":\"0s\",\"recover_for\":\"0s\"}");
        AlertState[] s = {null};
        assertEquals("F", run(r, s, bad(true, true), 0, 0, false));
        assertEquals("under the threshold, over the recovery: still firing", "...", run(r, s, bad(false, true), 1, 3, false));
        assertEquals("R", run(r, s, bad(false, false), 4, 4, false));
    }

    @Test
    public void repeatsWhileFiringAndNoDataIsNeitherDownNorResolved() throws Exception {
        AlertRule r = rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"0s\",\"repeat\":\"1m\"}");
        AlertState[] s = {null};
        assertEquals("F", run(r, s, bad(true, true), 0, 0, false));
        String minute = run(r, s, bad(true, true), 1, 120, false);
        assertEquals(2, minute.chars().filter(c -> c == 'P').count());
        assertEquals('P', minute.charAt(59));
        assertEquals("....", run(r, s, Observation.noData("web", "offline"), 121, 124, false));
        assertEquals(StateMachine.NODATA, s[0].state());
        assertEquals("keeps its start", T0, s[0].firedAt());
        assertEquals("data again, still down: no new page", ".", run(r, s, bad(true, true), 125, 125, false));
        assertEquals(StateMachine.FIRING, s[0].state());
        AlertState[] n = {null};
        assertEquals("a subject with no data from the start", "...", run(r, n, Observation.noData("web", "offline"), 0, 2, false));
        assertEquals(StateMachine.NODATA, n[0].state());
    }

    @Test
    public void aSilencedAlertTellsNoOneUntilTheSilenceEnds() throws Exception {
        AlertRule r = rule("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"0s\"}");
        AlertState[] s = {null};
        assertEquals("...", run(r, s, bad(true, true), 0, 2, true));
        assertEquals(StateMachine.FIRING, s[0].state());
        assertNull(s[0].notifiedAt());
        assertEquals("F.", run(r, s, bad(true, true), 3, 4, false));
        AlertState[] q = {null};
        run(r, q, bad(true, true), 0, 0, true);
        assertEquals("resolved while silenced, never told: nothing to take back", ".", run(r, q, bad(false, false), 1, 1, true));
    }
}
