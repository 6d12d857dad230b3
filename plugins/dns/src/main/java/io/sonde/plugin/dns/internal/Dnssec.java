package io.sonde.plugin.dns.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Master;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;

/**
 * DNSSEC for a {@code kind=dns} target, by {@code dnssec}: {@code off} (default); {@code ad}, the
 * query carries the DO bit and asks for AD, and the answer is secure when the server (a validating
 * resolver) sets AD; {@code validate}, the probe validates the chain itself from the trust anchors
 * of {@code trust_anchor_file} (DS or DNSKEY records in zone-file form) with dnsjava's validator,
 * asking the same server for the keys. The status is {@code secure}, {@code insecure} (no chain of
 * trust covers the name) or {@code bogus} (a chain that does not verify; the validator's reason is
 * kept). Bogus fails the probe, and insecure too unless {@code allow_insecure}.
 */
final class Dnssec {

    static final TargetOption MODE = TargetOption.choice("dnssec", "off",
            "off; ad: ask with the DO bit and take the server's AD flag (a validating resolver); validate: validate here from"
                    + " trust_anchor_file", "off", "ad", "validate");
    static final TargetOption TRUST_ANCHOR_FILE = TargetOption.file("trust_anchor_file",
            "The trust anchors of dnssec = validate: DS or DNSKEY records in zone-file form (the root's, or a zone's own)");
    static final TargetOption ALLOW_INSECURE = TargetOption.bool("allow_insecure", false,
            "Whether an answer no chain of trust covers (insecure) passes; bogus never does");

    /** What DNSSEC said of an answer. */
    record Verdict(String status, String reason) {
    }

    /** A trust anchor file's bytes, read again when it changes. */
    private record Anchors(String stamp, byte[] bytes) {
    }

    private static final Map<String, Anchors> ANCHORS = new ConcurrentHashMap<>();

    private Dnssec() {
    }

    /** @return what is wrong with the DNSSEC keys: validate without anchors, an anchor file without DS or DNSKEY records */
    static List<TargetProblem> problems(Target t) {
        String mode = MODE.value(t);
        String file = TRUST_ANCHOR_FILE.value(t);
        if (mode.equals("validate") && file == null) {
            return List.of(new TargetProblem(TRUST_ANCHOR_FILE.name(), "missing; dnssec = validate needs the trust anchors"));
        }
        if (file != null && !mode.equals("validate")) {
            return List.of(new TargetProblem(TRUST_ANCHOR_FILE.name(), "taken with dnssec = validate only"));
        }
        if (file != null) {
            String p = anchorProblem(Path.of(file));
            if (p != null) {
                return List.of(new TargetProblem(TRUST_ANCHOR_FILE.name(), p));
            }
        }
        return List.of();
    }

    /** @return why {@code file} holds no usable trust anchor, or null */
    static String anchorProblem(Path file) {
        int anchors = 0;
        try (Master m = new Master(new ByteArrayInputStream(withTtl(Files.readAllBytes(file))), org.xbill.DNS.Name.root)) {
            for (Record r = m.nextRecord(); r != null; r = m.nextRecord()) {
                if (r.getType() == Type.DS || r.getType() == Type.DNSKEY) {
                    anchors++;
                } else {
                    return file + ": '" + r.toString().replace('\t', ' ') + "' is neither DS nor DNSKEY";
                }
            }
        } catch (IOException | RuntimeException e) {
            return file + ": not zone-file records: " + e.getMessage();
        }
        return anchors == 0 ? file + " holds no DS or DNSKEY record" : null;
    }

    /**
     * @return the resolver that sends the query: {@code head} itself, or a validator over it
     * @throws IOException naming the anchor file when it cannot be read
     */
    static Resolver resolver(Target t, Resolver head) throws IOException {
        if (!MODE.value(t).equals("validate")) {
            return head;
        }
        ValidatingResolver v = new ValidatingResolver(head);
        v.loadTrustAnchors(new ByteArrayInputStream(anchors(Path.of(TRUST_ANCHOR_FILE.value(t)))));
        v.setAddReasonToAdditional(true);
        return v;
    }

    private static byte[] anchors(Path file) throws IOException {
        String stamp;
        try {
            stamp = Files.getLastModifiedTime(file).toMillis() + "/" + Files.size(file);
        } catch (IOException e) {
            throw new IOException("trust_anchor_file " + file + " cannot be read: " + e.getClass().getSimpleName());
        }
        Anchors a = ANCHORS.get(file.toString());
        if (a == null || !a.stamp().equals(stamp)) {
            a = new Anchors(stamp, withTtl(Files.readAllBytes(file)));
            ANCHORS.put(file.toString(), a);
        }
        return a.bytes();
    }

    /** Anchors as keymgr, dig or unbound write them may have no TTL: a default one before them. */
    private static byte[] withTtl(byte[] anchors) {
        byte[] ttl = "$TTL 3600\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] out = new byte[ttl.length + anchors.length];
        System.arraycopy(ttl, 0, out, 0, ttl.length);
        System.arraycopy(anchors, 0, out, ttl.length, anchors.length);
        return out;
    }

    /** The query as the mode wants it: with {@code ad}, the DO bit and the AD flag set. */
    static Message prepare(Target t, Message query) {
        if (MODE.value(t).equals("ad")) {
            query.getHeader().setFlag(Flags.AD);
            query.addRecord(new OPTRecord(1232, 0, 0, ExtendedFlags.DO), Section.ADDITIONAL);
        }
        return query;
    }

    /** @return what DNSSEC says of {@code response}, or null with {@code dnssec = off} */
    static Verdict verdict(Target t, Message response) {
        String mode = MODE.value(t);
        if (mode.equals("off")) {
            return null;
        }
        if (response.getHeader().getFlag(Flags.AD)) {
            return new Verdict("secure", null);
        }
        if (mode.equals("validate")) {
            String reason = reason(response);
            if (response.getRcode() == Rcode.SERVFAIL && reason != null) {
                return new Verdict("bogus", reason);
            }
            return new Verdict("insecure", reason);
        }
        return new Verdict("insecure", "the server did not set AD");
    }

    /** The validator's reason, a TXT record of its own class in the additional section. */
    private static String reason(Message response) {
        for (Record r : response.getSection(Section.ADDITIONAL)) {
            if (r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS && r instanceof TXTRecord txt) {
                return String.join(" ", txt.getStrings());
            }
        }
        return null;
    }

    /** @return why the verdict fails the target (naming the key), or null when it passes */
    static String failure(Target t, Verdict v) {
        if (v == null || v.status().equals("secure")) {
            return null;
        }
        if (v.status().equals("insecure") && ALLOW_INSECURE.booleanValue(t)) {
            return null;
        }
        return MODE.name() + ": " + v.status() + (v.reason() == null ? "" : " (" + v.reason() + ")")
                + (v.status().equals("insecure") ? "; allow_insecure = true takes it" : "");
    }

    /** @return the status as a number for the families: 1 secure, 0 insecure, -1 bogus */
    static int number(Verdict v) {
        return switch (v.status().toLowerCase(Locale.ROOT)) {
            case "secure" -> 1;
            case "bogus" -> -1;
            default -> 0;
        };
    }
}
