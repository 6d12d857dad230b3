package io.sonde.server.store.internal;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

import io.sonde.server.spi.AlertState;
import io.sonde.server.spi.Notification;
import io.sonde.server.spi.StoreException;

/** The alerts' states (one row per rule and subject) and the notifications' durable outbox: tables alert_state, outbox. */
final class AlertTable {

    private static final String STATE_COLUMNS = "rule, subject, state, since_ms, val, fired_ms, notified_ms, resolved_ms, detail";
    private static final String OUTBOX_COLUMNS = "id, receiver, payload, created_ms, attempts, next_ms, sent_ms, last_error";
    /** The longest detail and delivery error kept. */
    private static final int DETAIL_CHARS = 4000;
    private static final int ERROR_CHARS = 1000;

    private final Sql sql;

    AlertTable(Sql sql) {
        this.sql = sql;
    }

    List<AlertState> states() throws StoreException {
        return sql.list("SELECT " + STATE_COLUMNS + " FROM alert_state ORDER BY rule, subject", rs -> {
            double v = rs.getDouble(5);
            if (rs.wasNull()) {
                v = Double.NaN;
            }
            return new AlertState(rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)), v,
                    Sql.instant(rs, 6), Sql.instant(rs, 7), Sql.instant(rs, 8), rs.getString(9));
        });
    }

    void put(AlertState a) throws StoreException {
        sql.transaction(c -> {
            Sql.update(c, "DELETE FROM alert_state WHERE rule = ? AND subject = ?", a.rule(), a.subject());
            try (PreparedStatement p = c.prepareStatement("INSERT INTO alert_state (" + STATE_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, a.rule());
                p.setString(2, a.subject());
                p.setString(3, a.state());
                p.setLong(4, a.since().toEpochMilli());
                if (Double.isFinite(a.value())) {
                    p.setDouble(5, a.value());
                } else {
                    p.setNull(5, java.sql.Types.DOUBLE);
                }
                Sql.setInstant(p, 6, a.firedAt());
                Sql.setInstant(p, 7, a.notifiedAt());
                Sql.setInstant(p, 8, a.resolvedAt());
                p.setString(9, a.detail().length() > DETAIL_CHARS ? a.detail().substring(0, DETAIL_CHARS) : a.detail());
                return p.executeUpdate();
            }
        });
    }

    void delete(String rule, String subject) throws StoreException {
        sql.update("DELETE FROM alert_state WHERE rule = ? AND subject = ?", rule, subject);
    }

    /** @return the id of the notification queued */
    long enqueue(String receiver, String payload, Instant now) throws StoreException {
        return sql.run(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO outbox (receiver, payload, created_ms, attempts, next_ms)"
                    + " VALUES (?, ?, ?, 0, ?)", new String[] {"id"})) {
                Sql.bind(p, receiver, payload, now.toEpochMilli(), now.toEpochMilli()).executeUpdate();
                try (ResultSet keys = p.getGeneratedKeys()) {
                    keys.next();
                    return keys.getLong(1);
                }
            }
        });
    }

    List<Notification> undelivered(int limit) throws StoreException {
        return sql.list("SELECT " + OUTBOX_COLUMNS + " FROM outbox WHERE sent_ms IS NULL AND next_ms < ? ORDER BY id LIMIT ?",
                AlertTable::notification, Long.MAX_VALUE, limit);
    }

    void sent(long id, Instant at) throws StoreException {
        sql.update("UPDATE outbox SET sent_ms = ? WHERE id = ?", at.toEpochMilli(), id);
    }

    void failed(long id, int attempts, Instant next, String error) throws StoreException {
        sql.update("UPDATE outbox SET attempts = ?, next_ms = ?, last_error = ? WHERE id = ?", attempts,
                next.equals(Instant.MAX) ? Long.MAX_VALUE : next.toEpochMilli(),
                error == null ? null : error.length() > ERROR_CHARS ? error.substring(0, ERROR_CHARS) : error, id);
    }

    /** @return the latest notifications, newest first */
    List<Notification> latest(int limit) throws StoreException {
        return sql.list("SELECT " + OUTBOX_COLUMNS + " FROM outbox ORDER BY id DESC LIMIT ?", AlertTable::notification, limit);
    }

    long pending() throws StoreException {
        return sql.count("SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL AND next_ms < ?", Long.MAX_VALUE);
    }

    private static Notification notification(ResultSet rs) throws SQLException {
        long next = rs.getLong(6);
        return new Notification(rs.getLong(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)), rs.getInt(5),
                next == Long.MAX_VALUE ? Instant.MAX : Instant.ofEpochMilli(next), Sql.instant(rs, 7), rs.getString(8));
    }
}
