package io.sonde.spool;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Over 500 lines: one file format's invariants (append, read, ack, reopen after a crash, bounds) that must change together.
/**
 * A durable store-and-forward queue (the agent's results in {@code data/spool/}, the server's
 * remote write in {@code data/remote-write/}): an append-only
 * log in segment files, each record checksummed, so that a process killed at any moment leaves a
 * spool that reopens with every complete record and without the torn one.
 *
 * <p>Files: {@code epoch} (the random id of this spool, made when it is created), {@code acked}
 * (the highest sequence number the server has acknowledged), {@link SequenceFile sequence} (the
 * numbers given and reserved: a number is given once, ever, so a result lost in a crash leaves a
 * gap the server counts), and segments
 * {@code <first sequence, 20 digits>.seg}. A record is {@code length (4) | crc32c (4) | seq (8) |
 * time (8) | payload}, little-endian, the checksum over everything after it. Sequence numbers rise by
 * one per appended record across segments.
 *
 * <p>Bounds: the spool never holds more than {@code maxBytes}, nor records older than
 * {@code maxAgeMillis}; the oldest segment goes first and its unacknowledged records are counted
 * as dropped ({@code full}, {@code age}). A full disk is treated like a full spool. Thread-safe: one
 * appender and one reader may work at once.
 */
