package org.popsolutions.spanker.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs the Python unit tests in src/test/python: kernels_vs_ggml.py's pairing of alternated rounds, the median and
 * range of their ratios, the JSON's shape and the migration of older cells, and kernels_vs_ggml_rounds.py's turns
 * with stand-ins for ggml and the JMH harness; so the reactor's test run covers the scripts that write
 * docs/kernels-vs-ggml.json. Skipped where there is no python3.
 */
class KernelsVsGgmlScriptTest {
    @Test
    void pythonUnitTestsPass() throws IOException, InterruptedException {
        assumeTrue(python3Runs(), "no python3 on this machine");
        assertTrue(Files.isRegularFile(Path.of("kernels_vs_ggml.py")), "run from the module's directory");
        Process p = new ProcessBuilder("python3", "-m", "unittest", "discover", "-s", "src/test/python")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "python3 -m unittest did not finish");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("OK"), output);
    }

    private static boolean python3Runs() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
