package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.KernelProviders;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.kernels.avx2.NativeKernels;
import org.popsolutions.spanker.kernels.avx2.NativeKernelsComponent;
import org.popsolutions.spanker.kernels.avx2.NativeLibrary;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * A prompt through the native kernels' matrix-matrix products (Q8_0 and Q4_K: on a CPU with AVX-512 VNNI their own
 * float order, each block summed in integers; Q4_0: the one-vector product's sums, bit for bit) gives the token-by-token
 * logits within {@link PrefillTest#PROMPT_TOLERANCE} and the same greedy tokens, the KV caches it filled included: a
 * 64-token pass and a 5-token one (both matrix-matrix), then three decoded tokens. Where the float orders differ, one
 * quantized activation value can flip at a rounding edge and move a model this small by about 1e-2 (PrefillTest's class
 * comment); the synthesized Q4_K model runs on two seeds, seed 10 being one where the portable kernels' paths flip.
 */
class NativePrefillTest {
    static ScheduledCollectives engine;
    static NativeKernels kernels;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        kernels = NativeLibrary.load().orElse(null);
        assumeTrue(kernels != null, "no native kernels here: " + NativeLibrary.unavailableReason().orElse(""));
        KernelProviders.register(kernels, NativeKernelsComponent.RANKING);
        engine = TestSupport.engine();
    }

    @AfterAll
    static void stop() {
        if (kernels != null) {
            KernelProviders.unregister(kernels);
            TestSupport.stop(engine);
        }
    }

    @Test
    void aGoldenQ8_0PromptGivesTheTokenByTokenLogitsWithinToleranceAndTheSameTokens() {
        check(GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf")), "tiny-llama-q8_0");
    }

    @Test
    void aQ4_KPromptGivesTheTokenByTokenLogitsWithinToleranceAndTheSameTokens() {
        for (long seed : new long[] {8, 10}) {
            Path model = dir.resolve("q4_k-" + seed + ".gguf");
            // rows of 256 values (one Q4_K block) and the feed-forward's down product's 768 (a chunk of two blocks,
            // then a short one); the output's 500 rows end in a row group of 20 padded to 32
            ModelSynth.write(new ModelSynth.Preset("prefill-q4_k", 256, 2, 4, 1, 768, 500, 256, false), GgmlType.Q4_K,
                    seed, model, done -> { });
            check(GgufReader.open(model), "synthesized Q4_K, seed " + seed);
        }
    }

    private static void check(GgufFile file, String name) {
        assertEquals("native-avx2", Kernels.best().name(), "the mock cards multiply with the native kernels");
        ModelShape shape = GgufModelReader.shapeOf(file);
        Plan plan = ManualPlans.singleCard(shape, PrefillTest.CONTEXT);
        PrefillTest.Result tokenByToken = PrefillTest.run(file, plan, DotMode.GGML, false);
        PrefillTest.Result batched = PrefillTest.run(file, plan, DotMode.GGML, true);
        // two threads split each matrix-matrix product's rows in whole 32-row groups (one kernel call per share, each
        // preparing the vectors itself) and spread the pass's norms, ropes and attention: the one-thread bits
        PrefillTest.Result twoThreads = PrefillTest.run(file, plan, DotMode.GGML, CollectiveAlgorithm.AUTO, true, 2);
        for (int t = 0; t < batched.logits().length; t++) {
            assertArrayEquals(batched.logits()[t], twoThreads.logits()[t], name + ", 2 threads, logits " + t);
        }
        for (int t = 0; t < tokenByToken.logits().length; t++) {
            float[] one = tokenByToken.logits()[t];
            float[] many = batched.logits()[t];
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < one.length; i++) {
                scale = Math.max(scale, Math.abs(one[i]));
                diff = Math.max(diff, Math.abs(one[i] - many[i]));
            }
            String what = name + ", logits " + t;
            System.out.printf("%s: max |Δlogit| / max |logit| = %.3e%n", what, diff / scale);
            assertTrue(diff / scale <= PrefillTest.PROMPT_TOLERANCE, what + ": relative difference " + diff / scale);
            assertEquals(PrefillTest.argmax(one), PrefillTest.argmax(many), what + ": greedy token");
        }
    }
}