public final class Spool implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Spool.class);
    public static final int HEADER = 24;
    /** No record is bigger: a length beyond it is a torn or corrupt header. */
    public static final int MAX_RECORD = 1 << 20;
    public static final String DROP_FULL = "full";
    public static final String DROP_AGE = "age";
    public static final String DROP_CORRUPT = "corrupt";
    public static final String DROP_REJECTED = "rejected";
    /** Results given a sequence number and not written when the agent was killed: the server sees their numbers missing. */
    public static final String DROP_CRASH = "crash";
    /** Sequence numbers reserved ahead, synced to disk once per block: a number is never given twice, even after a power loss. */
    public static final long RESERVE_BLOCK = 4096;

    /** One record read back. */
    public record Record(long seq, long timeMillis, byte[] payload) {
    }

    /** What is known of one segment file without reading it. */
    private static final class Segment {
        final Path path;
        final long firstSeq;
        long lastSeq;
        long size;
        long oldestMillis = Long.MAX_VALUE;
        long newestMillis = Long.MIN_VALUE;
        boolean truncated;

        Segment(Path path, long firstSeq) {
            this.path = path;
            this.firstSeq = firstSeq;
            this.lastSeq = firstSeq - 1;
        }

        long records() {
            return lastSeq - firstSeq + 1;
        }
    }

    private final Path dir;
    private final long maxBytes;
    private final long maxAgeMillis;
    private final long segmentBytes;
    private final LongSupplier clock;
    private final String epoch;
    private final TreeMap<Long, Segment> segments = new TreeMap<>();
    private final Map<String, AtomicLong> dropped = Map.of(DROP_FULL, new AtomicLong(), DROP_AGE, new AtomicLong(),
            DROP_CORRUPT, new AtomicLong(), DROP_REJECTED, new AtomicLong(), DROP_CRASH, new AtomicLong());
    private final CRC32C crc = new CRC32C();
    /** Records appended and not yet written: one write for all of them. */
    private byte[] pending = new byte[64 * 1024];
    private int pendingLength;
    private int pendingCount;
    private long pendingFirstSeq;
    private long pendingOldest = Long.MAX_VALUE;
    private long pendingNewest = Long.MIN_VALUE;
    private final long flushBytes;

    private FileChannel active;
    private long nextSeq;
    private long acked;
    private long totalBytes;
    private boolean appendFailing;
    /** Where the record after {@link #hintSeq} starts: reads of consecutive batches do not rescan. */
    private long hintSeq = -1;
    private long hintOffset;
    private long hintSegment = -1;
    private long oldestUnackedMillis = Long.MAX_VALUE;

    private Spool(Path dir, long maxBytes, long maxAgeMillis, LongSupplier clock, String epoch) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        this.maxAgeMillis = maxAgeMillis;
        this.segmentBytes = Math.max(64 * 1024, Math.min(16L << 20, maxBytes / 8));
        this.flushBytes = Math.min(256 * 1024, segmentBytes / 2);
        this.clock = clock;
        this.epoch = epoch;
    }

    /**
     * Opens the spool in {@code dir}, creating it if needed; checks every record and drops a torn
     * or corrupt tail (counted as {@code corrupt}).
     */
    public static Spool open(Path dir, long maxBytes, long maxAgeMillis, LongSupplier clock) throws IOException {
        Files.createDirectories(dir);
        Path epochFile = dir.resolve("epoch");
        String epoch = null;
        if (Files.exists(epochFile)) {
            epoch = Files.readString(epochFile, StandardCharsets.US_ASCII).strip();
            if (!epoch.matches("[0-9a-f]{32}")) {
                LOG.warn("Spool {}: the epoch file is corrupt; the spool starts again", dir);
                epoch = null;
            }
        }
        boolean fresh = epoch == null;
        if (fresh) {
            byte[] id = new byte[16];
            new SecureRandom().nextBytes(id);
            epoch = HexFormat.of().formatHex(id);
        }
        Spool spool = new Spool(dir, maxBytes, maxAgeMillis, clock, epoch);
        if (fresh) {
            spool.discardAll(); // segments without their epoch cannot be delivered under any identity
            writeAtomically(epochFile, epoch.getBytes(StandardCharsets.US_ASCII));
        }
        spool.load();
        return spool;
    }

    private void discardAll() throws IOException {
        long lost = 0;
        for (Path p : segmentFiles()) {
            lost += Math.max(1, Files.size(p) / 200); // an estimate: their records cannot be read as ours
            Files.delete(p);
        }
        Files.deleteIfExists(dir.resolve("acked"));
        Files.deleteIfExists(dir.resolve("sequence")); // a new epoch numbers from 1
        if (lost > 0) {
            dropped.get(DROP_CORRUPT).addAndGet(lost);
        }
    }

    private List<Path> segmentFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.seg")) {
            for (Path p : s) {
                if (p.getFileName().toString().matches("\\d{20}\\.seg")) {
                    files.add(p);
                }
            }
        }
        files.sort(null);
        return files;
    }

    private void load() throws IOException {
        Path ackFile = dir.resolve("acked");
        if (Files.exists(ackFile)) {
            try {
                acked = Long.parseLong(Files.readString(ackFile, StandardCharsets.US_ASCII).strip());
            } catch (NumberFormatException e) {
                LOG.warn("Spool {}: the acked file is corrupt; results may be sent again (the server stores them once)", dir);
                acked = 0;
            }
        }
        List<Path> files = segmentFiles();
        long expected = -1;
        for (int i = 0; i < files.size(); i++) {
            Path p = files.get(i);
            long first = Long.parseLong(p.getFileName().toString().substring(0, 20));
            Segment seg = scan(p, first);
            boolean last = i == files.size() - 1;
            long nextFirst = last ? -1 : Long.parseLong(files.get(i + 1).getFileName().toString().substring(0, 20));
            if (!last && seg.lastSeq < nextFirst - 1) {
                long lost = nextFirst - 1 - seg.lastSeq;
                dropped.get(DROP_CORRUPT).addAndGet(lost);
                LOG.warn("Spool {}: segment {} is corrupt after sequence {}; {} results in it dropped", dir,
                        p.getFileName(), seg.lastSeq, lost);
            } else if (last && seg.truncated) {
                tornTail = true;
                dropped.get(DROP_CORRUPT).incrementAndGet(); // the record a kill tore: one
            }
            if (expected >= 0 && first != expected && first > expected) {
                LOG.info("Spool {}: sequence {} to {} is missing (dropped earlier)", dir, expected, first - 1);
            }
            expected = seg.lastSeq + 1;
            if (seg.records() == 0 || seg.lastSeq <= acked) {
                Files.delete(p);
                continue;
            }
            segments.put(first, seg);
            totalBytes += seg.size;
        }
        long written = Math.max(acked + 1, expected < 0 ? 1 : expected);
        sequence = SequenceFile.open(dir.resolve("sequence"), RESERVE_BLOCK);
        long given = sequence.next();
        nextSeq = Math.max(written, given);
        if (given > written) {
            long lost = given - written - (tornTail ? 1 : 0); // the torn record is counted as corrupt
            if (lost > 0) {
                dropped.get(DROP_CRASH).addAndGet(lost);
            }
            LOG.warn("Spool {}: sequence {} to {} went to results not written before the agent stopped ({}); they are lost and the"
                    + " server counts the gap", dir, written, given - 1, sequence.cleanStop() ? "a clean stop" : "killed, or the machine failed");
        }
        sequence.start(nextSeq);
        updateOldest();
        enforceAge();
    }

    private SequenceFile sequence;
    private boolean tornTail;

    /** Reads a segment through, truncating it after its last good record. */
    private Segment scan(Path p, long first) throws IOException {
        Segment seg = new Segment(p, first);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long pos = 0;
            ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
            CRC32C c = new CRC32C();
            while (pos + HEADER <= size) {
                h.clear();
                readFully(ch, h, pos);
                h.flip();
                int len = h.getInt();
                int sum = h.getInt();
                long seq = h.getLong();
                long time = h.getLong();
                if (len < 0 || len > MAX_RECORD || pos + HEADER + len > size || seq != seg.lastSeq + 1) {
                    break;
                }
                ByteBuffer payload = ByteBuffer.allocate(len);
                readFully(ch, payload, pos + HEADER);
                c.reset();
                c.update(h.array(), 8, 16);
                c.update(payload.array(), 0, len);
                if ((int) c.getValue() != sum) {
                    break;
                }
                seg.lastSeq = seq;
                seg.oldestMillis = Math.min(seg.oldestMillis, time);
                seg.newestMillis = Math.max(seg.newestMillis, time);
                pos += HEADER + len;
            }
            if (pos < size) {
                LOG.warn("Spool {}: {} has a torn or corrupt record at byte {}; {} bytes after it dropped",
                        dir, p.getFileName(), pos, size - pos);
                seg.truncated = true;
                ch.truncate(pos);
            }
            seg.size = pos;
        }
        return seg;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** @return the random id of this spool */
    public String epoch() {
        return epoch;
    }

    /**
     * Appends one record to the spool's write buffer; {@link #flush} writes the buffer to the
     * active segment with one system call (the result sink flushes each time its queue runs dry,
     * so a record waits no longer than the results still queued for the sink). Never throws: a
     * record that cannot be stored is counted as dropped.
     *
     * @param timeMillis when the result was measured
     * @param payload    makes the payload for the sequence number the record gets
     * @return the record's sequence number, or -1 if it was dropped
     */
    public synchronized long append(long timeMillis, LongFunction<byte[]> payload) {
        long seq = nextSeq;
        byte[] body = payload.apply(seq);
        int length = HEADER + body.length;
        if (body.length > MAX_RECORD) {
            dropped.get(DROP_REJECTED).incrementAndGet();
            LOG.warn("A result of {} bytes is larger than the spool takes ({}); dropped", body.length, MAX_RECORD);
            return -1;
        }
        enforceAge();
        if (totalBytes + length > maxBytes) {
            flush(); // the buffer becomes part of a segment that the bound can drop
            while (totalBytes + length > maxBytes && dropOldest(DROP_FULL)) {
                // room made
            }
            if (totalBytes + length > maxBytes) {
                dropped.get(DROP_FULL).incrementAndGet();
                return -1;
            }
        }
        if (pendingLength + length > flushBytes) {
            flush();
        }
        if (pendingLength + length > pending.length) {
            pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
        }
        ByteBuffer h = ByteBuffer.wrap(pending, pendingLength, HEADER).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(body.length).putInt(0).putLong(seq).putLong(timeMillis);
        crc.reset();
        crc.update(pending, pendingLength + 8, 16);
        crc.update(body, 0, body.length);
        ByteBuffer.wrap(pending, pendingLength + 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        System.arraycopy(body, 0, pending, pendingLength + HEADER, body.length);
        if (pendingCount == 0) {
            pendingFirstSeq = seq;
        }
        pendingLength += length;
        pendingCount++;
        pendingOldest = Math.min(pendingOldest, timeMillis);
        pendingNewest = Math.max(pendingNewest, timeMillis);
        totalBytes += length;
        nextSeq = seq + 1;
        sequence.given(nextSeq);
        return seq;
    }

    /**
     * Writes the buffered records to the active segment. On a write error (a full disk) the oldest
     * segment is dropped and the write tried once more; if that fails too, the buffered records are
     * dropped and counted, and their sequence numbers stay used (the server counts them as a gap).
     */
    public synchronized void flush() {
        if (pendingCount == 0) {
            return;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                writePending();
                if (appendFailing) {
                    appendFailing = false;
                    LOG.info("Spool {}: writing works again", dir);
                }
                return;
            } catch (IOException e) {
                if (!appendFailing) {
                    LOG.warn("Spool {}: cannot write ({}); dropping the oldest results to make room", dir, e.toString());
                    appendFailing = true;
                }
                closeActive();
                if (!dropOldest(DROP_FULL)) {
                    break;
                }
            }
        }
        dropped.get(DROP_FULL).addAndGet(pendingCount);
        totalBytes -= pendingLength;
        clearPending(); // their numbers are not given again: the server counts them missing, as they are
    }

    private void clearPending() {
        pendingLength = 0;
        pendingCount = 0;
        pendingOldest = Long.MAX_VALUE;
        pendingNewest = Long.MIN_VALUE;
        if (pending.length > 4 * flushBytes) {
            pending = new byte[(int) flushBytes];
        }
    }

    private void writePending() throws IOException {
        Segment seg = segments.isEmpty() ? null : segments.lastEntry().getValue();
        if (active == null || seg == null || seg.lastSeq != pendingFirstSeq - 1
                || seg.size + pendingLength > segmentBytes && seg.records() > 0) {
            closeActive();
            seg = new Segment(dir.resolve(String.format("%020d.seg", pendingFirstSeq)), pendingFirstSeq);
            active = FileChannel.open(seg.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            active.truncate(0);
            segments.put(pendingFirstSeq, seg);
        }
        long pos = seg.size;
        try {
            if (active.position() != pos) { // only after a failed write: normally the channel is at the end
                active.position(pos);
            }
            ByteBuffer buf = ByteBuffer.wrap(pending, 0, pendingLength);
            while (buf.hasRemaining()) {
                active.write(buf);
            }
        } catch (IOException e) {
            try {
                active.truncate(pos); // no half record stays behind
                active.position(pos);
            } catch (IOException ignored) {
                // the scan at the next open drops it
            }
            if (seg.records() == 0) {
                segments.remove(seg.firstSeq);
                closeActive();
                Files.deleteIfExists(seg.path);
            }
            throw e;
        }
        seg.size = pos + pendingLength;
        seg.lastSeq = pendingFirstSeq + pendingCount - 1;
        seg.oldestMillis = Math.min(seg.oldestMillis, pendingOldest);
        seg.newestMillis = Math.max(seg.newestMillis, pendingNewest);
        if (oldestUnackedMillis == Long.MAX_VALUE) {
            oldestUnackedMillis = pendingOldest;
        }
        clearPending();
    }

    /** Drops the oldest segment, counting its unacknowledged records; false if there is none to drop. */
    private boolean dropOldest(String reason) {
        if (segments.isEmpty()) {
            return false;
        }
        Segment seg = segments.firstEntry().getValue();
        if (seg == segments.lastEntry().getValue()) {
            closeActive();
        }
        segments.pollFirstEntry();
        long unacked = seg.lastSeq - Math.max(acked, seg.firstSeq - 1);
        if (unacked > 0) {
            dropped.get(reason).addAndGet(unacked);
            LOG.warn("Spool {}: {} results up to sequence {} dropped ({})", dir, unacked, seg.lastSeq,
                    reason.equals(DROP_AGE) ? "older than the spool keeps" : "the spool or the disk is full");
        }
        totalBytes -= seg.size;
        try {
            Files.deleteIfExists(seg.path);
        } catch (IOException e) {
            LOG.warn("Spool {}: cannot delete {}: {}", dir, seg.path.getFileName(), e.toString());
        }
        if (hintSegment == seg.firstSeq) {
            hintSegment = -1;
        }
        updateOldest();
        return true;
    }

    private void enforceAge() {
        long limit = clock.getAsLong() - maxAgeMillis;
        while (!segments.isEmpty() && segments.firstEntry().getValue().newestMillis < limit
                && segments.firstEntry().getValue().records() > 0) {
            dropOldest(DROP_AGE);
        }
    }

    /** Drops what is too old now; called now and then, also when nothing is appended. */
    public synchronized void maintain() {
        flush();
        enforceAge();
    }

    /**
     * Reads the oldest unacknowledged records.
     *
     * @param maxRecords most records to return
     * @param maxBytes   most payload bytes to return (at least one record is returned)
     */
    public synchronized List<Record> read(int maxRecords, long maxBytes) throws IOException {
        flush();
        List<Record> out = new ArrayList<>();
        long from = acked + 1;
        long bytes = 0;
        Map.Entry<Long, Segment> e = segments.floorEntry(from);
        if (e == null) {
            e = segments.ceilingEntry(from);
        }
        while (e != null && out.size() < maxRecords) {
            Segment seg = e.getValue();
            long pos = hintSegment == seg.firstSeq && hintSeq == from - 1 && hintSeq >= seg.firstSeq - 1 ? hintOffset : 0;
            try (FileChannel ch = FileChannel.open(seg.path, StandardOpenOption.READ)) {
                // one read for many records: as much of the segment as the batch may take
                while (pos + HEADER <= seg.size && out.size() < maxRecords) {
                    long chunk = Math.min(seg.size - pos, Math.max(HEADER + MAX_RECORD, maxBytes - bytes + HEADER * 64L));
                    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 16, chunk)).order(ByteOrder.LITTLE_ENDIAN);
                    readFully(ch, buf, pos);
                    buf.flip();
                    boolean more = false;
                    while (buf.remaining() >= HEADER && out.size() < maxRecords) {
                        int at = buf.position();
                        int len = buf.getInt(at);
                        long seq = buf.getLong(at + 8);
                        long time = buf.getLong(at + 16);
                        if (buf.remaining() < HEADER + len) {
                            more = true; // the record goes on past this read
                            break;
                        }
                        if (seq >= from) {
                            if (!out.isEmpty() && bytes + len > maxBytes) {
                                return out;
                            }
                            byte[] payload = new byte[len];
                            buf.get(at + HEADER, payload);
                            out.add(new Record(seq, time, payload));
                            bytes += len;
                            from = seq + 1;
                        }
                        buf.position(at + HEADER + len);
                        pos += HEADER + len;
                        hintSegment = seg.firstSeq;
                        hintSeq = seq;
                        hintOffset = pos;
                    }
                    if (!more && buf.remaining() < HEADER && pos + HEADER > seg.size) {
                        break;
                    }
                }
            } catch (NoSuchFileException gone) {
                // dropped meanwhile: go on with the next
            }
            e = segments.higherEntry(e.getKey());
        }
        return out;
    }

    /** The server has stored everything up to and including {@code seq}. */
    public synchronized void ack(long seq) throws IOException {
        if (seq <= acked) {
            return;
        }
        acked = seq;
        writeAtomically(dir.resolve("acked"), Long.toString(seq).getBytes(StandardCharsets.US_ASCII));
        while (!segments.isEmpty() && segments.firstEntry().getValue().lastSeq <= acked) {
            Segment seg = segments.firstEntry().getValue();
            if (seg == segments.lastEntry().getValue()) {
                // the active one: keep appending to it unless it is full
                if (seg.size < segmentBytes) {
                    break;
                }
                closeActive();
            }
            segments.pollFirstEntry();
            totalBytes -= seg.size;
            Files.deleteIfExists(seg.path);
        }
        updateOldest();
    }

    private void updateOldest() {
        oldestUnackedMillis = Long.MAX_VALUE;
        for (Segment seg : segments.values()) {
            if (seg.lastSeq > acked) {
                oldestUnackedMillis = seg.firstSeq > acked ? seg.oldestMillis : peekTime(seg, acked + 1);
                return;
            }
        }
    }

    private long peekTime(Segment seg, long seq) {
        if (hintSegment == seg.firstSeq && hintSeq == seq - 1 && hintOffset + HEADER <= seg.size) {
            try (FileChannel ch = FileChannel.open(seg.path, StandardOpenOption.READ)) {
                ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, h, hintOffset);
                return h.getLong(16);
            } catch (IOException e) {
                // fall back to the segment's oldest
            }
        }
        return seg.oldestMillis;
    }

    /** @return results waiting to be acknowledged */
    public synchronized long records() {
        long n = pendingCount;
        for (Segment seg : segments.values()) {
            n += Math.max(0, seg.lastSeq - Math.max(acked, seg.firstSeq - 1));
        }
        return n;
    }

    /** @return bytes on disk */
    public synchronized long bytes() {
        return totalBytes;
    }

    /** @return measuring time of the oldest unacknowledged result, or {@link Long#MAX_VALUE} if none */
    public synchronized long oldestMillis() {
        return records() == 0 ? Long.MAX_VALUE : Math.min(oldestUnackedMillis, pendingOldest);
    }

    /** @return the sequence number the next record gets */
    public synchronized long nextSeq() {
        return nextSeq;
    }

    /** @return the highest acknowledged sequence number */
    public synchronized long acked() {
        return acked;
    }

    /** @return results dropped since open, by reason */
    public Map<String, Long> dropped() {
        return Map.of(DROP_FULL, dropped.get(DROP_FULL).get(), DROP_AGE, dropped.get(DROP_AGE).get(),
                DROP_CORRUPT, dropped.get(DROP_CORRUPT).get(), DROP_REJECTED, dropped.get(DROP_REJECTED).get(),
                DROP_CRASH, dropped.get(DROP_CRASH).get());
    }

    /** Counts results the server refused for good, which are acknowledged to get past them. */
    public void rejected(long count) {
        dropped.get(DROP_REJECTED).addAndGet(count);
    }

    /** Forces the active segment to disk (a kill loses nothing already written; a power cut would). */
    public synchronized void sync() {
        if (active != null) {
            try {
                active.force(false);
            } catch (IOException e) {
                LOG.debug("sync failed", e);
            }
        }
    }

    private void closeActive() {
        if (active != null) {
            try {
                active.close();
            } catch (IOException e) {
                // nothing to do
            }
            active = null;
        }
    }

    @Override
    public synchronized void close() {
        flush();
        sync();
        closeActive();
        if (sequence != null) {
            sequence.close(nextSeq);
        }
    }

    private static void writeAtomically(Path file, byte[] content) throws IOException {
        io.sonde.base.AtomicFiles.write(file, content);
    }
}
