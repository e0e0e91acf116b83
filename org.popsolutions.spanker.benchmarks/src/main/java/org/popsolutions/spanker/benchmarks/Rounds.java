package org.popsolutions.spanker.benchmarks;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The benchmark side of kernels-vs-ggml.sh's alternated rounds: a measurement iteration waits until the script lets
 * it start, so that ggml's window and the other provider's iteration run between two of ours, each alone on the
 * machine, and the warmed-up fork is kept instead of starting one per round. The script makes two named pipes in one
 * directory per fork ({@code -Dspanker.bench.rounds=DIR}): before each measurement iteration the fork writes
 * {@code ready} to DIR/ready and then reads a line from DIR/go; {@code go} starts the iteration. The script holds both
 * pipes open for reading and writing, so opening them never blocks; when it is gone the read ends and the fork fails
 * instead of waiting forever.
 */
final class Rounds {
    static final String PROPERTY = "spanker.bench.rounds";

    private final Path dir;
    private OutputStream ready;
    private InputStream go;

    Rounds(Path dir) {
        this.dir = dir;
    }

    /** The rounds of this fork, or null when it runs on its own (no {@value #PROPERTY}). */
    static Rounds fromProperty() {
        String dir = System.getProperty(PROPERTY);
        return dir == null || dir.isEmpty() ? null : new Rounds(Path.of(dir));
    }

    /** Says this fork is ready for its next round and returns when the script says go. */
    void await() throws IOException {
        if (ready == null) {
            // ready before go, the order the script opens them in
            ready = new FileOutputStream(dir.resolve("ready").toFile());
            go = new FileInputStream(dir.resolve("go").toFile());
        }
        ready.write("ready\n".getBytes(StandardCharsets.US_ASCII));
        ready.flush();
        StringBuilder line = new StringBuilder();
        for (int c = go.read(); c != '\n'; c = go.read()) {
            if (c < 0) {
                throw new IOException("rounds: " + dir.resolve("go") + " ended before a go (the script is gone)");
            }
            line.append((char) c);
        }
        if (!line.toString().equals("go")) {
            throw new IOException("rounds: expected go on " + dir.resolve("go") + ", read '" + line + "'");
        }
    }
}
