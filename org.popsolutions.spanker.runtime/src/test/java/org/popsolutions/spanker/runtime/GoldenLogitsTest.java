package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;

/**
 * The golden models of {@code /work/shared/golden/model} (llama.cpp, CPU, and an independent float64 forward pass;
 * see that folder's README) against the one-card forward pass, tokens [1, 5, 9, 42] at positions 0..3.
 */
class GoldenLogitsTest {
    static final int[] TOKENS = {1, 5, 9, 42};
    static final int VOCAB = 512;

    static float[][] run(String model, DotMode mode) {
        GgufFile file = GgufReader.open(GoldenModels.model(model));
        try (PlanExecutor llama = Llamas.singleCard(TestSupport.cards(), file, mode, 1)) {
            float[][] rows = new float[TOKENS.length][];
            for (int pos = 0; pos < TOKENS.length; pos++) {
                rows[pos] = llama.forward(TOKENS[pos], pos);
            }
            return rows;
        }
    }

    static double[][] reference(String file) throws IOException {
        Path p = GoldenModels.model("logits/" + file);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        boolean f64 = file.endsWith(".f64");
        double[][] out = new double[TOKENS.length][VOCAB];
        for (int pos = 0; pos < TOKENS.length; pos++) {
            for (int i = 0; i < VOCAB; i++) {
                out[pos][i] = f64 ? b.getDouble() : b.getFloat();
            }
        }
        assertEquals(0, b.remaining(), file + " should hold exactly 4 x 512 values");
        return out;
    }

    static double maxError(float[][] got, double[][] want) {
        double max = 0;
        for (int pos = 0; pos < got.length; pos++) {
            for (int i = 0; i < VOCAB; i++) {
                max = Math.max(max, Math.abs(got[pos][i] - want[pos][i]));
            }
        }
        return max;
    }

    static double minCosine(float[][] got, double[][] want) {
        double min = 1;
        for (int pos = 0; pos < got.length; pos++) {
            double dot = 0;
            double a = 0;
            double b = 0;
            for (int i = 0; i < VOCAB; i++) {
                dot += got[pos][i] * want[pos][i];
                a += got[pos][i] * (double) got[pos][i];
                b += want[pos][i] * want[pos][i];
            }
            min = Math.min(min, dot / Math.sqrt(a * b));
        }
        return min;
    }

    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void f32ModelMatchesLlamaCppAndTheFloat64Reference() throws IOException {
        double[][] llamaCpp = reference("tiny-llama-f32.llamacpp.incr.kvf32.f32");
        double[][] exact = reference("tiny-llama-f32.ref-float-activations.f64");
        for (DotMode mode : DotMode.values()) {
            float[][] got = run("tiny-llama-f32.gguf", mode);
            double e1 = maxError(got, llamaCpp);
            double e2 = maxError(got, exact);
            System.out.printf("f32 %s: max |err| vs llama.cpp %.3e, vs float64 %.3e%n", mode, e1, e2);
            assertTrue(e1 <= 1e-4, "f32 " + mode + " vs llama.cpp: " + e1);
            assertTrue(e2 <= 1e-4, "f32 " + mode + " vs float64: " + e2);
            for (int pos = 0; pos < TOKENS.length; pos++) {
                assertEquals(argmax(llamaCpp[pos]), argmax(got[pos]), "argmax at position " + pos);
                assertEquals(argmax(exact[pos]), argmax(got[pos]), "argmax at position " + pos);
            }
        }
    }

    @Test
    void q8_0FloatModeMatchesTheFloat64Reference() throws IOException {
        double[][] exact = reference("tiny-llama-q8_0.ref-float-activations.f64");
        float[][] got = run("tiny-llama-q8_0.gguf", DotMode.FLOAT);
        double e = maxError(got, exact);
        System.out.printf("q8_0 float mode: max |err| vs float64 %.3e%n", e);
        assertTrue(e <= 1e-3, "q8_0 float mode vs float64: " + e);
    }

    @Test
    void q8_0GgmlModeMatchesLlamaCpp() throws IOException {
        double[][] llamaCpp = reference("tiny-llama-q8_0.llamacpp.incr.kvf32.f32");
        float[][] got = run("tiny-llama-q8_0.gguf", DotMode.GGML);
        double e = maxError(got, llamaCpp);
        double cos = minCosine(got, llamaCpp);
        System.out.printf("q8_0 ggml mode: max |err| vs llama.cpp %.3e, min cosine %.7f%n", e, cos);
        assertTrue(e <= 0.1, "q8_0 ggml mode vs llama.cpp: " + e);
        assertTrue(cos >= 0.9995, "q8_0 ggml mode cosine vs llama.cpp: " + cos);
    }
}
