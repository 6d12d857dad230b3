package io.sonde.server.core.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.sonde.server.spi.AgentRecord;
import io.sonde.wire.AgentStatus;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/** What an agent's status says of its configuration and updates, as the server keeps it: checked and bounded. */
final class AgentConfigReport {

    private AgentConfigReport() {
    }

    /** What the status says of the configuration, bounded: names and reasons cut, at most so many entries. */
    static AgentRecord.ConfigReport of(AgentStatus s, Instant now) throws WireException {
        if (s.configSource() != null && !s.configSource().equals("server") && !s.configSource().equals("server-cache")) {
            throw new WireException(WireException.Problem.INVALID, "config_source: '" + WireCodec.abbreviate(s.configSource())
                    + "' is neither server nor server-cache");
        }
        List<AgentStatus.Rejected> rejected = new ArrayList<>();
        for (AgentStatus.Rejected r : s.configRejected()) {
            if (rejected.size() == AgentStatus.MAX_REJECTED) {
                break;
            }
            if (r == null) {
                continue;
            }
            rejected.add(new AgentStatus.Rejected(cut(r.name(), 200), cut(r.reason(), 1000)));
        }
        List<AgentStatus.Update> updates = new ArrayList<>();
        for (AgentStatus.Update u : s.updates()) {
            if (updates.size() == AgentStatus.MAX_REJECTED) {
                break;
            }
            if (u == null) {
                continue;
            }
            if (u.state() == null || !AgentStatus.UPDATE_STATES.contains(u.state())) {
                throw new WireException(WireException.Problem.INVALID, "updates[" + updates.size() + "].state: '"
                        + WireCodec.abbreviate(String.valueOf(u.state())) + "' is not one of " + String.join(", ", AgentStatus.UPDATE_STATES));
            }
            updates.add(new AgentStatus.Update(cut(u.symbolicName(), 255), cut(u.version(), 100), cut(u.rollout(), 200), u.state(),
                    u.reason() == null ? null : cut(u.reason(), 1000)));
        }
        return new AgentRecord.ConfigReport(s.configVersion() == null ? null : cut(s.configVersion(), 200), s.configSource(),
                rejected, now, updates);
    }

    private static String cut(String text, int max) {
        return text == null ? "" : text.length() <= max ? text : text.substring(0, max - 3) + "...";
    }
}
