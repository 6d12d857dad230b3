package io.sonde.spool;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

public class SpoolTest {

    private Path dir;
    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);

    @Before
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("spool-test");
    }

    @After
    public void tearDown() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private Spool open(long maxBytes) throws IOException {
        return Spool.open(dir, maxBytes, 3_600_000, now::get);
    }

    private static long append(Spool s, long time, String text) {
        return s.append(time, seq -> (seq + ":" + text).getBytes(StandardCharsets.UTF_8));
    }

    private static List<Long> seqs(List<Spool.Record> records) {
        List<Long> out = new ArrayList<>();
        for (Spool.Record r : records) {
            out.add(r.seq());
            assertTrue(new String(r.payload(), StandardCharsets.UTF_8).startsWith(r.seq() + ":"));
        }
        return out;
    }

    @Test
    public void appendReadAckInOrder() throws IOException {
        try (Spool s = open(1 << 20)) {
            for (int i = 0; i < 10; i++) {
                assertEquals(i + 1, append(s, now.get() + i, "r" + i));
            }
            assertEquals(10, s.records());
            assertEquals(List.of(1L, 2L, 3L, 4L), seqs(s.read(4, 1 << 20)));
            s.ack(4);
            assertEquals(6, s.records());
            assertEquals(now.get() + 4, s.oldestMillis());
            assertEquals(List.of(5L, 6L, 7L, 8L, 9L, 10L), seqs(s.read(100, 1 << 20)));
            s.ack(10);
            assertEquals(0, s.records());
            assertEquals(Long.MAX_VALUE, s.oldestMillis());
            assertTrue(s.read(100, 1 << 20).isEmpty());
        }
    }

    @Test
    public void readIsBoundedInBytesButTakesAtLeastOne() throws IOException {
        try (Spool s = open(1 << 20)) {
            for (int i = 0; i < 5; i++) {
                append(s, now.get(), "x".repeat(100));
            }
            assertEquals(2, s.read(100, 250).size());
            assertEquals(1, s.read(100, 10).size());
        }
    }

    @Test
    public void reopenKeepsEpochAndSequenceAndUnackedRecords() throws IOException {
        String epoch;
        try (Spool s = open(1 << 20)) {
            epoch = s.epoch();
            for (int i = 0; i < 5; i++) {
                append(s, now.get(), "a");
            }
            s.read(3, 1 << 20);
            s.ack(3);
        }
        try (Spool s = open(1 << 20)) {
            assertEquals(epoch, s.epoch());
            assertEquals(2, s.records());
            assertEquals(List.of(4L, 5L), seqs(s.read(10, 1 << 20)));
            assertEquals(6, append(s, now.get(), "b"));
            s.ack(6);
        }
        try (Spool s = open(1 << 20)) {
            assertEquals(0, s.records());
            assertEquals("the sequence goes on after everything was acknowledged", 7, append(s, now.get(), "c"));
        }
    }

    @Test
    public void tornTailIsDroppedAndCounted() throws IOException {
        try (Spool s = open(1 << 20)) {
            for (int i = 0; i < 3; i++) {
                append(s, now.get(), "payload" + i);
            }
        }
        Path seg = segments().get(0);
        long size = Files.size(seg);
        try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
            f.setLength(size - 3); // the last record is cut short, as a kill mid-write leaves it
        }
        try (Spool s = open(1 << 20)) {
            assertEquals(List.of(1L, 2L), seqs(s.read(10, 1 << 20)));
            assertEquals(1L, (long) s.dropped().get("corrupt"));
            assertEquals("the torn record's number is never given again: the server sees it missing", 4, append(s, now.get(), "new"));
            assertEquals(List.of(1L, 2L, 4L), seqs(s.read(10, 1 << 20)));
            assertEquals("the torn one is counted once, as corrupt", 0L, (long) s.dropped().get("crash"));
        }
    }

    @Test
    public void aKillLosesTheUnwrittenResultsAndTheirNumbersStayUsed() throws IOException {
        Spool killed = open(1 << 20);
        for (int i = 0; i < 5; i++) {
            append(killed, now.get(), "written" + i);
        }
        killed.flush();
        for (int i = 0; i < 3; i++) {
            append(killed, now.get(), "in the buffer" + i); // 6, 7, 8: given, never written
        }
        // the process dies here: no flush, no close (its memory map is the kernel's, as after a SIGKILL)
        try (Spool s = open(1 << 20)) {
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(s.read(10, 1 << 20)));
            assertEquals(3L, (long) s.dropped().get("crash"));
            assertEquals("numbering goes on after the last number given", 9, append(s, now.get(), "after"));
        }
    }

    @Test
    public void afterAMachineFailureNumberingGoesOnAfterTheReservation() throws IOException {
        try (Spool s = open(1 << 20)) {
            append(s, now.get(), "one");
            append(s, now.get(), "two");
        }
        // another boot, and no clean stop recorded: what was in memory may be gone, only the synced reservation is sure
        Path seq = dir.resolve("sequence");
        byte[] b = Files.readAllBytes(seq);
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(4, 0);
        byte[] other = String.format("%-36s", "00000000-0000-0000-0000-000000000000").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(other, 0, b, 24, 36);
        Files.write(seq, b);
        try (Spool s = open(1 << 20)) {
            long next = append(s, now.get(), "three");
            assertEquals("the reservation made at the first number: 1 + a block", 1 + Spool.RESERVE_BLOCK, next);
            assertEquals(Spool.RESERVE_BLOCK - 2, (long) s.dropped().get("crash"));
        }
    }

    @Test
    public void aSequenceFileThatIsNotOursNumbersOnAfterTheRecordsKept() throws IOException {
        try (Spool s = open(1 << 20)) {
            append(s, now.get(), "one");
            append(s, now.get(), "two");
        }
        Files.write(dir.resolve("sequence"), "garbage".getBytes(StandardCharsets.US_ASCII));
        try (Spool s = open(1 << 20)) {
            assertEquals(List.of(1L, 2L), seqs(s.read(10, 1 << 20)));
            assertEquals(3, append(s, now.get(), "three"));
            assertEquals(0L, (long) s.dropped().get("crash"));
        }
        try (Spool s = open(1 << 20)) {
            assertEquals("and the file is whole again", 4, append(s, now.get(), "four"));
        }
    }

    @Test
    public void aCleanStopGivesTheExactNextNumberEvenAfterAnotherBoot() throws IOException {
        try (Spool s = open(1 << 20)) {
            append(s, now.get(), "one");
        }
        Path seq = dir.resolve("sequence");
        byte[] b = Files.readAllBytes(seq);
        byte[] other = String.format("%-36s", "00000000-0000-0000-0000-000000000000").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(other, 0, b, 24, 36);
        Files.write(seq, b);
        try (Spool s = open(1 << 20)) {
            assertEquals(2, append(s, now.get(), "two"));
            assertEquals(0L, (long) s.dropped().get("crash"));
        }
    }

    @Test
    public void aTornHeaderIsDroppedToo() throws IOException {
        try (Spool s = open(1 << 20)) {
            append(s, now.get(), "one");
        }
        Path seg = segments().get(0);
        Files.write(seg, new byte[] {7, 0, 0}, java.nio.file.StandardOpenOption.APPEND);
        try (Spool s = open(1 << 20)) {
            assertEquals(List.of(1L), seqs(s.read(10, 1 << 20)));
        }
    }

    @Test
    public void corruptMiddleSegmentLosesOnlyWhatIsUnreadable() throws IOException {
        // 64 KiB segments (the smallest): 900 records of ~200 bytes fill a few
        try (Spool s = open(512 * 1024)) {
            for (int i = 0; i < 900; i++) {
                append(s, now.get(), "y".repeat(180));
            }
        }
        List<Path> segs = segments();
        assertTrue(segs.size() >= 3);
        Path middle = segs.get(1);
        long first = Long.parseLong(middle.getFileName().toString().substring(0, 20));
        long next = Long.parseLong(segs.get(2).getFileName().toString().substring(0, 20));
        try (RandomAccessFile f = new RandomAccessFile(middle.toFile(), "rw")) {
            // a flipped byte in the payload of the 11th record of the segment
            long pos = 10L * (Spool.HEADER + 180 + String.valueOf(first + 10).length() + 1) + Spool.HEADER + 5;
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x40);
        }
        try (Spool s = open(512 * 1024)) {
            List<Long> got = seqs(s.read(10_000, 1 << 30));
            long lost = next - (first + 10);
            assertEquals(900 - lost, got.size());
            assertEquals(first + 9, (long) got.get((int) (first + 8)));
            assertEquals(next, (long) got.get((int) (first + 9)));
            assertEquals(lost, (long) s.dropped().get("corrupt"));
            assertEquals(901, append(s, now.get(), "z"));
        }
    }

    @Test
    public void fullSpoolDropsTheOldestSegmentAndCountsIt() throws IOException {
        long max = 256 * 1024; // segments of 64 KiB
        try (Spool s = open(max)) {
            for (int i = 0; i < 5000; i++) {
                append(s, now.get(), "z".repeat(200));
            }
            assertTrue(s.bytes() <= max);
            long kept = s.records();
            long dropped = s.dropped().get("full");
            assertEquals(5000, kept + dropped);
            assertTrue(dropped > 3000);
            List<Spool.Record> oldest = s.read(1, 1 << 20);
            assertEquals("oldest first: what remains is the newest", 5000 - kept + 1, oldest.get(0).seq());
        }
    }

    @Test
    public void oldRecordsAreDroppedByAge() throws IOException {
        try (Spool s = open(1 << 20)) {
            append(s, now.get(), "old");
            now.addAndGet(3_600_001);
            s.maintain();
            assertEquals(0, s.records());
            assertEquals(1L, (long) s.dropped().get("age"));
            assertEquals(2, append(s, now.get(), "new"));
        }
    }

    @Test
    public void aCorruptEpochStartsAFreshSpool() throws IOException {
        String epoch;
        try (Spool s = open(1 << 20)) {
            epoch = s.epoch();
            append(s, now.get(), "a");
        }
        Files.writeString(dir.resolve("epoch"), "garbage");
        try (Spool s = open(1 << 20)) {
            assertNotEquals(epoch, s.epoch());
            assertEquals(0, s.records());
            assertTrue(s.dropped().get("corrupt") > 0);
            assertEquals(1, append(s, now.get(), "b"));
        }
    }

    @Test
    public void ackedOnlyDeletesWholeSegments() throws IOException {
        try (Spool s = open(512 * 1024)) {
            for (int i = 0; i < 2000; i++) {
                append(s, now.get(), "w".repeat(100));
            }
            int before = segments().size();
            List<Spool.Record> all = new ArrayList<>();
            List<Spool.Record> batch;
            while (!(batch = s.read(333, 1 << 20)).isEmpty()) {
                all.addAll(batch);
                s.ack(batch.get(batch.size() - 1).seq());
            }
            assertEquals(2000, all.size());
            for (int i = 0; i < all.size(); i++) {
                assertEquals(i + 1, all.get(i).seq());
            }
            assertTrue(segments().size() < before);
            assertEquals(0, s.records());
        }
    }

    private List<Path> segments() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
        }
    }
}
