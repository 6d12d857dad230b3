package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.AlertState;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Secrets;
import io.sonde.server.spi.SeriesWindow;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireException;

/**
 * Evaluates the alert rules every {@code alert_eval_s} seconds and delivers what the outbox holds
 * every second, both on the one server that leads the servers of its database (so each alert is
 * sent once however many servers there are), both from the store (so another server carries on
 * where this one stopped). The delivery is the {@link Outbox}'s; what a rule observes beyond the
 * round's windows is read by a {@link StoredLookup}; the maintenance windows are
 * {@link StoredMaintenance}'s, the server's maintenance calendar.
 */
@Component(service = {AlertService.class, Collector.class}, configurationPid = "io.sonde.server", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true)
@org.osgi.service.metatype.annotations.Designate(ocd = AlertService.Config.class)
public final class AlertService extends Collector {

    private static final Logger LOG = LoggerFactory.getLogger(AlertService.class);
    /** How long a resolved alert stays listed. */
    static final Duration KEEP_RESOLVED = Duration.ofDays(1);
    /** How often a firing alert is sent again to an Alertmanager, which otherwise resolves it after its resolve_timeout. */
    static final Duration ALERTMANAGER_REFRESH = Duration.ofMinutes(1);
    /** Most alert rules kept. */
    static final int MAX_RULES = 1000;

    /** The server's configuration keys read here ({@code etc/io.sonde.server.cfg}). */
    @org.osgi.service.metatype.annotations.ObjectClassDefinition(name = "Sonde server: alerts",
            description = "How often the alert rules are evaluated, and the key that signs webhooks")
    @interface Config {
        @org.osgi.service.metatype.annotations.AttributeDefinition(description = "Seconds between two evaluations of the alert rules", min = "1")
        int alert__eval__s() default 10;

        @org.osgi.service.metatype.annotations.AttributeDefinition(description = "The HMAC key of webhook signatures; made at first start when missing")
        String alert__webhook__key__file() default "data/alerts/webhook.key";

        @org.osgi.service.metatype.annotations.AttributeDefinition(description = "PEM CA certificates trusted for HTTPS and SMTP receivers beside the JDK's (an in-house CA); empty: the JDK's alone")
        String alert__ca__file() default "";

        @org.osgi.service.metatype.annotations.AttributeDefinition(description = "The server's address as people reach it (https://sonde.example.com): messages link to the target's page there; empty: no link")
        String public__url() default "";
    }

    private final Store store;
    private final Outbox outbox;
    private final StoredMaintenance calendar;
    private final Duration offlineAfter;
    private final ScheduledExecutorService threads;
    private final AtomicLong evaluations = new AtomicLong();
    private volatile double lastEvaluationSeconds;
    private volatile Map<String, Long> byState = Map.of();
    private volatile boolean leading;
    private Instant lastRefresh = Instant.EPOCH; // the evaluator's

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile AgentConfigs configs;

