package org.popsolutions.spanker.cluster.control;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.popsolutions.spanker.api.cluster.ClusterException;

/**
 * Where a running cluster is written down so later commands find it: {@code <home>/state.json}, readable by the
 * user only, written to a temporary file and renamed. {@code <home>} is {@code spanker.cluster.home} or
 * {@code ~/.cache/spanker/cluster}; each cluster's logs and ready files live in {@code <home>/<name>/}.
 */
public final class StateFile {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final Path home;

    public StateFile(Path home) {
        this.home = home;
    }

    public static StateFile standard() {
        String configured = System.getProperty("spanker.cluster.home");
        return new StateFile(configured != null ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "spanker", "cluster"));
    }

    /** One node process. */
    public record ProcessEntry(int index, long pid, int hazelcastPort, int nodes) {
    }

    /** A running cluster. */
    public record State(int version, String name, String layout, int rootPort, String directory, long startedMillis,
            List<ProcessEntry> processes) {
    }

    public Path home() {
        return home;
    }

    Path path() {
        return home.resolve("state.json");
    }

    /** The directory for one cluster's logs and ready files, created user-only. */
    Path runDirectory(String name) throws IOException {
        Path directory = home.resolve(name);
        createPrivateDirectory(home);
        createPrivateDirectory(directory);
        return directory;
    }

    private static void createPrivateDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        try {
            Files.createDirectories(directory.getParent());
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // Created meanwhile by another command; fine.
        }
    }

    /** The running cluster, or {@code null} when none is recorded. */
    public State read() {
        Path path = path();
        if (!Files.exists(path)) {
            return null;
        }
        try {
            State state = GSON.fromJson(Files.readString(path, StandardCharsets.UTF_8), State.class);
            if (state == null || state.version() != 1 || state.name() == null || state.processes() == null) {
                throw new ClusterException("cluster state file " + path + " is not a version 1 state; "
                        + "stop the processes it lists by hand and delete it");
            }
            return state;
        } catch (IOException | JsonParseException e) {
            throw new ClusterException("cluster state file " + path + " cannot be read (" + e.getMessage()
                    + "); delete it if no cluster runs");
        }
    }

    public void write(State state) throws IOException {
        createPrivateDirectory(home);
        Path temporary = home.resolve("state.json.tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temporary, GSON.toJson(state), StandardCharsets.UTF_8);
        Files.move(temporary, path(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public void delete() throws IOException {
        Files.deleteIfExists(path());
    }
}
