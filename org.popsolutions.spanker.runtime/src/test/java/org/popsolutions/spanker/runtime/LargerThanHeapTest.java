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
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.ModelSynth;

/**
 * Loading never holds the model on the heap: a model about twice the size of a forked JVM's 64 MiB heap loads onto
 * a mock card (its weights live off the heap, streamed from the file a chunk at a time; a repacked copy, which would
 * be a Java array, is made only while the heap keeps half free) and computes the same tokens and logits (within the
 * repacked kernels' float order) as a run on a large heap reading the ggml bytes.
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
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx" + (HEAP >> 20) + "m", "-XX:MaxDirectMemorySize=1g", "-XX:-UsePerfData",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                LargerThanHeapRun.class.getName(), model.toString(), String.valueOf(positions)));
        // the reference on a large heap, reading the ggml bytes; the small heap repacks (a Java array per matrix) only
        // the matrices that leave half of it free, so its products add partly in another order: the same tokens, the
        // logits within 2e-2 of the largest, PrefillTest's bound for products on repacked weights (a run measured 6e-4
        // on a logit of 0.9, above the absolute 1e-4 this test first had)
        List<String> reference = new ArrayList<>(command);
        reference.set(1, "-Dspanker.mock.packWeights=false");
        List<String> expected = run(reference);
        List<String> lines = run(command);
        long maxHeap = Long.parseLong(lines.get(0).substring("maxHeap ".length()));
        assertTrue(maxHeap < size / 2 + HEAP / 4, "the child's heap (" + maxHeap + ") is far below the model ("
                + size + ")");
        assertEquals(expected.size(), lines.size(), lines.toString());
        for (int i = 1; i < lines.size(); i++) {
            String[] want = expected.get(i).split(" ");
            String[] got = lines.get(i).split(" ");
            assertEquals(String.join(" ", List.of(want).subList(0, 4)), String.join(" ", List.of(got).subList(0, 4)),
                    "the same tokens as a run on a large heap");
            float largest = 0;
            for (int j = 4; j < want.length; j++) {
                largest = Math.max(largest, Math.abs(Float.intBitsToFloat(Integer.parseUnsignedInt(want[j], 16))));
            }
            for (int j = 4; j < want.length; j++) {
                float w = Float.intBitsToFloat(Integer.parseUnsignedInt(want[j], 16));
                float g = Float.intBitsToFloat(Integer.parseUnsignedInt(got[j], 16));
                assertEquals(w, g, 2e-2 * largest, "logit " + (j - 4) + " at position " + (i - 1));
            }
        }
    }

    /** The lines a child process printed (the incubator warning left out), once it ended well. */
    private static List<String> run(List<String> command) throws Exception {
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            // a bound against a hang only (never a speed assertion): the run takes seconds
            boolean ended = child.waitFor(10, TimeUnit.MINUTES);
            String output = new String(child.getInputStream().readAllBytes());
            assertTrue(ended, "the child did not end: " + output);
            assertEquals(0, child.exitValue(), output);
            return output.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
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