    /** The operator's IP-to-AS table, for new_as rules. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    private volatile io.sonde.asn.AsnLookup asns;

    @Activate
    public AlertService(BundleContext context, @Reference Store store, @Reference io.sonde.server.spi.OfflineRule offline,
            @Reference StoredMaintenance calendar, Config config) throws IOException {
        this.store = store;
        this.calendar = calendar;
        this.offlineAfter = offline.offlineAfter();
        Path home = io.sonde.base.Home.of(context::getProperty);
        this.outbox = new Outbox(store, new Notifier(webhookKey(home.resolve(config.alert__webhook__key__file().strip())),
                tls(home, config.alert__ca__file()), publicUrl(config.public__url())));
        this.threads = Executors.newScheduledThreadPool(2, io.sonde.base.DaemonThreads.named("sonde-alerts"));
        int every = Math.max(1, config.alert__eval__s());
        threads.scheduleWithFixedDelay(() -> guarded("evaluation", this::evaluate), every, every, TimeUnit.SECONDS);
        threads.scheduleWithFixedDelay(() -> guarded("delivery", outbox::deliver), 1, 1, TimeUnit.SECONDS);
        LOG.info("Alerts: rules evaluated every {} s; webhooks signed with the key in {}", every, config.alert__webhook__key__file());
    }

    @Deactivate
    void deactivate() {
        threads.shutdownNow();
        try {
            threads.awaitTermination(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * @return the public URL checked: empty, or an http(s) URL with a host; a bad one is logged as an error naming the key and
     *         left out (messages go without links: a typo does not stop the paging)
     */
    static String publicUrl(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            return t;
        }
        try {
            java.net.URI u = new java.net.URI(t);
            if (u.getScheme() != null && (u.getScheme().equals("http") || u.getScheme().equals("https")) && u.getHost() != null) {
                return t;
            }
        } catch (java.net.URISyntaxException e) {
            // said below
        }
        LOG.error("Alerts: public_url '{}' is not an http(s) URL with a host (https://sonde.example.com): messages go without links", t);
        return "";
    }

    /** @return the receivers' TLS context; a CA file that cannot be read is logged as an error naming it, and the JDK's CAs alone used */
    static javax.net.ssl.SSLContext tls(Path home, String caFile) throws IOException {
        String ca = caFile == null ? "" : caFile.strip();
        if (!ca.isEmpty()) {
            try {
                return Notifier.tls(home.resolve(ca));
            } catch (IOException e) {
                LOG.error("Alerts: alert_ca_file: {}: receivers are checked against the JDK's CAs alone", e.getMessage());
            }
        }
        return Notifier.tls(null);
    }

    /** The webhook key: made at first start (32 random bytes, 0600), never logged. */
    static byte[] webhookKey(Path file) throws IOException {
        if (!Files.exists(file)) {
            Secrets.writePrivate(file, (Secrets.token("") + "\n").getBytes(StandardCharsets.US_ASCII));
            LOG.info("Alerts: a webhook signing key was written to {} (mode 0600); give it to your webhook receivers", file);
        }
        String k = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (k.length() < 16) {
            throw new IOException(file + ": the webhook key is shorter than 16 characters");
        }
        return k.getBytes(StandardCharsets.UTF_8);
    }

    private interface Job {
        void run() throws Exception;
    }

    private void guarded(String what, Job job) {
        try {
            boolean lead = store.leads();
            if (lead != leading) {
                leading = lead;
                LOG.info(lead ? "Alerts: this server evaluates the alert rules and sends the notifications"
                        : "Alerts: another server of this database evaluates the alert rules");
            }
            if (lead) {
                job.run();
            }
        } catch (StoreException e) {
            LOG.warn("Alerts: {} postponed: {}", what, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception | LinkageError e) {
            LOG.error("Alerts: {} failed", what, e);
        }
    }

    /** @return the rules as stored, each checked again (a stored rule that no longer parses is skipped, with a log line) */
    List<AlertRule> rules() throws StoreException {
        List<AlertRule> out = new ArrayList<>();
        for (Definition d : store.definitions(Definition.ALERT_RULE)) {
            try {
                out.add(AlertRule.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject()));
            } catch (Exception e) {
                LOG.warn("Alerts: stored rule '{}' is skipped: {}", d.name(), e.getMessage());
            }
        }
        return out;
    }

    List<Silence> silences() throws StoreException {
        List<Silence> out = new ArrayList<>();
        for (Definition d : store.definitions(Definition.SILENCE)) {
            try {
                out.add(Silence.fromJson(JsonParser.parseString(d.body()).getAsJsonObject()));
            } catch (RuntimeException e) {
                LOG.warn("Alerts: stored silence '{}' is skipped: {}", d.name(), e.getMessage());
            }
        }
        return out;
    }

    /** @return the maintenance windows as stored, for the evaluation and the alerts API */
    List<Maintenance> maintenance() throws StoreException {
        return calendar.windows();
    }

    /** @return the tags of each target (its definition's, and its labels as name=value), by name */
    Map<String, List<String>> targetTags() throws StoreException {
        return io.sonde.server.spi.FleetHealth.targetTags(store);
    }

    /** @return the name of an open window that covers an alert of the rule about the subject, or null */
    static String maintenance(List<Maintenance> windows, AlertRule rule, String subject, Map<String, List<String>> targetTags,
            Map<String, AgentRecord> agents, Instant now) {
        for (Maintenance m : windows) {
            if (!m.openAt(now)) {
                continue;
            }
            List<String> tags;
            if (rule.type().aboutTargets) {
                tags = targetTags.getOrDefault(subject, List.of());
            } else {
                AgentRecord a = agents.get(subject);
                tags = a == null ? List.of() : a.tags();
            }
            if (m.covers(rule.name(), subject, rule.type().aboutTargets, tags)) {
                return m.name();
            }
        }
        return null;
    }

    static boolean silenced(List<Silence> silences, AlertRule rule, String subject, Instant now) {
        for (Silence s : silences) {
            if (s.activeAt(now) && s.matches(rule.name(), subject, rule.severity())) {
                return true;
            }
        }
        return false;
    }

    /** One round: every rule, every subject, the states kept and the notifications queued. */
    void evaluate() throws StoreException {
        long t0 = System.nanoTime();
        Instant now = Instant.now();
        List<AlertRule> rules = rules();
        List<Silence> silences = silences();
        List<Maintenance> maintenance = maintenance();
        Map<String, AgentRecord> agents = new HashMap<>();
        for (AgentRecord a : store.agents()) {
            agents.put(a.agentId(), a);
        }
        List<Definition> definitions = store.definitions(Definition.TARGET);
        Map<String, Map<String, String>> stored = store.targetLabels();
        Map<String, List<String>> targetTags = io.sonde.server.spi.FleetHealth.targetTags(definitions, stored);
        Map<String, java.util.SortedMap<String, String>> targetLabels = io.sonde.server.spi.FleetHealth.targetLabels(definitions, stored);
        Map<String, Map<String, AlertState>> states = new HashMap<>();
        for (AlertState s : store.alertStates()) {
            states.computeIfAbsent(s.rule(), k -> new HashMap<>()).put(s.subject(), s);
        }
        Map<Duration, List<SeriesWindow>> windows = new HashMap<>();
        List<io.sonde.server.spi.FleetHealth.TargetHealth> health = null; // for target_down rules, once per evaluation
        Observe.Lookup lookup = new StoredLookup(store, now, asns, configs);
        Map<String, Long> tally = new HashMap<>();
        boolean refresh = !now.isBefore(lastRefresh.plus(ALERTMANAGER_REFRESH));
        Set<String> ruleNames = new HashSet<>();
        Set<String> unreachable = new HashSet<>(); // Alertmanagers that failed a refresh this round
        Map<String, Optional<NamedReceiver>> named = new HashMap<>(); // receivers read this round
        for (AlertRule rule : rules) {
            ruleNames.add(rule.name());
            Map<String, AlertState> before = states.getOrDefault(rule.name(), Map.of());
            List<Observation> seen;
            if (rule.type() == AlertRule.Type.TARGET_DOWN) {
                if (health == null) {
                    health = io.sonde.server.spi.FleetHealth.compute(store.targetStates(), agents, store.definitions(Definition.TARGET),
                            List.of(), now, offlineAfter);
                }
                seen = Observe.targetsDown(rule, health, agents, targetTags);
            } else if (rule.type().aboutTargets) {
                List<SeriesWindow> w = windows.get(rule.window());
                if (w == null) {
                    w = store.window(now.minus(rule.window()), now);
                    windows.put(rule.window(), w);
                }
                seen = Observe.targets(rule, w, agents, targetTags, before.keySet(), now, offlineAfter, lookup);
            } else {
                seen = Observe.agents(rule, agents, now, offlineAfter, lookup);
            }
            Set<String> subjects = new HashSet<>();
            for (Observation o : seen) {
                subjects.add(o.subject());
                AlertState prev = before.get(o.subject());
                boolean held = silenced(silences, rule, o.subject(), now)
                        || maintenance(maintenance, rule, o.subject(), targetTags, agents, now) != null;
                StateMachine.Step step = StateMachine.next(rule, prev, o, now, held);
                AlertState next = step.next();
                tally.merge(next.state(), 1L, Long::sum);
                if (prev == null && next.state().equals(StateMachine.OK)) {
                    continue; // nothing to remember
                }
                if (next.state().equals(StateMachine.OK) && (next.resolvedAt() == null || next.resolvedAt().isBefore(now.minus(KEEP_RESOLVED)))) {
                    store.deleteAlertState(rule.name(), o.subject());
                    continue;
                }
                // queued before the state is kept: a server that dies between the two sends it again
                // rather than never (the next leader finds the state not yet told)
                if (step.event() != StateMachine.Event.NONE) {
                    queue(rule, next, step.event(), o.summary(), now, labels(rule, o.subject(), targetLabels, agents));
                }
                if (!next.equals(prev)) {
                    store.putAlertState(next);
                }
                if (step.event() == StateMachine.Event.NONE && refresh && next.state().equals(StateMachine.FIRING) && next.notifiedAt() != null) {
                    refreshAlertmanagers(rule, next, o.summary(), unreachable, named, labels(rule, o.subject(), targetLabels, agents));
                }
            }
            for (String gone : before.keySet()) {
                if (!subjects.contains(gone)) {
                    store.deleteAlertState(rule.name(), gone); // an agent revoked, a target no rule takes any more
                }
            }
        }
        for (Map.Entry<String, Map<String, AlertState>> e : states.entrySet()) {
            if (!ruleNames.contains(e.getKey())) {
                for (String subject : e.getValue().keySet()) {
                    store.deleteAlertState(e.getKey(), subject); // its rule was deleted
                }
            }
        }
        if (refresh) {
            lastRefresh = now;
        }
        byState = tally;
        evaluations.incrementAndGet();
        lastEvaluationSeconds = (System.nanoTime() - t0) / 1e9;
    }

    /** @return an alert's labels: its target's, or for an agent's alert the agent's tags written name=value */
    static Map<String, String> labels(AlertRule rule, String subject, Map<String, ? extends Map<String, String>> targetLabels,
            Map<String, AgentRecord> agents) {
        if (rule.type().aboutTargets) {
            Map<String, String> l = targetLabels.get(subject);
            return l == null ? Map.of() : l;
        }
        AgentRecord a = agents.get(subject);
        return a == null ? Map.of() : io.sonde.agent.spi.TargetKeys.labels(a.tags());
    }

    /** Queues the message for each receiver of the rule whose {@code match} takes the alert's labels. */
    private void queue(AlertRule rule, AlertState s, StateMachine.Event event, String summary, Instant now, Map<String, String> labels)
            throws StoreException {
        String payload = Notifier.payload(rule, s, event, summary, labels).toString();
        for (AlertRule.Receiver r : rule.receivers()) {
            if (r.takes(labels)) {
                store.enqueue(r.key(), payload, now);
            }
        }
        LOG.info("Alerts: {} {} for {}: {}", rule.name(), event.name().toLowerCase(java.util.Locale.ROOT), s.subject(), summary);
    }

    /** A firing alert, sent again straight to the rule's Alertmanagers (best effort): they resolve what they stop hearing of. */
    private void refreshAlertmanagers(AlertRule rule, AlertState s, String summary, Set<String> unreachable,
            Map<String, Optional<NamedReceiver>> named, Map<String, String> labels) {
        for (AlertRule.Receiver r : rule.receivers()) {
            if (unreachable.contains(r.key()) || !r.takes(labels)) {
                continue;
            }
            try {
                NamedReceiver n = outbox.receiver(r, named);
                if (n == null || !n.channel().type().equals("alertmanager")) {
                    continue;
                }
                outbox.send(n, Notifier.payload(rule, s, StateMachine.Event.REPEAT, summary, labels).toString());
            } catch (IOException | StoreException | WireException e) {
                unreachable.add(r.key()); // not again this round: a receiver that is down does not hold the evaluation up per alert
                LOG.debug("Alerts: refresh of {} to {} failed: {}", rule.name(), r.where(), e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Sends a test message straight to one receiver, outside the outbox.
     *
     * @throws IOException saying why it was not delivered
     */
    void test(NamedReceiver receiver) throws IOException, InterruptedException {
        outbox.test(receiver);
    }

    /** Its metrics, served at the server's /metrics (a Collector service, by DS). */
    @Override
    public List<Collector.MetricFamilySamples> collect() {
        CounterMetricFamily sent = outbox.deliveries();
        GaugeMetricFamily alerts = new GaugeMetricFamily("sonde_server_alerts", "Alerts by state at the last evaluation", List.of("state"));
        Map<String, Long> s = byState;
        for (String state : List.of(StateMachine.OK, StateMachine.PENDING, StateMachine.FIRING, StateMachine.RESOLVING, StateMachine.NODATA)) {
            alerts.addMetric(List.of(state), s.getOrDefault(state, 0L));
        }
        List<Collector.MetricFamilySamples> out = new ArrayList<>(List.of(sent, alerts,
                new CounterMetricFamily("sonde_server_alert_evaluations_total", "Evaluations of the alert rules run by this server",
                        evaluations.get()),
                new GaugeMetricFamily("sonde_server_alert_evaluation_seconds", "How long the last evaluation of the alert rules took",
                        lastEvaluationSeconds),
                new GaugeMetricFamily("sonde_server_alert_leader", "1 if this server evaluates the alert rules and sends the notifications",
                        leading ? 1 : 0)));
        return out;
    }

    /** @return a rule's subjects and states, for the API */
    List<AlertState> states() throws StoreException {
        return store.alertStates();
    }

    /** @return an alert as the API shows it: a resolved one (ok with a resolution) as {@code resolved} */
    static JsonObject view(AlertState s, AlertRule rule, boolean silenced, String maintenance) {
        JsonObject o = new JsonObject();
        o.addProperty("rule", s.rule());
        if (rule != null) {
            o.addProperty("type", rule.type().id);
            o.addProperty("severity", rule.severity());
        }
        o.addProperty("subject", s.subject());
        boolean resolved = s.state().equals(StateMachine.OK) && s.resolvedAt() != null;
        o.addProperty("state", resolved ? "resolved" : s.state());
        o.addProperty("since", s.since().toString());
        o.addProperty("value", Double.isFinite(s.value()) ? s.value() : null);
        o.addProperty("fired_at", s.firedAt() == null ? null : s.firedAt().toString());
        o.addProperty("notified_at", s.notifiedAt() == null ? null : s.notifiedAt().toString());
        o.addProperty("resolved_at", s.resolvedAt() == null ? null : s.resolvedAt().toString());
        o.addProperty("silenced", silenced);
        o.addProperty("maintenance", maintenance);
        o.addProperty("detail", s.detail());
        return o;
    }

    /** @return the store it evaluates from, for the API's servlet */
    Store store() {
        return store;
    }
}
