package io.sonde.asn;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

// Over 500 lines: three file formats (pyasn, iptoasn, MRT) read into one flattened range table; the MRT reader alone is a quarter of it.
/**
 * An IP-to-AS table: for an address, the AS of the most specific prefix or range that holds it.
 * Read from the formats operators have ({@link #read(Path)} tells them apart, gzip-compressed or not):
 * <ul>
 * <li>pyasn's {@code ipasn} file: a prefix and an AS number a line ({@code 198.18.64.0/18	64510}),
 * {@code ;} comments;</li>
 * <li>iptoasn's TSV ({@code ip2asn-v4.tsv}, {@code -v6}, {@code -combined}): first address, last
 * address, AS number, country, name; AS 0 (not routed) is left out;</li>
 * <li>an MRT RIB dump (RFC 6396: TABLE_DUMP_V2, with or without ADD-PATH (RFC 8050), and
 * TABLE_DUMP), as RouteViews, RIPE RIS, GoBGP or BIRD write them: each prefix's origin, the last AS
 * of its first entry's AS_PATH.</li>
 * </ul>
 * Nested prefixes are kept apart (the most specific wins); the table is flattened into disjoint
 * ranges, about 20 bytes each, searched by bisection. Immutable.
 */
public final class AsnTable {

    /** A table that could not be read: what and where. */
    public static final class FormatException extends Exception {
        private static final long serialVersionUID = 1L;

        public FormatException(String message) {
            super(message);
        }
    }

    /** A table with nothing in it: every lookup finds none. */
    public static final AsnTable EMPTY = new AsnTable("none", 0, new Ranges(1), new Ranges(1));

    /** Most entries read from one file (a full BGP table has about 1.2 million). */
    public static final int MAX_ENTRIES = 5_000_000;

    private final String format;
    private final int entries;
    private final Ranges v4;
    private final Ranges v6;

    private AsnTable(String format, int entries, Ranges v4, Ranges v6) {
        this.format = format;
        this.entries = entries;
        this.v4 = v4;
        this.v6 = v6;
    }

    /** @return the format it was read from: {@code pyasn}, {@code iptoasn}, {@code mrt} (or with {@code +gzip}) */
    public String format() {
        return format;
    }

    /** @return the prefixes or ranges read */
    public int entries() {
        return entries;
    }

    /** @return the AS of the most specific prefix or range holding the address, or null */
    public Origin lookup(InetAddress address) {
        if (address == null) {
            return null;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            return v4.find(0, bits(b, 0, 4));
        }
        return v6.find(bits(b, 0, 8), bits(b, 8, 8));
    }

    /** Reads a table file of any of the formats. */
    public static AsnTable read(Path file) throws IOException, FormatException {
        try (InputStream raw = Files.newInputStream(file)) {
            return read(raw, file.toString());
        }
    }

