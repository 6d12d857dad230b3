package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonParser;

import io.prometheus.client.CounterMetricFamily;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Notification;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireException;

/**
 * The alerts' outbox as the leading server delivers it: what is due, in order per receiver (one that
 * fails holds its later messages back, tried again with a growing pause up to a day, then given up);
 * test messages straight to a receiver; and what came of each, {@code sonde_server_notifications_total}.
 */
final class Outbox {

    private static final Logger LOG = LoggerFactory.getLogger(AlertService.class); // the alerts' one log
    /** A message not delivered within this is given up, and counted. */
    static final Duration GIVE_UP = Duration.ofDays(1);
    /** The longest pause between two tries of a message. */
    static final long MAX_BACKOFF_S = 300;

    private final Store store;
    private final Notifier notifier;
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>(); // "kind|outcome"

    Outbox(Store store, Notifier notifier) {
        this.store = store;
        this.notifier = notifier;
    }

    /**
     * @param cache receivers already read this round, by name
     * @return the receiver a rule's entry means: an inline webhook or Alertmanager, or the one defined under its name; null when
     *         that name is defined no more
     * @throws WireException when a stored definition no longer parses
     */
    NamedReceiver receiver(AlertRule.Receiver r, Map<String, Optional<NamedReceiver>> cache) throws StoreException, WireException {
        if (!r.named()) {
            return r.inline();
        }
        Optional<NamedReceiver> known = cache.get(r.url());
        if (known == null) {
            Optional<Definition> d = store.definition(Definition.RECEIVER, r.url());
            known = d.isEmpty() ? Optional.empty()
                    : Optional.of(NamedReceiver.parse(r.url(), JsonParser.parseString(d.get().body()).getAsJsonObject(), null));
            cache.put(r.url(), known);
        }
        return known.orElse(null);
    }

    /** Sends a message straight to a receiver, outside the outbox (an Alertmanager's refresh). */
    void send(NamedReceiver receiver, String payload) throws IOException, InterruptedException {
        notifier.send(receiver, payload, 0);
    }

    /**
     * Sends a test message straight to one receiver, outside the outbox.
     *
     * @throws IOException saying why it was not delivered
     */
    void test(NamedReceiver receiver) throws IOException, InterruptedException {
        try {
            notifier.send(receiver, Message.test(receiver.name(), Instant.now()), 0);
            count(receiver.channel().type(), "sent");
        } catch (IOException e) {
            count(receiver.channel().type(), "failed");
            throw e;
        }
    }

    /** Sends what is due, in order per receiver: one that fails holds its later messages back until its next try. */
    void deliver() throws StoreException, InterruptedException {
        Instant now = Instant.now();
        Set<String> held = new HashSet<>();
        Map<String, Optional<NamedReceiver>> named = new HashMap<>();
        for (Notification n : store.undeliveredNotifications(500)) {
            if (held.contains(n.receiver())) {
                continue;
            }
            if (n.nextAt().isAfter(now)) {
                held.add(n.receiver()); // not due: neither are the later ones of its receiver
                continue;
            }
            AlertRule.Receiver key;
            NamedReceiver r;
            try {
                key = AlertRule.Receiver.fromKey(n.receiver());
                r = receiver(key, named);
            } catch (RuntimeException | WireException e) {
                store.notificationFailed(n.id(), n.attempts() + 1, Instant.MAX, "not a receiver: " + e.getMessage());
                continue;
            }
            if (r == null) {
                store.notificationFailed(n.id(), n.attempts() + 1, Instant.MAX, "given up: " + key.where() + " is no longer defined");
                count(AlertRule.Receiver.NAMED, "abandoned");
                LOG.error("Alerts: notification {} given up: {} is no longer defined", n.id(), key.where());
                continue;
            }
            try {
                notifier.send(r, n.payload(), n.id());
                store.notificationSent(n.id(), Instant.now());
                count(r.channel().type(), "sent");
                LOG.info("Alerts: delivered notification {} to {}{}", n.id(), r.where(), n.attempts() > 0 ? " at try " + (n.attempts() + 1) : "");
            } catch (IOException e) {
                held.add(n.receiver());
                int attempts = n.attempts() + 1;
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                if (now.isAfter(n.createdAt().plus(GIVE_UP))) {
                    store.notificationFailed(n.id(), attempts, Instant.MAX, "given up after " + attempts + " tries: " + why);
                    count(r.channel().type(), "abandoned");
                    LOG.error("Alerts: notification {} to {} given up after {} tries in {}: {}", n.id(), r.where(), attempts, GIVE_UP, why);
                } else {
                    long pause = Math.min(MAX_BACKOFF_S, 1L << Math.min(attempts, 20));
                    store.notificationFailed(n.id(), attempts, now.plusSeconds(pause), why);
                    count(r.channel().type(), "failed");
                    LOG.warn("Alerts: notification {} to {} failed ({}), try {} in {} s", n.id(), r.where(), why, attempts + 1, pause);
                }
            }
        }
    }

    private void count(String kind, String outcome) {
        counts.computeIfAbsent(kind + "|" + outcome, k -> new AtomicLong()).incrementAndGet();
    }

    /** @return {@code sonde_server_notifications_total}: deliveries by receiver kind and outcome */
    CounterMetricFamily deliveries() {
        CounterMetricFamily sent = new CounterMetricFamily("sonde_server_notifications_total",
                "Notification deliveries by receiver kind and outcome: sent, failed (tried again later), abandoned", List.of("receiver", "outcome"));
        List<String> kinds = new ArrayList<>(Channel.ALL.stream().map(Channel::type).toList());
        kinds.add(AlertRule.Receiver.NAMED); // a receiver named but defined no more
        for (String kind : kinds) {
            for (String outcome : List.of("sent", "failed", "abandoned")) {
                AtomicLong c = counts.get(kind + "|" + outcome);
                sent.addMetric(List.of(kind, outcome), c == null ? 0 : c.get());
            }
        }
        return sent;
    }
}
