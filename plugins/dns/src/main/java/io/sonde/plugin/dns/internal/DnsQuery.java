package io.sonde.plugin.dns.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;

/**
 * What a {@code kind=dns} target asks, read from its options:
 * <ul>
 * <li>{@code query}: the name to look up (required), relative names are taken as absolute;</li>
 * <li>{@code query_type}: a record type by its mnemonic, {@code A} (default), {@code AAAA}, {@code MX},
 * {@code TXT}, {@code SOA}, ... or {@code TYPEnnn};</li>
 * <li>{@code expect_rcode}: the response codes that count as success, comma separated
 * (default {@code NOERROR});</li>
 * <li>{@code expect_answer}: a regular expression at least one answer record must contain, matched
 * against the record in zone-file form ({@code name TTL IN type data}; IPv6 addresses written out in
 * full, {@code 2001:db8:0:0:0:0:0:1});</li>
 * <li>{@code transport}: {@code udp} (default, TCP on truncation) or {@code tcp};</li>
 * <li>{@code fail_if_answer}, {@code min_answers}, {@code max_answers}, {@code min_ttl},
 * {@code max_ttl}: what the answer section may not hold;</li>
 * <li>{@code recursion_desired}: {@code true} (default) or {@code false}.</li>
 * </ul>
 */
