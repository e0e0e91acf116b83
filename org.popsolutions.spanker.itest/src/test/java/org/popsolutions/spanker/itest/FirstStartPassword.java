package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs the distribution's own first-start step ({@code bin/spanker-admin-password}, taken from the archive under
 * test) on its shipped {@code etc/users.properties}, as the first {@code bin/start} does, and returns the file it
 * wrote and the password it printed. Runs in the test JVM, before the container starts.
 */
record FirstStartPassword(Path usersFile, String password) {
    private static final Pattern PRINTED_PASSWORD = Pattern.compile("(?m)^ {4}([A-Za-z0-9]{24})$");

    static FirstStartPassword create(String distribution, Path directory) throws IOException, InterruptedException {
        Path workDirectory = directory.toAbsolutePath();
        deleteRecursively(workDirectory);
        Files.createDirectories(workDirectory);
        run(workDirectory, List.of("tar", "-xzf", distribution, "-C", workDirectory.toString(), "--wildcards",
                "*/bin/spanker-admin-password", "*/etc/users.properties"));
        Path home;
        try (Stream<Path> entries = Files.list(workDirectory)) {
            home = entries.findFirst().orElseThrow();
        }
        Path users = home.resolve("etc/users.properties");
        String shipped = Files.readString(users);
        String printed = run(home, List.of("sh", "bin/spanker-admin-password"));
        Matcher matcher = PRINTED_PASSWORD.matcher(printed);
        assertTrue("the first start prints the password: " + printed, matcher.find());
        String written = Files.readString(users);
        assertTrue("the shipped file had no user: " + shipped, !shipped.lines().anyMatch(FirstStartPassword::isUserLine));
        assertEquals("the second start leaves the password alone", "", run(home, List.of("sh", "bin/spanker-admin-password")));
        assertEquals(written, Files.readString(users));
        assertEquals("readable by its owner only", java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(users));
        return new FirstStartPassword(users, matcher.group(1));
    }

    /** {@code name = ...}, not a comment, not a group. */
    static boolean isUserLine(String line) {
        String trimmed = line.strip();
        return !trimmed.isEmpty() && !trimmed.startsWith("#") && !trimmed.startsWith("_g_") && trimmed.contains("=");
    }

    private static String run(Path directory, List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        try {
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(command + " finished", process.waitFor(60, TimeUnit.SECONDS));
            assertEquals(command + ": " + output, 0, process.exitValue());
            return output;
        } finally {
            process.destroyForcibly();
        }
    }

    private static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
