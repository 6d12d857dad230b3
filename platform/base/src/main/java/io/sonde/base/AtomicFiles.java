package io.sonde.base;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a file whole and durably: the new content is written beside it (a dot file of its own, which the
 * directory watchers of etc/ and plugins/ pass over), forced to disk, renamed over the file in one step, and
 * the directory forced too. A reader sees the old file or the new one, never a part; after a power cut, the
 * file is the old one or the new one, never empty. Writers of one file in a process take turns; a temporary file left by
 * a process killed while writing is replaced by the next write.
 */
public final class AtomicFiles {

    /** Owner only: {@code rw-------}. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** Writers of the same file take turns: they share its temporary file. */
    private static final Object[] LOCKS = new Object[64];

    static {
        for (int i = 0; i < LOCKS.length; i++) {
            LOCKS[i] = new Object();
        }
    }

    /** What goes into the file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Writes {@code bytes} as {@code file}: with the permissions of the file it replaces, else owner only.
     *
     * @throws IOException when it cannot: the file is then as it was
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, out -> out.write(bytes), null);
    }

    /**
     * Writes {@code bytes} as {@code file} with {@code permissions} (null: those of the file it replaces, else owner
     * only; ignored where the file system has none).
     */
    public static void write(Path file, byte[] bytes, Set<PosixFilePermission> permissions) throws IOException {
        write(file, out -> out.write(bytes), permissions);
    }

    /**
     * Writes what {@code content} writes as {@code file} with {@code permissions} (null: those of the file it
     * replaces, else owner only). The content may be streamed (a download, a key store): nothing of it shows at
     * {@code file} before all of it is on disk.
     */
    public static void write(Path file, Content content, Set<PosixFilePermission> permissions) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        synchronized (LOCKS[Math.floorMod(absolute.hashCode(), LOCKS.length)]) { // one writer of a file at a time in this JVM
            replace(absolute, content, permissions);
        }
    }

    private static void replace(Path file, Content content, Set<PosixFilePermission> permissions) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp); // left by a process killed while writing
        try {
            create(tmp, permissions != null ? permissions : permissionsOf(file));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        syncDirectory(dir);
    }

    /** Puts a copy of {@code from} at {@code to} in one step, durably, with the permissions of what it replaces. */
    public static void copy(Path from, Path to) throws IOException {
        write(to, out -> Files.copy(from, out), null);
    }

    /** Forces a directory's entries (a rename, a new file) to disk, where the file system does that. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            // not every file system syncs a directory (nor lets one be opened): the rename is atomic all the same
        }
    }

    private static Set<PosixFilePermission> permissionsOf(Path file) {
        try {
            return Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return OWNER_ONLY; // none yet, or no POSIX permissions here
        }
    }

    private static void create(Path tmp, Set<PosixFilePermission> permissions) throws IOException {
        FileAttribute<?>[] attributes = {};
        if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            attributes = new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)};
        }
        Files.createFile(tmp, attributes);
        if (attributes.length > 0) {
            Files.setPosixFilePermissions(tmp, permissions); // the umask took bits away at creation
        }
    }
}
