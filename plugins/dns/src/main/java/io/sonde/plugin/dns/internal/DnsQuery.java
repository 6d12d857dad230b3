package io.sonde.plugin.dns.internal;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import io.sonde.api.Target;

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
 * <li>{@code recursion_desired}: {@code true} (default) or {@code false}.</li>
 * </ul>
 */
record DnsQuery(Name name, int type, Set<Integer> expectedRcodes, Pattern expectAnswer, boolean tcp, boolean recursion) {

    /**
     * Reads the options of {@code target}.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with it
     */
    static DnsQuery of(Target target) {
        String query = target.option("query", "").strip();
        if (query.isEmpty()) {
            throw new IllegalArgumentException("key 'query': missing; the name to look up, for example example.org");
        }
        Name name;
        try {
            name = Name.fromString(query, Name.root);
        } catch (TextParseException e) {
            throw new IllegalArgumentException("key 'query': '" + query + "' is not a domain name: " + e.getMessage());
        }
        String typeText = target.option("query_type", "A").strip().toUpperCase(Locale.ROOT);
        int type = Type.value(typeText);
        if (type < 0 || typeText.isEmpty()) {
            throw new IllegalArgumentException("key 'query_type': '" + typeText
                    + "' is not a DNS record type (A, AAAA, CNAME, MX, NS, PTR, SOA, SRV, TXT, ... or TYPEnnn)");
        }
        Set<Integer> rcodes = new TreeSet<>();
        for (String part : target.option("expect_rcode", "NOERROR").split(",")) {
            String code = part.strip().toUpperCase(Locale.ROOT);
            int value = Rcode.value(code);
            if (value < 0 || code.isEmpty()) {
                throw new IllegalArgumentException("key 'expect_rcode': '" + part.strip()
                        + "' is not a response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...)");
            }
            rcodes.add(value);
        }
        Pattern answer = null;
        String regex = target.option("expect_answer", "").strip();
        if (!regex.isEmpty()) {
            try {
                answer = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("key 'expect_answer': not a regular expression: "
                        + e.getDescription() + " near index " + e.getIndex());
            }
        }
        String transport = target.option("transport", "udp").strip().toLowerCase(Locale.ROOT);
        if (!transport.equals("udp") && !transport.equals("tcp")) {
            throw new IllegalArgumentException("key 'transport': '" + transport + "' is neither udp nor tcp");
        }
        String rd = target.option("recursion_desired", "true").strip();
        if (!rd.equalsIgnoreCase("true") && !rd.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("key 'recursion_desired': '" + rd + "' is neither true nor false");
        }
        return new DnsQuery(name, type, Set.copyOf(rcodes), answer, transport.equals("tcp"), Boolean.parseBoolean(rd));
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
