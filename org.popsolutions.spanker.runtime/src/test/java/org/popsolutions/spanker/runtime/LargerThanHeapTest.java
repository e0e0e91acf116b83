package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.ModelSynth;

/**
 * Loading never holds the model on the heap: a model about twice the size of a forked JVM's 64 MiB heap loads onto
 * a mock card (its weights live off the heap, streamed from the file a chunk at a time) and computes the same
 * logits, bit for bit, as this JVM's run of it.
 */
class LargerThanHeapTest {
    static final long HEAP = 64L << 20;
    /** 8 blocks 1024 wide over 8000 tokens, Q8_0: about 118 MB, with a small context (its KV cache is 8 MiB). */
    static final ModelSynth.Preset LARGER_THAN_HEAP = new ModelSynth.Preset("larger-than-heap", 1024, 8, 8, 4, 2816,
            8000, 256, false);

    @Test
    void aModelTwiceTheHeapLoadsAndRunsInAJvmWithASmallHeap(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("larger-than-heap.gguf");
        ModelSynth.write(LARGER_THAN_HEAP, GgmlType.Q8_0, 7, model, done -> {
        });
        long size = Files.size(model);
        assertTrue(size > HEAP * 3 / 2, "the model (" + size + " bytes) is well above the child's heap");
        int positions = 3;
        List<String> expected;
        try (PlanExecutor here = Llamas.singleCard(new MockCardProvider(), GgufReader.open(model), DotMode.GGML, 1)) {
            expected = greedy(here, positions);
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx" + (HEAP >> 20) + "m", "-XX:MaxDirectMemorySize=1g", "-XX:-UsePerfData",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                LargerThanHeapRun.class.getName(), model.toString(), String.valueOf(positions)));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            // a bound against a hang only (never a speed assertion): the run takes seconds
            boolean ended = child.waitFor(10, TimeUnit.MINUTES);
            String output = new String(child.getInputStream().readAllBytes());
            assertTrue(ended, "the child did not end: " + output);
            assertEquals(0, child.exitValue(), output);
            List<String> lines = output.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
            long maxHeap = Long.parseLong(lines.get(0).substring("maxHeap ".length()));
            assertTrue(maxHeap < size / 2 + HEAP / 4, "the child's heap (" + maxHeap + ") is far below the model ("
                    + size + ")");
            assertEquals(expected, lines.subList(1, lines.size()), "the same tokens and logits as this JVM's run");
        } finally {
            child.destroyForcibly();
        }
    }

    /** Per position: the token fed, the greedy next token and the bits of the first four logits. */
    static List<String> greedy(PlanExecutor executor, int positions) {
        List<String> lines = new ArrayList<>();
        float[] logits = new float[executor.config().vocabulary()];
        int token = 1;
        for (int pos = 0; pos < positions; pos++) {
            executor.forward(token, pos, logits);
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            StringBuilder line = new StringBuilder(pos + " " + token + " -> " + best);
            for (int i = 0; i < 4; i++) {
                line.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(logits[i])));
            }
            lines.add(line.toString());
            token = best;
        }
        return lines;
    }
}
