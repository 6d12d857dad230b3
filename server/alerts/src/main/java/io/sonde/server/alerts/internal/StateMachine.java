package io.sonde.server.alerts.internal;

import java.time.Duration;
import java.time.Instant;

import io.sonde.server.spi.AlertState;

/**
 * One alert's life per (rule, subject): ok → pending → firing → resolving → ok. It fires once the
 * condition has held for the rule's {@code for}, resolves once the recovery (a threshold of its
 * own: hysteresis) has held for {@code recover_for}, and is repeated to its receivers every
 * {@code repeat} while it fires. A subject without data is {@code nodata}: neither down nor
 * resolved, a firing alert keeping its start. A silenced alert is evaluated the same, but its
 * receivers are told nothing until the silence ends.
 */
final class StateMachine {

    static final String OK = "ok";
    static final String PENDING = "pending";
    static final String FIRING = "firing";
    static final String RESOLVING = "resolving";
    static final String NODATA = "nodata";

    /** What the receivers are told after a step. */
    enum Event {
        NONE, FIRING, REPEAT, RESOLVED
    }

    /** @param next the state to keep; @param event what to tell the receivers */
    record Step(AlertState next, Event event) {
    }

    private StateMachine() {
    }

    private static boolean held(Instant since, Duration d, Instant now) {
        return !now.isBefore(since.plus(d));
    }

    static Step next(AlertRule rule, AlertState prev, Observation o, Instant now, boolean silenced) {
        String state = prev == null ? OK : prev.state();
        Instant since = prev == null ? now : prev.since();
        Instant firedAt = prev == null ? null : prev.firedAt();
        Instant notifiedAt = prev == null ? null : prev.notifiedAt();
        Instant resolvedAt = prev == null ? null : prev.resolvedAt();
        String detail = o.summary() + (o.detail().isEmpty() ? "" : ": " + o.detail());
        if (o.nodata()) {
            AlertState s = new AlertState(rule.name(), o.subject(), NODATA, state.equals(NODATA) ? since : now, Double.NaN, firedAt, notifiedAt,
                    resolvedAt, o.detail());
            return new Step(s, Event.NONE);
        }
        if (state.equals(NODATA)) { // data again: on from where it was, firing or not
            state = firedAt != null ? FIRING : OK;
            since = now;
        }
        switch (state) {
            case PENDING -> {
                if (!o.bad()) {
                    return new Step(new AlertState(rule.name(), o.subject(), OK, now, o.value(), null, notifiedAt, resolvedAt, detail), Event.NONE);
                }
                if (held(since, rule.pending(), now)) {
                    return fire(rule, o, now, silenced, resolvedAt, detail);
                }
                return new Step(new AlertState(rule.name(), o.subject(), PENDING, since, o.value(), null, notifiedAt, resolvedAt, detail), Event.NONE);
            }
            case FIRING, RESOLVING -> {
                if (o.stillBad()) {
                    Instant firingSince = state.equals(FIRING) ? since : firedAt;
                    return firing(rule, o, now, silenced, firingSince, firedAt, notifiedAt, resolvedAt, detail);
                }
                Instant recoveringSince = state.equals(RESOLVING) ? since : now;
                if (held(recoveringSince, rule.recoverFor(), now)) {
                    AlertState s = new AlertState(rule.name(), o.subject(), OK, now, o.value(), null, null, now, detail);
                    return new Step(s, notifiedAt != null ? Event.RESOLVED : Event.NONE);
                }
                return new Step(new AlertState(rule.name(), o.subject(), RESOLVING, recoveringSince, o.value(), firedAt, notifiedAt, resolvedAt,
                        detail), Event.NONE);
            }
            default -> { // ok
                if (!o.bad()) {
                    return new Step(new AlertState(rule.name(), o.subject(), OK, state.equals(OK) && prev != null ? since : now, o.value(), null,
                            null, resolvedAt, detail), Event.NONE);
                }
                if (rule.pending().isZero()) {
                    return fire(rule, o, now, silenced, resolvedAt, detail);
                }
                return new Step(new AlertState(rule.name(), o.subject(), PENDING, now, o.value(), null, null, resolvedAt, detail), Event.NONE);
            }
        }
    }

    private static Step fire(AlertRule rule, Observation o, Instant now, boolean silenced, Instant resolvedAt, String detail) {
        AlertState s = new AlertState(rule.name(), o.subject(), FIRING, now, o.value(), now, silenced ? null : now, resolvedAt, detail);
        return new Step(s, silenced ? Event.NONE : Event.FIRING);
    }

    private static Step firing(AlertRule rule, Observation o, Instant now, boolean silenced, Instant since, Instant firedAt, Instant notifiedAt,
            Instant resolvedAt, String detail) {
        Event e = Event.NONE;
        Instant told = notifiedAt;
        if (!silenced && notifiedAt == null) {
            e = Event.FIRING; // a silence ended, or the receivers were never told
            told = now;
        } else if (!silenced && held(notifiedAt, rule.repeat(), now)) {
            e = Event.REPEAT;
            told = now;
        }
        return new Step(new AlertState(rule.name(), o.subject(), FIRING, since, o.value(), firedAt, told, resolvedAt, detail), e);
    }
}
