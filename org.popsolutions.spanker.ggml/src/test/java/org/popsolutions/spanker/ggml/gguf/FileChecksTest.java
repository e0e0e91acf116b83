package org.popsolutions.spanker.ggml.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidModelException;

/** Read and write errors say why (the JDK's messages of several exceptions are only the path). */
class FileChecksTest {
    @TempDir
    Path dir;

    @Test
    void reasonsAreWordsNotPaths() {
        assertEquals("permission denied", FileChecks.reason(new AccessDeniedException("/x/y")));
        assertEquals("no such file or folder", FileChecks.reason(new NoSuchFileException("/x/y")));
        assertEquals("no space left on device", FileChecks.reason(new FileSystemException("/x/y", null,
                "No space left on device")));
        assertEquals("file too large", FileChecks.reason(new IOException("File too large")));
    }

    @Test
    void readProblemsOfPaths() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        assertNull(FileChecks.readProblem(file));
        assertEquals("no such file", FileChecks.readProblem(dir.resolve("none")));
        assertEquals("is a folder, not a file", FileChecks.readProblem(dir));
        if (Files.exists(Path.of("/dev/null"))) {
            assertEquals("is not a regular file (a device, FIFO or socket)", FileChecks.readProblem(Path.of(
                    "/dev/null")));
        }
    }

    @Test
    void anUnreadableModelSaysPermissionDenied() throws Exception {
        Path file = Files.write(dir.resolve("locked.gguf"), FuzzGgufTest.smallValidFile());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        assumeFalse(Files.isReadable(file), "root reads any file (the reason mapping is checked above)");
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> GgufReader.open(file));
        assertTrue(e.getMessage().endsWith(file + ": permission denied"), e.getMessage());
    }
}
