package org.popsolutions.spanker.shell.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.karaf.shell.api.console.Candidate;
import org.popsolutions.spanker.api.console.OptionSpec;

/**
 * Completes a file path the way bash does: the entries of the typed directory whose names start with the typed
 * rest, a directory with a trailing {@code /} and left open so TAB goes on into it, {@code ~/} for the home
 * directory. Relative paths are relative to the Karaf process's working directory, which is where the commands
 * open them too.
 */
final class PathCompletion {
    private final Path workingDirectory;
    private final Path home;

    PathCompletion(Path workingDirectory, Path home) {
        this.workingDirectory = workingDirectory;
        this.home = home;
    }

    static PathCompletion ofProcess() {
        return new PathCompletion(Path.of("").toAbsolutePath(), Path.of(System.getProperty("user.home")));
    }

    /**
     * An option whose value is a file: its value name says so ({@code FILE}, {@code DIR}) or has a file
     * extension ({@code FILE.gguf}, {@code X.f32}).
     */
    static boolean isPathOption(OptionSpec option) {
        return !option.isFlag() && option.choices().isEmpty()
                && (isPathArgument(option.valueName()) || option.valueName().matches("[A-Z]+\\.[a-z0-9]+"));
    }

    /** A positional argument named {@code FILE...} or {@code DIR...}. */
    static boolean isPathArgument(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.startsWith("FILE") || upper.startsWith("DIR");
    }

    /** Candidates for the typed word {@code typed}, each prefixed with {@code head} (such as {@code --out=}). */
    void complete(String head, String typed, List<Candidate> candidates) {
        int slash = typed.lastIndexOf('/');
        String directoryPart = slash < 0 ? "" : typed.substring(0, slash + 1);
        String namePrefix = typed.substring(slash + 1);
        Path directory;
        try {
            directory = resolve(directoryPart);
        } catch (InvalidPathException e) {
            return;
        }
        List<Candidate> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.startsWith(namePrefix) || (name.startsWith(".") && !namePrefix.startsWith("."))) {
                    continue;
                }
                boolean isDirectory = Files.isDirectory(entry);
                String value = head + directoryPart + name + (isDirectory ? "/" : "");
                found.add(new Candidate(value, name + (isDirectory ? "/" : ""), null, null, null, null, !isDirectory));
            }
        } catch (IOException | SecurityException e) {
            // an unreadable or missing directory offers nothing, as in bash
            return;
        }
        found.sort(java.util.Comparator.comparing(Candidate::value));
        candidates.addAll(found);
    }

    private Path resolve(String directoryPart) {
        if (directoryPart.isEmpty()) {
            return workingDirectory;
        }
        if (directoryPart.startsWith("~/")) {
            return home.resolve(directoryPart.substring(2));
        }
        return workingDirectory.resolve(directoryPart);
    }
}