    /**
     * @param in   the table's bytes
     * @param name what to call it in errors
     */
    public static AsnTable read(InputStream in, String name) throws IOException, FormatException {
        BufferedInputStream b = new BufferedInputStream(in, 1 << 16);
        String zipped = "";
        byte[] head = peek(b, 12);
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            b = new BufferedInputStream(new GZIPInputStream(b, 1 << 16), 1 << 16);
            zipped = "+gzip";
            head = peek(b, 12);
        }
        if (head.length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') {
            throw new FormatException(name + ": compressed with bzip2, which Sonde does not read: decompress it (bunzip2) or gzip it");
        }
        Builder builder = new Builder(name);
        if (head.length >= 12 && isMrt(head)) {
            readMrt(new DataInputStream(b), builder);
            return builder.build("mrt" + zipped);
        }
        return builder.build(readText(b, builder) + zipped);
    }

    private static byte[] peek(BufferedInputStream in, int n) throws IOException {
        in.mark(n);
        byte[] b = in.readNBytes(n);
        in.reset();
        return b;
    }

    /** MRT: a type the RIB dumps use (12 TABLE_DUMP, 13 TABLE_DUMP_V2) and a length that is a record's, not text's. */
    private static boolean isMrt(byte[] h) {
        int type = ((h[4] & 0xff) << 8) | (h[5] & 0xff);
        int subtype = ((h[6] & 0xff) << 8) | (h[7] & 0xff);
        return (type == 12 || type == 13 || type == 16 || type == 17) && subtype < 64 && (h[8] & 0xff) < 0x10;
    }

    private static String readText(InputStream in, Builder builder) throws IOException, FormatException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
        String format = null;
        int n = 0;
        for (String line = r.readLine(); line != null; line = r.readLine()) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith(";") || t.startsWith("#")) {
                continue;
            }
            String[] f = t.split("\t");
            if (f.length == 1) {
                f = t.split("\\s+");
            }
            String where = builder.name + " line " + n;
            if (f[0].contains("/")) {
                if (f.length < 2) {
                    throw new FormatException(where + ": '" + cut(t) + "' has a prefix but no AS number (pyasn: prefix, tab, AS number)");
                }
                format = same(format, "pyasn", where);
                int slash = f[0].indexOf('/');
                InetAddress a = address(f[0].substring(0, slash), where);
                int length = integer(f[0].substring(slash + 1), where, "prefix length");
                int max = a instanceof Inet4Address ? 32 : 128;
                if (length < 0 || length > max) {
                    throw new FormatException(where + ": prefix length " + length + " is not 0-" + max);
                }
                long asn = asn(f[1], where);
                if (asn > 0) {
                    builder.prefix(a, length, asn, "");
                }
            } else if (f.length >= 3) {
                format = same(format, "iptoasn", where);
                InetAddress first = address(f[0], where);
                InetAddress last = address(f[1], where);
                if (first.getClass() != last.getClass()) {
                    throw new FormatException(where + ": " + f[0] + " and " + f[1] + " are not of one family");
                }
                long asn = asn(f[2], where);
                String name = f.length >= 5 ? f[4].strip() : "";
                if (asn > 0) {
                    builder.range(first, last, asn, name.equals("Not routed") ? "" : name, where);
                }
            } else {
                throw new FormatException(where + ": '" + cut(t) + "' is neither a prefix and an AS number (pyasn) nor a range"
                        + " (iptoasn: first, last, AS number, country, name)");
            }
        }
        if (format == null) {
            throw new FormatException(builder.name + ": no prefix or range in it (pyasn, iptoasn or an MRT RIB dump)");
        }
        return format;
    }

    private static String same(String format, String now, String where) throws FormatException {
        if (format != null && !format.equals(now)) {
            throw new FormatException(where + ": a " + now + " line in a " + format + " file");
        }
        return now;
    }

    private static String cut(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static InetAddress address(String text, String where) throws FormatException {
        String t = text.strip();
        if (!HopAsns.literal(t)) {
            throw new FormatException(where + ": '" + cut(t) + "' is not an IP address");
        }
        try {
            return InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            throw new FormatException(where + ": '" + cut(t) + "' is not an IP address");
        }
    }

    private static int integer(String text, String where, String what) throws FormatException {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new FormatException(where + ": '" + cut(text) + "' is not a " + what);
        }
    }

    private static long asn(String text, String where) throws FormatException {
        String t = text.strip();
        if (t.regionMatches(true, 0, "AS", 0, 2)) {
            t = t.substring(2);
        }
        try {
            long asn = Long.parseLong(t);
            if (asn >= 0 && asn <= 0xFFFF_FFFFL) {
                return asn;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new FormatException(where + ": '" + cut(text) + "' is not an AS number (0-4294967295)");
    }

    // --- MRT (RFC 6396, RFC 8050) ---

    private static void readMrt(DataInputStream in, Builder builder) throws IOException, FormatException {
        long record = 0;
        byte[] header = new byte[12];
        while (true) {
            int got = in.readNBytes(header, 0, 12);
            if (got == 0) {
                return;
            }
            record++;
            String where = builder.name + " MRT record " + record;
            if (got < 12) {
                throw new FormatException(where + ": cut short in its header");
            }
            int type = ((header[4] & 0xff) << 8) | (header[5] & 0xff);
            int subtype = ((header[6] & 0xff) << 8) | (header[7] & 0xff);
            long length = ((header[8] & 0xffL) << 24) | ((header[9] & 0xff) << 16) | ((header[10] & 0xff) << 8) | (header[11] & 0xff);
            if (length > 16 << 20) {
                throw new FormatException(where + ": a record of " + length + " bytes is not one of a RIB dump");
            }
            byte[] body = new byte[(int) length];
            try {
                in.readFully(body);
            } catch (EOFException e) {
                throw new FormatException(where + ": cut short (" + length + " bytes announced)");
            }
            try {
                if (type == 13 && (subtype == 2 || subtype == 4 || subtype == 8 || subtype == 10)) {
                    ribV2(body, subtype == 4 || subtype == 10, subtype >= 8, builder);
                } else if (type == 12 && (subtype == 1 || subtype == 2)) {
                    ribV1(body, subtype == 2, builder);
                }
            } catch (IndexOutOfBoundsException e) {
                throw new FormatException(where + ": a field runs past the record's end");
            }
            // PEER_INDEX_TABLE, multicast, RIB_GENERIC and BGP4MP records name no unicast origin: passed over
        }
    }

    /** TABLE_DUMP_V2 RIB_IPV4/IPV6_UNICAST (and _ADDPATH): sequence, prefix, entries each with attributes. */
    private static void ribV2(byte[] b, boolean v6, boolean addPath, Builder builder) throws FormatException {
        int p = 4; // sequence number
        int length = b[p++] & 0xff;
        int bytes = (length + 7) / 8;
        byte[] prefix = new byte[v6 ? 16 : 4];
        if (length > prefix.length * 8) {
            throw new FormatException(builder.name + ": MRT prefix length " + length);
        }
        System.arraycopy(b, p, prefix, 0, bytes);
        p += bytes;
        int count = u16(b, p);
        p += 2;
        for (int i = 0; i < count; i++) {
            p += 2 + 4 + (addPath ? 4 : 0); // peer index, originated time, path identifier
            int attributes = u16(b, p);
            p += 2;
            long origin = originOf(b, p, p + attributes, true);
            p += attributes;
            if (origin > 0) {
                builder.prefix(address(prefix), length, origin, "");
                return; // the first entry that names an origin
            }
        }
    }

    /** TABLE_DUMP (v1): one entry a record, two-byte AS numbers. */
    private static void ribV1(byte[] b, boolean v6, Builder builder) {
        int p = 4; // view, sequence
        byte[] prefix = Arrays.copyOfRange(b, p, p + (v6 ? 16 : 4));
        p += prefix.length;
        int length = b[p] & 0xff;
        p += 1 + 1 + 4 + prefix.length + 2; // length, status, originated, peer address, peer AS
        int attributes = u16(b, p);
        p += 2;
        long origin = originOf(b, p, p + attributes, false);
        if (origin > 0 && length <= prefix.length * 8) {
            builder.prefix(address(prefix), length, origin, "");
        }
    }

    /**
     * @return the origin AS of the BGP path attributes in {@code b[from, to)}: the last AS of the
     *         AS_PATH's last AS_SEQUENCE (an AS_SET at its end: the set's first), or 0 when none
     */
    private static long originOf(byte[] b, int from, int to, boolean fourByte) {
        int p = from;
        while (p + 3 <= to) {
            int flags = b[p] & 0xff;
            int code = b[p + 1] & 0xff;
            int length;
            if ((flags & 0x10) != 0) {
                length = u16(b, p + 2);
                p += 4;
            } else {
                length = b[p + 2] & 0xff;
                p += 3;
            }
            if (code == 2) {
                long origin = 0;
                int q = p;
                int width = fourByte ? 4 : 2;
                while (q + 2 <= p + length) {
                    int segment = b[q] & 0xff;
                    int n = b[q + 1] & 0xff;
                    q += 2;
                    if (n > 0 && q + n * width <= p + length) {
                        int at = segment == 1 ? q : q + (n - 1) * width; // AS_SET: its first; AS_SEQUENCE: its last
                        origin = fourByte ? u32(b, at) : u16(b, at);
                    }
                    q += n * width;
                }
                return origin;
            }
            p += length;
        }
        return 0;
    }

    private static int u16(byte[] b, int p) {
        return ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
    }

    private static long u32(byte[] b, int p) {
        return ((b[p] & 0xffL) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
    }

    private static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return {@code n} bytes from {@code offset} as an unsigned number, high bits first */
    private static long bits(byte[] b, int offset, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (b[offset + i] & 0xff);
        }
        return v;
    }

    // --- building: prefixes and ranges flattened into disjoint ranges ---

    /** One prefix or range while building; addresses as (hi, lo) unsigned. */
    private record Span(long startHi, long startLo, long endHi, long endLo, Origin origin) {
    }

    private static final class Builder {
        final String name;
        final List<Span> v4 = new ArrayList<>();
        final List<Span> v6 = new ArrayList<>();
        final Map<Long, Map<String, Origin>> origins = new HashMap<>();
        int entries;

        Builder(String name) {
            this.name = name;
        }

        Origin origin(long asn, String name) {
            return origins.computeIfAbsent(asn, k -> new HashMap<>(2)).computeIfAbsent(name, k -> new Origin(asn, k));
        }

        void prefix(InetAddress a, int length, long asn, String asName) {
            byte[] b = a.getAddress();
            long hi = b.length == 4 ? 0 : bits(b, 0, 8);
            long lo = b.length == 4 ? bits(b, 0, 4) : bits(b, 8, 8);
            int total = b.length * 8;
            // the host bits: below the prefix length
            int host = total - length;
            long maskHi;
            long maskLo;
            if (b.length == 4) {
                maskHi = 0;
                maskLo = host >= 32 ? 0xFFFF_FFFFL : (1L << host) - 1;
            } else {
                maskLo = host >= 64 ? -1L : host == 0 ? 0 : (1L << host) - 1;
                maskHi = host <= 64 ? 0 : host >= 128 ? -1L : (1L << (host - 64)) - 1;
            }
            add(b.length == 4, new Span(hi & ~maskHi, lo & ~maskLo, hi | maskHi, lo | maskLo, origin(asn, asName)));
        }

        void range(InetAddress first, InetAddress last, long asn, String asName, String where) throws FormatException {
            byte[] f = first.getAddress();
            byte[] l = last.getAddress();
            boolean v4 = f.length == 4;
            Span s = v4 ? new Span(0, bits(f, 0, 4), 0, bits(l, 0, 4), origin(asn, asName))
                    : new Span(bits(f, 0, 8), bits(f, 8, 8), bits(l, 0, 8), bits(l, 8, 8), origin(asn, asName));
            if (compare(s.startHi, s.startLo, s.endHi, s.endLo) > 0) {
                throw new FormatException(where + ": " + first.getHostAddress() + " is after " + last.getHostAddress());
            }
            add(v4, s);
        }

        private void add(boolean isV4, Span s) {
            if (++entries > MAX_ENTRIES) {
                throw new IllegalStateException(name + ": more than " + MAX_ENTRIES + " prefixes and ranges");
            }
            (isV4 ? v4 : v6).add(s);
        }

        AsnTable build(String format) {
            return new AsnTable(format, entries, flatten(v4), flatten(v6));
        }
    }

    private static int compare(long aHi, long aLo, long bHi, long bLo) {
        int c = Long.compareUnsigned(aHi, bHi);
        return c != 0 ? c : Long.compareUnsigned(aLo, bLo);
    }

    /**
     * Disjoint ranges from nested or disjoint spans, the most specific winning: by start, the
     * larger first; a stack of the spans open at the cursor, the innermost on top.
     */
    private static Ranges flatten(List<Span> spans) {
        spans.sort((a, b) -> {
            int c = compare(a.startHi, a.startLo, b.startHi, b.startLo);
            return c != 0 ? c : compare(b.endHi, b.endLo, a.endHi, a.endLo);
        });
        Ranges out = new Ranges(spans.size() * 2 + 1);
        java.util.ArrayDeque<Span> open = new java.util.ArrayDeque<>();
        long[] cursor = null; // {hi, lo}: the first address not yet given to a range
        for (Span s : spans) {
            while (!open.isEmpty() && compare(open.peek().endHi, open.peek().endLo, s.startHi, s.startLo) < 0) {
                cursor = emitTo(out, cursor, open.pop());
            }
            if (!open.isEmpty() && cursor != null && cursor != PAST_THE_END && compare(cursor[0], cursor[1], s.startHi, s.startLo) < 0) {
                long[] before = decrement(s.startHi, s.startLo);
                out.add(cursor[0], cursor[1], before[0], before[1], open.peek().origin);
            }
            if (cursor == null || compare(cursor[0], cursor[1], s.startHi, s.startLo) < 0) {
                cursor = new long[] {s.startHi, s.startLo};
            }
            open.push(s);
        }
        while (!open.isEmpty()) {
            cursor = emitTo(out, cursor, open.pop());
        }
        return out;
    }

    /** The cursor past the very last address (of IPv6: there is no address after it to point at). */
    private static final long[] PAST_THE_END = {-1L, -1L};

    /** Gives the span the addresses from the cursor to its end; @return the cursor after it */
    private static long[] emitTo(Ranges out, long[] cursor, Span s) {
        if (cursor == null || cursor == PAST_THE_END) {
            return cursor;
        }
        if (compare(cursor[0], cursor[1], s.endHi, s.endLo) <= 0) {
            out.add(cursor[0], cursor[1], s.endHi, s.endLo, s.origin);
            if (s.endHi == -1L && s.endLo == -1L) {
                return PAST_THE_END; // the very last address: nothing after it
            }
            return increment(s.endHi, s.endLo);
        }
        return cursor;
    }

    private static long[] increment(long hi, long lo) {
        return lo == -1L ? new long[] {hi + 1, 0} : new long[] {hi, lo + 1};
    }

    private static long[] decrement(long hi, long lo) {
        return lo == 0 ? new long[] {hi - 1, -1L} : new long[] {hi, lo - 1};
    }

    /** Disjoint ranges in address order, each with its origin; bisection finds an address's. */
    private static final class Ranges {
        long[] startHi;
        long[] startLo;
        long[] endHi;
        long[] endLo;
        Origin[] origin;
        int size;

        Ranges(int capacity) {
            startHi = new long[capacity];
            startLo = new long[capacity];
            endHi = new long[capacity];
            endLo = new long[capacity];
            origin = new Origin[capacity];
        }

        void add(long sHi, long sLo, long eHi, long eLo, Origin o) {
            if (size > 0 && origin[size - 1] == o && endHi[size - 1] == sHi && endLo[size - 1] + 1 == sLo && sLo != 0) {
                endHi[size - 1] = eHi; // adjacent and of the same AS: one range
                endLo[size - 1] = eLo;
                return;
            }
            if (size == startHi.length) {
                int n = size * 2 + 1;
                startHi = Arrays.copyOf(startHi, n);
                startLo = Arrays.copyOf(startLo, n);
                endHi = Arrays.copyOf(endHi, n);
                endLo = Arrays.copyOf(endLo, n);
                origin = Arrays.copyOf(origin, n);
            }
            startHi[size] = sHi;
            startLo[size] = sLo;
            endHi[size] = eHi;
            endLo[size] = eLo;
            origin[size] = o;
            size++;
        }

        Origin find(long hi, long lo) {
            int low = 0;
            int high = size - 1;
            int found = -1;
            while (low <= high) { // the last range starting at or before the address
                int mid = (low + high) >>> 1;
                if (compare(startHi[mid], startLo[mid], hi, lo) <= 0) {
                    found = mid;
                    low = mid + 1;
                } else {
                    high = mid - 1;
                }
            }
            return found >= 0 && compare(hi, lo, endHi[found], endLo[found]) <= 0 ? origin[found] : null;
        }
    }
}
