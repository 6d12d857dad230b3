package io.sonde.core.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.sonde.agent.spi.TargetFactory;
import io.sonde.api.HostForm;
import io.sonde.api.Target;

/**
 * {@link TargetFactory}: targets made on request (the exporter's {@code /probe}, {@code sonde-cli},
 * the embedding library's checks) by the rules of configuration files, with the probers the core
 * knows now; their hosts looked up by the core's own {@link HostNames}.
 */
final class OnRequestTargets implements TargetFactory {

    /** A target made on request probes with these unless it says otherwise. */
    private static final TargetValidator.Defaults ON_REQUEST_DEFAULTS =
            new TargetValidator.Defaults(java.time.Duration.ofMillis(10_000), java.time.Duration.ofMillis(5_000));

    private final ProberKind.Lookup kinds;
    private final HostNames hostNames;

    OnRequestTargets(ProberKind.Lookup kinds, HostNames hostNames) {
        this.kinds = kinds;
        this.hostNames = hostNames;
    }


    @Override
    public Target create(Map<String, ?> settings, String source) {
        TargetValidator.Outcome outcome = TargetValidator.validate(settings, null, ON_REQUEST_DEFAULTS, source, source,
                kinds, HostNames.Check.NONE);
        if (outcome.state() == TargetValidator.State.NO_PROBER) {
            throw new IllegalArgumentException(source + ": key 'kind': no installed plugin registers probe.type="
                    + TargetValidator.canonicalKind(TargetValidator.text(settings.get("kind"))));
        }
        if (!outcome.problems().isEmpty()) {
            StringBuilder message = new StringBuilder();
            for (ConfigProblem p : outcome.problems()) {
                message.append(message.length() == 0 ? "" : "; ").append(p.message());
            }
            throw new IllegalArgumentException(message.toString());
        }
        return outcome.target();
    }

    @Override
    public List<String> check(String json, String source) {
        TargetsFile parsed;
        try {
            parsed = TargetsFile.of(json, source, new TargetsFile.Memo());
        } catch (TargetsFile.Unusable e) {
            return List.of(e.problem().message());
        }
        List<String> problems = new ArrayList<>();
        if (parsed.logLevel() != null) {
            try {
                TargetsFile.logLevel(parsed.logLevel());
            } catch (IllegalArgumentException e) {
                problems.add(source + ": key 'log_level': " + e.getMessage());
            }
        }
        Catalog alone = new Catalog(); // the rules of the agent's catalog, on this file only
        alone.setFile(source, parsed);
        Catalog.Result result = alone.recompute(kinds, HostNames.Check.NONE);
        problems.addAll(result.newProblems());
        for (int i = 0; i < parsed.entries().size(); i++) { // the agent waits for these; a check names them
            Map<String, Object> raw = parsed.entries().get(i);
            String kind = raw == null ? null : TargetValidator.text(raw.get("kind"));
            if (kind != null && !kind.isBlank() && kinds.kind(TargetValidator.canonicalKind(kind)) == null) {
                String name = TargetValidator.text(raw.get("name"));
                problems.add(source + " targets[" + i + "]" + (name == null ? "" : " \"" + name.strip() + "\"")
                        + ": key 'kind': no installed plugin registers probe.type=" + TargetValidator.canonicalKind(kind));
            }
        }
        return problems;
    }

    @Override
    public CompletionStage<Resolved> resolve(Target target) {
        ProberKind kind = kinds.kind(target.kind());
        HostForm form = kind == null || kind.schema() == null ? HostForm.NAME : kind.schema().host();
        String name = form.lookupName(target.host());
        if (name == null) {
            return CompletableFuture.completedFuture(new Resolved(target, null));
        }
        return hostNames.address(name, target.ipVersion()).thenApply(address -> new Resolved(form == HostForm.NAME
                ? new Target(target.name(), target.kind(), address.getHostAddress(), target.port(), target.interval(),
                        target.timeout(), target.tags(), target.options(), target.source())
                : target, address));
    }
}
