package org.popsolutions.spanker.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fork's half of kernels-vs-ggml.sh's round protocol, on plain files in place of the script's named pipes. */
class RoundsTest {
    @TempDir
    Path dir;

    @Test
    void eachRoundSaysReadyAndTakesOneGo() throws IOException {
        Files.writeString(dir.resolve("go"), "go\ngo\n");
        Rounds rounds = new Rounds(dir);
        rounds.await();
        rounds.await();
        assertEquals("ready\nready\n", Files.readString(dir.resolve("ready")));
    }

    @Test
    void aScriptThatIsGoneEndsTheForkInsteadOfHangingIt() throws IOException {
        Files.writeString(dir.resolve("go"), "go\n");
        Rounds rounds = new Rounds(dir);
        rounds.await();
        IOException gone = assertThrows(IOException.class, rounds::await);
        assertTrue(gone.getMessage().contains("the script is gone"), gone.getMessage());
    }

    @Test
    void anythingButGoIsRefused() throws IOException {
        Files.writeString(dir.resolve("go"), "stop\n");
        IOException refused = assertThrows(IOException.class, new Rounds(dir)::await);
        assertTrue(refused.getMessage().contains("read 'stop'"), refused.getMessage());
    }

    @Test
    void noPropertyNoRounds() {
        assertEquals(null, System.getProperty(Rounds.PROPERTY));
        assertEquals(null, Rounds.fromProperty());
    }
}
