package org.popsolutions.spanker.ggml.gguf;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/**
 * Why a file cannot be read or written, in words a user acts on. The JDK's own messages often hold only the path
 * ({@code AccessDeniedException.getMessage()} is the file name), which made errors read "cannot read X: X".
 */
public final class FileChecks {
    private FileChecks() {
    }

    /** The reason of an I/O failure: "no such file or folder", "permission denied", "no space left on device", … */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "a path element is not a folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "is a folder that is not empty";
        }
        String reason = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        if (reason == null || reason.isBlank()) {
            return e.getClass().getSimpleName();
        }
        // the operating system's strerror text ("No space left on device"), in the style of our messages
        return reason.substring(0, 1).toLowerCase(Locale.ROOT) + reason.substring(1);
    }

    /**
     * What stops {@code path} from being read as a whole file: null when it is a regular file, otherwise "no such
     * file", "is a folder" or "is not a regular file (a device, FIFO or socket)". Devices and FIFOs are refused
     * because reading them may never end ({@code /dev/zero}) or block forever (a FIFO without a writer).
     */
    public static String readProblem(Path path) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return "no such file";
        } catch (IOException e) {
            return reason(e);
        }
        if (attributes.isDirectory()) {
            return "is a folder, not a file";
        }
        if (!attributes.isRegularFile()) {
            return "is not a regular file (a device, FIFO or socket)";
        }
        return null;
    }
}
