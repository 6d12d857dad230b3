package io.sonde.spool;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spool's sequence numbers, given once ever: the next number to give, written to a shared
 * memory map at every append (it survives the process being killed: the page is the kernel's), and
 * a number reserved ahead, written and synced once per block (it survives the machine failing). A
 * start after a kill continues after the last number given, even one whose result was never
 * written; after a machine failure, after the reservation. Either way a lost result leaves its
 * number missing, which the server counts.
 *
 * <p>Layout, 64 bytes, little-endian: {@code "SQ01"} | clean stop (4: 1 after a clean stop) |
 * next (8) | reserved (8) | boot id (36, ASCII) | padding.
 */
final class SequenceFile {

    private static final Logger LOG = LoggerFactory.getLogger(SequenceFile.class);
    static final int SIZE = 64;
    private static final int MAGIC = 0x31305153; // "SQ01"
    private static final int CLEAN = 4;
    private static final int NEXT = 8;
    private static final int RESERVED = 16;
    private static final int BOOT = 24;
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private final Path file;
    private final long block;
    private final String boot;
    private final long next;
    private final boolean cleanStop;
    private FileChannel channel;
    private MappedByteBuffer map;
    private long reserved;

    private SequenceFile(Path file, long block, String boot, long next, boolean cleanStop) {
        this.file = file;
        this.block = block;
        this.boot = boot;
        this.next = next;
        this.cleanStop = cleanStop;
    }

    /** Reads what the last run left (nothing for a new spool). */
    static SequenceFile open(Path file, long block) throws IOException {
        String boot = bootId();
        long next = 0;
        boolean clean = false;
        if (Files.exists(file)) {
            byte[] b = Files.readAllBytes(file);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            if (b.length >= SIZE && buf.getInt(0) == MAGIC) {
                clean = buf.getInt(CLEAN) == 1;
                String was = new String(b, BOOT, 36, StandardCharsets.US_ASCII);
                // after a clean stop or a kill the next number is exact; after the machine failed, only the reservation is sure
                next = clean || (!boot.isEmpty() && was.equals(boot)) ? buf.getLong(NEXT) : buf.getLong(RESERVED);
            } else {
                LOG.warn("Spool sequence file {} is not readable; numbering goes on after the records kept", file);
            }
        }
        return new SequenceFile(file, block, boot, next, clean);
    }

    /** @return the number the last run would have given next (0 for none) */
    long next() {
        return next;
    }

    /** @return whether the last run stopped cleanly */
    boolean cleanStop() {
        return cleanStop;
    }

    /** Starts this run's numbering at {@code first}. */
    void start(long first) throws IOException {
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        map = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
        map.order(ByteOrder.LITTLE_ENDIAN);
        map.putInt(0, MAGIC);
        map.putInt(CLEAN, 0);
        byte[] b = String.format("%-36s", boot).substring(0, 36).getBytes(StandardCharsets.US_ASCII);
        map.put(BOOT, b);
        map.putLong(NEXT, first);
        reserve(first);
    }

    /** The numbers below {@code next} are given: written to memory the kernel keeps, and reserved on disk a block ahead. */
    void given(long nextSeq) {
        if (map == null) {
            return;
        }
        map.putLong(NEXT, nextSeq);
        if (nextSeq > reserved) {
            reserve(nextSeq);
        }
    }

    private void reserve(long from) {
        reserved = from + block;
        map.putLong(RESERVED, reserved);
        map.force();
    }

    /** A clean stop: the next number is exact, whatever happens to the machine before the next start. */
    void close(long nextSeq) {
        if (map == null) {
            return;
        }
        map.putLong(NEXT, nextSeq);
        map.putInt(CLEAN, 1);
        map.force();
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("Closing {}: {}", file, e.toString());
        }
        map = null;
    }

    private static String bootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
        } catch (IOException | RuntimeException e) {
            return ""; // no boot id: only a clean stop's number is trusted, else the reservation
        }
    }
}
