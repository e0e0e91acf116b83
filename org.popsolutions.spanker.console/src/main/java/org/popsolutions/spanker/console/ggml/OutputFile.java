package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.ggml.gguf.FileChecks;

/**
 * A file a command writes. Its path is checked before any work (a folder, a device, a missing folder or an input
 * of the same command are refused up front), and it is written to a temporary file beside the target that is
 * renamed over it only once complete: a failed write leaves the target as it was and nothing partial behind, and a
 * file the command reads (perhaps memory-mapped) is never written into.
 */
final class OutputFile {
    /** Writes the complete content into a fresh, empty file. */
    @FunctionalInterface
    interface Content {
        void writeTo(Path file) throws IOException;
    }

    private final String option;
    private final String given;
    private final Path target;

    private OutputFile(String option, String given, Path target) {
        this.option = option;
        this.given = given;
        this.target = target;
    }

    /** Checks the path given to {@code option} (e.g. "--out") as a place for a new or replaced regular file. */
    static OutputFile of(String option, String path) {
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            throw new UsageException(option + " '" + path + "' is not a valid path: " + e.getReason());
        }
        if (path.isBlank() || p.getFileName() == null) {
            throw new UsageException(option + " needs a file name, got '" + path + "'");
        }
        Path target = p.toAbsolutePath();
        if (Files.exists(p)) {
            BasicFileAttributes attributes;
            try {
                // through a symbolic link: the file it points at is the one replaced, the link stays
                target = p.toRealPath();
                attributes = Files.readAttributes(target, BasicFileAttributes.class);
            } catch (IOException e) {
                throw new UsageException(option + " " + path + ": " + FileChecks.reason(e));
            }
            if (attributes.isDirectory()) {
                throw new UsageException(option + " " + path + " is a folder; give a file name inside it");
            }
            if (!attributes.isRegularFile()) {
                throw new UsageException(option + " " + path + " is not a regular file (a device, FIFO or socket);"
                        + " give the path of a file to write");
            }
        }
        Path folder = target.getParent();
        if (!Files.exists(folder)) {
            throw new UsageException(option + " " + path + ": the folder " + folder + " does not exist");
        }
        if (!Files.isDirectory(folder)) {
            throw new UsageException(option + " " + path + ": " + folder + " is not a folder");
        }
        if (!Files.isWritable(folder)) {
            throw new UsageException(option + " " + path + ": permission denied to create files in " + folder);
        }
        return new OutputFile(option, path, target);
    }

    /**
     * Refuses an output that is the same file as the input given to {@code inputOption}: the same name, another
     * name, a symbolic or a hard link alike (the operating system's file identity decides, not the names).
     */
    OutputFile notSameAs(String inputOption, String input) {
        try {
            if (Files.exists(target) && Files.isSameFile(target, Path.of(input))) {
                throw new UsageException(option + " " + given + " is the same file as " + inputOption + " " + input
                        + "; writing it would destroy the input: give another " + option);
            }
        } catch (IOException | InvalidPathException e) {
            // an input that cannot be resolved is reported when it is read
        }
        return this;
    }

    Path path() {
        return target;
    }

    void write(byte[] bytes) {
        write(file -> Files.write(file, bytes));
    }

    /** Writes through a temporary file beside the target, then renames it into place; on failure deletes it. */
    void write(Content content) {
        Path partial = createPartial();
        boolean done = false;
        try {
            content.writeTo(partial);
            try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE)) {
                channel.force(true); // on disk before the rename makes it visible under the real name
            }
            keepPermissionsOfTheReplacedFile(partial);
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } catch (IOException e) {
            throw failure(FileChecks.reason(e), e);
        } catch (UncheckedIOException e) {
            throw failure(FileChecks.reason(e.getCause()), e);
        } catch (InternalError e) {
            // an I/O error under a memory mapping surfaces as an InternalError (e.g. a full disk)
            throw failure("I/O error in a memory-mapped file (" + e.getMessage() + ")", e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(partial);
                } catch (IOException e) {
                    // nothing more to do: the name ends in .partial and says what it is
                }
            }
        }
    }

    private void keepPermissionsOfTheReplacedFile(Path partial) throws IOException {
        if (Files.exists(target) && Files.getFileStore(target).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(partial, Files.getPosixFilePermissions(target));
        }
    }

    private Path createPartial() {
        Path folder = target.getParent();
        for (int attempt = 0;; attempt++) {
            Path partial = folder.resolve("." + target.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + ".partial");
            try {
                return Files.createFile(partial);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw failure("cannot create a temporary file beside it", e);
                }
            } catch (IOException e) {
                throw failure("cannot create a file in " + folder + " (" + FileChecks.reason(e) + ")", e);
            }
        }
    }

    private DeviceException failure(String reason, Throwable cause) {
        return new DeviceException("cannot write " + option + " " + given + ": " + reason + "; nothing was written",
                cause);
    }
}
