package org.popsolutions.spanker.driver.jni;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Assumptions;

/**
 * The FUSE driver double (spanker-fuse-double, built by the reactor) mounted on a fresh directory, as a real OS
 * process; {@link #close()} unmounts it with fusermount3 and waits for the process to end, so no test leaves a
 * mount or a process behind. Tests are skipped only when the machine has no /dev/fuse.
 */
public final class FuseDouble implements AutoCloseable {
    private static final long MOUNT_TIMEOUT_SECONDS = 20;
    private final Path mountPoint;
    private final Process process;
    private final StringBuilder stderr = new StringBuilder();

    private FuseDouble(Path mountPoint, Process process) {
        this.mountPoint = mountPoint;
        this.process = process;
    }

    /** Mounts the double with {@code options} (see spanker_fuse_double.c) on a new directory under {@code parent}. */
    public static FuseDouble mount(Path parent, String... options) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")),
                "no /dev/fuse on this machine: the kernel cannot mount the FUSE driver double");
        String binary = System.getProperty("spanker.driver.double");
        assertTrue(binary != null && Files.isExecutable(Path.of(binary)), "the FUSE driver double " + binary
                + " was not built: install libfuse3-dev and fuse3 (see .ci/run) and rebuild");
        Path mountPoint = Files.createTempDirectory(parent, "dev");
        List<String> command = new ArrayList<>(List.of(binary));
        command.addAll(List.of(options));
        command.add(mountPoint.toString());
        Process process = new ProcessBuilder(command).start();
        FuseDouble mounted = new FuseDouble(mountPoint, process);
        CompletableFuture<String> firstLine = CompletableFuture.supplyAsync(() -> {
            try {
                return new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
            } catch (IOException e) {
                return null;
            }
        });
        Thread errors = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null;) {
                    synchronized (mounted.stderr) {
                        mounted.stderr.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "fuse-double-stderr");
        errors.setDaemon(true);
        errors.start();
        try {
            String line = firstLine.get(MOUNT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (line == null || !line.startsWith("mounted ")) {
                mounted.close();
                fail("the FUSE driver double did not mount (" + line + "): " + mounted.stderr());
            }
        } catch (ExecutionException | TimeoutException e) {
            mounted.close();
            fail("the FUSE driver double did not mount within " + MOUNT_TIMEOUT_SECONDS + " s: " + mounted.stderr());
        }
        return mounted;
    }

    public Path directory() {
        return mountPoint;
    }

    private String stderr() {
        synchronized (stderr) {
            return stderr.toString();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (process.isAlive()) {
                Process unmount = new ProcessBuilder("fusermount3", "-u", mountPoint.toString())
                        .redirectErrorStream(true).start();
                unmount.getInputStream().readAllBytes();
                unmount.waitFor(10, TimeUnit.SECONDS);
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                // a killed daemon leaves its mount behind; detach it lazily
                new ProcessBuilder("fusermount3", "-uz", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            Files.deleteIfExists(mountPoint);
        }
    }
}