record DnsQuery(Name name, int type, Set<Integer> expectedRcodes, Pattern expectAnswer, boolean tcp, boolean recursion,
        Pattern failIfAnswer, int minAnswers, int maxAnswers, long minTtl, long maxTtl) {

    static final TargetOption QUERY = TargetOption.text("query", null,
            "The name to look up, for example example.org; relative names are taken as absolute").asRequired();
    static final TargetOption QUERY_TYPE = TargetOption.text("query_type", "A",
            "The record type: A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, ... or TYPEnnn");
    static final TargetOption EXPECT_RCODE = TargetOption.text("expect_rcode", "NOERROR",
            "Response codes that count as success, comma-separated: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...");
    static final TargetOption EXPECT_ANSWER = TargetOption.pattern("expect_answer",
            "A regular expression one answer record must contain, in zone-file form");
    static final TargetOption TRANSPORT = TargetOption.choice("transport", "udp",
            "udp (and TCP again when the answer is truncated), tcp, tls (DNS over TLS, port 853) or https (DNS over HTTPS, port 443)",
            "udp", "tcp", "tls", "https");
    static final TargetOption DOH_PATH = TargetOption.text("doh_path", "/dns-query",
            "The path of DNS over HTTPS: https://HOST:PORT/PATH is asked");
    static final TargetOption CA_FILE = TargetOption.file("ca_file",
            "For tls and https: PEM certificates to trust instead of the system's");
    static final TargetOption SERVER_NAME = TargetOption.text("server_name", null,
            "For tls: the name sent in TLS and looked for in the server's certificate (default: host)");
    static final TargetOption RECURSION = TargetOption.bool("recursion_desired", true,
            "Whether the query asks the server to recurse (the RD flag)");
    static final TargetOption FAIL_IF_ANSWER = TargetOption.pattern("fail_if_answer",
            "A regular expression no answer record may contain, in zone-file form");
    static final TargetOption MIN_ANSWERS = TargetOption.integer("min_answers", 0, 0, 1000,
            "The fewest records the answer section may have");
    static final TargetOption MAX_ANSWERS = TargetOption.integer("max_answers", 1000, 0, 1000,
            "The most records the answer section may have");
    static final TargetOption MIN_TTL = TargetOption.integer("min_ttl", 0, 0, Integer.MAX_VALUE,
            "The lowest TTL an answer record may have, seconds");
    static final TargetOption MAX_TTL = TargetOption.integer("max_ttl", Integer.MAX_VALUE, 0, Integer.MAX_VALUE,
            "The highest TTL an answer record may have, seconds");

    /**
     * Reads the options of {@code target}, which the agent has checked against the schema and
     * with {@link #problems}.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with it
     */
    static DnsQuery of(Target target) {
        List<TargetProblem> problems = new ArrayList<>();
        DnsQuery q = read(target, problems);
        if (q == null) {
            TargetProblem p = problems.get(0);
            throw new IllegalArgumentException("key '" + p.key() + "': " + p.reason());
        }
        return q;
    }

    /** @return what is wrong with the target's query beyond what the schema checks: empty if nothing */
    static List<TargetProblem> problems(Target target) {
        List<TargetProblem> problems = new ArrayList<>();
        read(target, problems);
        return problems;
    }

    private static DnsQuery read(Target target, List<TargetProblem> problems) {
        String query = QUERY.value(target);
        Name name = null;
        if (query == null) {
            problems.add(new TargetProblem(QUERY.name(), "missing; the name to look up, for example example.org"));
        } else {
            try {
                name = Name.fromString(query, Name.root);
            } catch (TextParseException e) {
                problems.add(new TargetProblem(QUERY.name(), "'" + query + "' is not a domain name: " + e.getMessage()));
            }
        }
        String typeText = QUERY_TYPE.value(target).toUpperCase(Locale.ROOT);
        int type = Type.value(typeText);
        if (type < 0) {
            problems.add(new TargetProblem(QUERY_TYPE.name(), "'" + typeText
                    + "' is not a DNS record type (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, ... or TYPEnnn)"));
        }
        Set<Integer> rcodes = new TreeSet<>();
        for (String part : EXPECT_RCODE.value(target).split(",")) {
            String code = part.strip().toUpperCase(Locale.ROOT);
            int value = Rcode.value(code);
            if (value < 0 || code.isEmpty()) {
                problems.add(new TargetProblem(EXPECT_RCODE.name(), "'" + part.strip()
                        + "' is not a response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...)"));
                break;
            }
            rcodes.add(value);
        }
        String regex = EXPECT_ANSWER.value(target);
        Pattern answer = null;
        if (regex != null) {
            String p = EXPECT_ANSWER.problem(regex);
            if (p != null) {
                problems.add(new TargetProblem(EXPECT_ANSWER.name(), p));
            } else {
                answer = Pattern.compile(regex);
            }
        }
        String transport = TRANSPORT.value(target);
        boolean encrypted = transport.equals("tls") || transport.equals("https");
        if (!encrypted && (CA_FILE.value(target) != null || SERVER_NAME.value(target) != null)) {
            problems.add(new TargetProblem(CA_FILE.value(target) != null ? CA_FILE.name() : SERVER_NAME.name(),
                    "taken with transport tls or https only"));
        }
        if (SERVER_NAME.value(target) != null && transport.equals("https")) {
            problems.add(new TargetProblem(SERVER_NAME.name(), "not taken with https: the name checked is host's"));
        }
        String path = DOH_PATH.value(target);
        if (!path.startsWith("/") || path.contains(" ") || path.contains("?") || path.contains("#")) {
            problems.add(new TargetProblem(DOH_PATH.name(), "'" + path + "' is not a path (/dns-query)"));
        } else if (!path.equals("/dns-query") && !transport.equals("https")) {
            problems.add(new TargetProblem(DOH_PATH.name(), "taken with transport https only"));
        }
        String notRegex = FAIL_IF_ANSWER.value(target);
        int minAnswers = MIN_ANSWERS.intValue(target);
        int maxAnswers = MAX_ANSWERS.intValue(target);
        if (minAnswers > maxAnswers) {
            problems.add(new TargetProblem(MIN_ANSWERS.name(), minAnswers + " is more than max_answers (" + maxAnswers + ")"));
        }
        long minTtl = MIN_TTL.longValue(target);
        long maxTtl = MAX_TTL.longValue(target);
        if (minTtl > maxTtl) {
            problems.add(new TargetProblem(MIN_TTL.name(), minTtl + " is more than max_ttl (" + maxTtl + ")"));
        }
        if (!problems.isEmpty()) {
            return null;
        }
        return new DnsQuery(name, type, Set.copyOf(rcodes), answer, TRANSPORT.value(target).equals("tcp"),
                RECURSION.booleanValue(target), notRegex == null ? null : Pattern.compile(notRegex), minAnswers, maxAnswers, minTtl,
                maxTtl);
    }

    /** A new query message (each with its own random id). */
    Message message() {
        Message m = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        if (!recursion) {
            m.getHeader().unsetFlag(Flags.RD);
        }
        return m;
    }

    /** @return why {@code response} fails this query's expectations, or {@code null} if it passes */
    String mismatch(Message response) {
        int rcode = response.getRcode();
        if (!expectedRcodes.contains(rcode)) {
            StringBuilder expected = new StringBuilder();
            for (int c : expectedRcodes) {
                expected.append(expected.length() == 0 ? "" : ", ").append(Rcode.string(c));
            }
            return "rcode " + Rcode.string(rcode) + ", expected " + expected;
        }
        return null;
    }

    /**
     * @return why the answer section fails {@code min_answers}, {@code max_answers}, {@code min_ttl},
     *         {@code max_ttl} or {@code fail_if_answer}, naming the key; null when it passes them
     */
    String answerProblem(Message response) {
        List<Record> answers = response.getSection(org.xbill.DNS.Section.ANSWER);
        if (answers.size() < minAnswers) {
            return MIN_ANSWERS.name() + ": " + answers.size() + " answer records, fewer than " + minAnswers;
        }
        if (answers.size() > maxAnswers) {
            return MAX_ANSWERS.name() + ": " + answers.size() + " answer records, more than " + maxAnswers;
        }
        for (Record r : answers) {
            if (r.getTTL() < minTtl) {
                return MIN_TTL.name() + ": '" + shown(r) + "' has TTL " + r.getTTL() + ", lower than " + minTtl;
            }
            if (r.getTTL() > maxTtl) {
                return MAX_TTL.name() + ": '" + shown(r) + "' has TTL " + r.getTTL() + ", higher than " + maxTtl;
            }
            if (failIfAnswer != null && failIfAnswer.matcher(r.toString()).find()) {
                return FAIL_IF_ANSWER.name() + ": '" + shown(r) + "' matches /" + failIfAnswer.pattern() + "/";
            }
        }
        return null;
    }

    /** A record in zone-file form on one line, its tabs as spaces. */
    private static String shown(Record r) {
        return r.toString().replace('\t', ' ');
    }

    /** @return whether an answer record matches {@code expect_answer} (always, if there is none) */
    boolean answerMatches(Message response) {
        if (expectAnswer == null) {
            return true;
        }
        for (Record r : response.getSection(org.xbill.DNS.Section.ANSWER)) {
            if (expectAnswer.matcher(r.toString()).find()) {
                return true;
            }
        }
        return false;
    }
}
