package io.sonde.plugin.tls.internal;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.X509ExtendedTrustManager;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;

/**
 * {@code kind=tls}: a TLS handshake with a server, directly or after the STARTTLS dialogue of
 * SMTP, IMAP, POP3, FTP or XMPP, as blackbox_exporter's tcp modules with {@code tls} or
 * {@code starttls} make it. It measures each phase (connect, starttls, handshake) and reports
 * the protocol and cipher, the certificate chain (its earliest expiry, the leaf's expiry, subject
 * and issuer, its length), whether it verified and named the host, and whether the server stapled
 * an OCSP response. A chain that does not verify fails the probe with reason {@code tls} unless
 * {@code insecure_skip_verify} is set; either way its certificates are reported.
 *
 * <p>Handshakes run on this prober's own threads (at most {@value #MAX_THREADS} at once; beyond,
 * a probe fails at once naming the limit), each bounded by the target's timeout; a cancelled
 * probe closes its socket.
 */
@Component(service = Prober.class)
@ProbeKind(type = "tls", cost = 10)
public final class TlsProber implements Prober {

    static final int MAX_THREADS = 64;
    /** How long a {@code ca_file}'s trust manager is used before the file is looked at again. */
    static final long TRUST_RECHECK_MS = 10_000;

    static final TargetOption STARTTLS = TargetOption.choice("starttls", "none",
            "The protocol's plain-text dialogue before TLS on the same connection, or none for TLS at once", "none", "smtp", "imap",
            "pop3", "ftp", "xmpp");
    static final TargetOption SERVER_NAME = TargetOption.text("server_name", "",
            "The name sent as SNI and checked against the certificate (default: the host)");
    static final TargetOption CA_FILE = TargetOption.file("ca_file",
            "PEM file of the CAs the chain must verify against (default: the JVM's trust store)");
    static final TargetOption INSECURE = TargetOption.bool("insecure_skip_verify", false,
            "Report a chain that does not verify instead of failing the probe");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, STARTTLS, SERVER_NAME, CA_FILE, INSECURE,
            io.sonde.sockets.Marking.SOURCE_ADDRESS, io.sonde.sockets.Marking.SOURCE_INTERFACE, io.sonde.sockets.Marking.DSCP);

    private record Trust(X509ExtendedTrustManager manager, String stamp, long checkedAt) {
    }

    private final Map<String, Trust> trust = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, MAX_THREADS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
            io.sonde.base.DaemonThreads.numbered("sonde-tls"));

    @Deactivate
    void deactivate() {
        pool.shutdownNow();
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public java.util.List<io.sonde.api.TargetProblem> check(Target target) {
        return io.sonde.sockets.Marking.problems(target);
    }

    @Override
    public ResultSchema resultSchema() {
        return TlsResults.SCHEMA;
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        Instant startedAt = Instant.now();
        X509ExtendedTrustManager manager;
        try {
            manager = trust(CA_FILE.value(target));
        } catch (GeneralSecurityException | IOException e) {
            result.complete(MeasuredResult.failure(target, startedAt, Duration.ZERO, FailureReason.TLS,
                    "ca_file " + CA_FILE.value(target) + " cannot be used: " + e.getMessage(), TlsResults.SCHEMA, Map.of()));
            return result;
        }
        Handshake.Settings settings = new Handshake.Settings(STARTTLS.value(target), SERVER_NAME.value(target), manager,
                INSECURE.booleanValue(target));
        AtomicReference<Socket> open = new AtomicReference<>();
        Future<?> task;
        try {
            task = pool.submit(() -> result.complete(new Handshake(target, settings, open).run()));
        } catch (RejectedExecutionException e) {
            result.complete(MeasuredResult.failure(target, startedAt, Duration.ZERO, FailureReason.ERROR,
                    MAX_THREADS + " TLS handshakes are under way already: this one was not started", TlsResults.SCHEMA, Map.of()));
            return result;
        }
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) { // the scheduler's timeout: stop waiting on the network
                task.cancel(true);
                Socket s = open.get();
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing is all that is asked
                    }
                }
            }
        });
        return result;
    }

    /** The trust manager of a CA file (the JVM's for none), built again when the file changed. */
    private X509ExtendedTrustManager trust(String caFile) throws GeneralSecurityException, IOException {
        String key = caFile == null ? "" : caFile.strip();
        Trust t = trust.get(key);
        long now = System.currentTimeMillis();
        if (t != null && (key.isEmpty() || now - t.checkedAt() < TRUST_RECHECK_MS)) {
            return t.manager();
        }
        String stamp = key.isEmpty() ? "" : Files.getLastModifiedTime(Path.of(key)).toMillis() + "/" + Files.size(Path.of(key));
        t = t != null && t.stamp().equals(stamp) ? new Trust(t.manager(), stamp, now)
                : new Trust(Handshake.trust(key.isEmpty() ? null : Path.of(key)), stamp, now);
        trust.put(key, t);
        return t.manager();
    }
}
