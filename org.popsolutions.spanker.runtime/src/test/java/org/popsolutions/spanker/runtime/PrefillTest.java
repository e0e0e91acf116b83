package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * Batched prompt processing gives the logits of token-by-token processing and fills the KV caches so that decoding
 * after it does too; the prompt runs as one program per card per pass, not one per token. Bit for bit where a batched
 * product is, per vector, the one-vector product's own dot products: with the portable kernels on weights they read as
 * ggml bytes (F32, F16, BF16), and with the native kernels on Q4_0 (both use the same eight-row sums). Not bit for
 * bit where the one-vector product has a float order of its own: the portable kernels read Q4_0 (an even number of
 * blocks a row), Q4_1, Q8_0, Q4_K and Q6_K from a repacked layout in a one-vector product (PackedWeights) and the ggml bytes in
 * a batched one, and the native Q8_0 and Q4_K matrix-matrix products on AVX-512 VNNI sum each block in integers
 * (NativePrefillTest). There a difference in the last bits can flip one quantized activation value at a rounding edge,
 * and a model this small then moves by up to about 1.4e-2 of its largest logit (measured: the synthesized Q4_0 and Q4_K
 * models below, 1.1e-2 to 1.4e-2); the bound is {@link #PROMPT_TOLERANCE}, with the same greedy tokens.
 */
class PrefillTest {
    /** Longer than one pass (PrefillPrograms.MAX_BATCH tokens), so a second, shorter pass follows: 64 + 5. */
    static final int PROMPT_TOKENS = PrefillPrograms.MAX_BATCH + 5;
    /** The KV caches' rows: the prompt and the three decoded tokens after it. */
    static final int CONTEXT = 128;
    /**
     * max |batched − token by token| ÷ max |logit| where the two take different float orders (see the class comment):
     * one activation value flipped at a rounding edge moves a small random model's logits by up to ~1.4e-2.
     */
    static final double PROMPT_TOLERANCE = 2e-2;

    static ScheduledCollectives engine;

    @BeforeAll
    static void startEngine() {
        engine = TestSupport.engine();
    }

    @AfterAll
    static void stopEngine() {
        TestSupport.stop(engine);
    }

    static int[] prompt(int vocabulary) {
        int[] p = new int[PROMPT_TOKENS];
        for (int i = 0; i < p.length; i++) {
            p[i] = (1 + 37 * i) % vocabulary;
        }
        return p;
    }

    /** Logits after the prompt, then after each of three decoded tokens; and the programs the cards ran. */
    record Result(float[][] logits, long programs) {
    }

    static Result run(GgufFile file, Plan plan, DotMode mode, boolean batched) {
        return run(file, plan, mode, CollectiveAlgorithm.AUTO, batched);
    }

    static Result run(GgufFile file, Plan plan, DotMode mode, CollectiveAlgorithm algorithm, boolean batched) {
        return run(file, plan, mode, algorithm, batched, 1);
    }

    static Result run(GgufFile file, Plan plan, DotMode mode, CollectiveAlgorithm algorithm, boolean batched,
            int threads) {
        try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, plan.cards()),
                TestSupport.cards(), engine, new PlanExecutor.Options(mode, threads, CONTEXT, algorithm))) {
            int vocabulary = executor.config().vocabulary();
            int[] prompt = prompt(vocabulary);
            long before = programs(executor);
            float[][] logits = new float[4][vocabulary];
            if (batched) {
                executor.prefill(prompt, 0, logits[0]);
            } else {
                for (int i = 0; i < prompt.length; i++) {
                    executor.forward(prompt[i], i, logits[0]);
                }
            }
            long programs = programs(executor) - before;
            for (int t = 1; t < logits.length; t++) {
                executor.forward(argmax(logits[t - 1]), prompt.length + t - 1, logits[t]);
            }
            return new Result(logits, programs);
        }
    }

    static long programs(PlanExecutor executor) {
        return executor.cards().cards().stream().mapToLong(c -> c.telemetry().programs()).sum();
    }

    /**
     * Whether the golden model's one-vector products read repacked weights (Q8_0 in ggml mode on the portable kernels)
     * while its batched ones read the ggml bytes: then the two add in different orders.
     */
    private static boolean repacked(String model, DotMode mode) {
        return model.contains("q8_0") && mode == DotMode.GGML && PackedWeights.packs(GgmlType.Q8_0)
                && org.popsolutions.spanker.ggml.kernel.Kernels.best().name().startsWith("vector");
    }

    /** Bit for bit, or (repacked one-vector products) within {@link #PROMPT_TOLERANCE} and the same greedy token. */
    private static void assertSameLogits(float[] expected, float[] actual, boolean repacked, String what) {
        if (!repacked) {
            assertArrayEquals(expected, actual, what);
            return;
        }
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(diff / scale <= PROMPT_TOLERANCE, what + ": relative difference " + diff / scale);
        assertEquals(argmax(expected), argmax(actual), what + ": greedy token");
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

    /**
     * A loaded executor has a prompt's full pass prepared (its programs built, the cards' job prepared: the mock
     * compiles it then), not left to the first prompt; a context shorter than a pass prepares a pass of its length.
     * The golden tiny model is far below the size from which a pass is prepared ahead: here the size is lowered to it,
     * and at the default size its load prepares no pass.
     */
    @Test
    void aFullPromptPassIsPreparedWhileTheModelLoads() {
        GgufFile file = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        ModelShape shape = GgufModelReader.shapeOf(file);
        try (PlanExecutor executor = new PlanExecutor(file, ManualPlans.singleCard(shape, CONTEXT),
                TestSupport.topology(TopologyKind.RING, 1), TestSupport.cards(), engine, new PlanExecutor.Options(
                        DotMode.GGML, 1, CONTEXT, CollectiveAlgorithm.AUTO))) {
            org.junit.jupiter.api.Assertions.assertFalse(executor.promptPassPrepared(PrefillPrograms.MAX_BATCH),
                    "a small model's load prepares no pass");
        }
        System.setProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY, "1");
        try {
            preparedPasses(file, shape);
        } finally {
            System.clearProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY);
        }
    }

    private static void preparedPasses(GgufFile file, ModelShape shape) {
        for (int context : new int[] {CONTEXT, 16}) {
            Plan plan = ManualPlans.singleCard(shape, context);
            try (PlanExecutor executor = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 1),
                    TestSupport.cards(), engine, new PlanExecutor.Options(DotMode.GGML, 1, context,
                            CollectiveAlgorithm.AUTO))) {
                int full = Math.min(PrefillPrograms.MAX_BATCH, context);
                org.junit.jupiter.api.Assertions.assertTrue(executor.promptPassPrepared(full), "context " + context);
                org.junit.jupiter.api.Assertions.assertFalse(executor.promptPassPrepared(5), "context " + context);
                long before = programs(executor);
                float[] logits = new float[executor.config().vocabulary()];
                executor.prefill(java.util.Arrays.copyOf(prompt(executor.config().vocabulary()), full), 0, logits);
                assertEquals(1, programs(executor) - before, "one pass, the prepared one");
                org.junit.jupiter.api.Assertions.assertTrue(executor.promptPassPrepared(full));
            }
        }
    }

    @Test
    void batchedPromptProcessingGivesTheTokenByTokenLogitsBitForBit() {
        for (String name : List.of("tiny-llama-q8_0.gguf", "tiny-llama-f32.gguf")) {
            GgufFile file = GgufReader.open(GoldenModels.model(name));
            ModelShape shape = GgufModelReader.shapeOf(file);
            for (DotMode mode : DotMode.values()) {
                for (Plan plan : List.of(ManualPlans.singleCard(shape, CONTEXT), ManualPlans.pipeline(shape, 4,
                        new int[] {1, 3}, CONTEXT))) {
                    String what = name + " " + mode + " on " + plan.cards() + " card(s)";
                    Result tokenByToken = run(file, plan, mode, false);
                    Result batched = run(file, plan, mode, true);
                    boolean repacked = repacked(name, mode);
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertSameLogits(tokenByToken.logits[t], batched.logits[t], repacked, what + ", logits " + t);
                    }
                    long cardsWithWork = tokenByToken.programs / PROMPT_TOKENS;
                    assertEquals(PROMPT_TOKENS * cardsWithWork, tokenByToken.programs, what);
                    assertEquals(2L * cardsWithWork, batched.programs, what + ": two passes, one program per card each");
                    // a pass's norms, ropes and attention spread over a card's threads: the same values
                    Result twoThreads = run(file, plan, mode, CollectiveAlgorithm.AUTO, true, 2);
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertSameLogits(tokenByToken.logits[t], twoThreads.logits[t], repacked,
                                what + ", 2 threads, logits " + t);
                    }
                }
            }
        }
    }

    @Test
    void tensorParallelPlansProcessThePromptBatchedWithOneAllreducePerJoinAndPass() {
        GgufFile file = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        ModelShape shape = GgufModelReader.shapeOf(file);
        // every algorithm adds in card order whatever the message size: an allreduce of a pass's 64 or 5 vectors
        // gives each vector the sums of its own allreduce
        List<CollectiveAlgorithm> algorithms = List.of(CollectiveAlgorithm.AUTO, CollectiveAlgorithm.RING,
                CollectiveAlgorithm.RECURSIVE_DOUBLING, CollectiveAlgorithm.HALVING_DOUBLING, CollectiveAlgorithm.DIRECT);
        for (DotMode mode : DotMode.values()) {
            for (int cards : new int[] {2, 4}) {
                for (CollectiveAlgorithm algorithm : cards == 4 && mode == DotMode.GGML ? algorithms
                        : List.of(CollectiveAlgorithm.AUTO)) {
                    Plan tp = ManualPlans.tensorParallel(shape, cards, CONTEXT);
                    String what = mode + ", tensor parallel on " + cards + " cards, " + algorithm;
                    Result tokenByToken = run(file, tp, mode, algorithm, false);
                    Result batched = run(file, tp, mode, algorithm, true);
                    boolean repacked = repacked("tiny-llama-q8_0.gguf", mode);
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertSameLogits(tokenByToken.logits[t], batched.logits[t], repacked, what + ", logits " + t);
                    }
                    assertEquals(PROMPT_TOKENS * cards, tokenByToken.programs, what);
                    assertEquals(2L * cards, batched.programs, what + ": two passes, one program per card each");
                }
            }
        }
    }

    /**
     * The portable kernels on synthesized models (rows of one Q4_K block, a feed-forward of three, a vocabulary whose
     * last row group is short; seed 10, where the repacked paths flip an activation value): a type read as ggml bytes
     * by both, bit for bit; Q8_0, Q4_0 and Q4_K, repacked for the one-vector product only, within
     * {@link #PROMPT_TOLERANCE} and the same greedy tokens (Q4_0 and Q4_K differ there by 1.1e-2 to 1.4e-2).
     */
    @Test
    void repackedWeightsGiveTheTokenByTokenLogitsWithinToleranceAndTheOthersBitForBit(@TempDir Path dir) {
        String kernels = org.popsolutions.spanker.ggml.kernel.Kernels.best().name();
        assertTrue(kernels.startsWith("vector"), "the portable Vector API kernels, not " + kernels);
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K}) {
            Path model = dir.resolve(type + ".gguf");
            ModelSynth.write(new ModelSynth.Preset("prefill-" + type, 256, 2, 4, 1, 768, 500, 256, false), type, 10,
                    model, done -> { });
            GgufFile file = GgufReader.open(model);
            Plan plan = ManualPlans.singleCard(GgufModelReader.shapeOf(file), CONTEXT);
            Result tokenByToken = run(file, plan, DotMode.GGML, false);
            Result batched = run(file, plan, DotMode.GGML, true);
            for (int t = 0; t < tokenByToken.logits.length; t++) {
                String what = "synthesized " + type + ", logits " + t;
                if (!PackedWeights.packs(type)) {
                    assertArrayEquals(tokenByToken.logits[t], batched.logits[t], what);
                    continue;
                }
                double scale = 0;
                double diff = 0;
                for (int i = 0; i < tokenByToken.logits[t].length; i++) {
                    scale = Math.max(scale, Math.abs(tokenByToken.logits[t][i]));
                    diff = Math.max(diff, Math.abs(tokenByToken.logits[t][i] - batched.logits[t][i]));
                }
                assertTrue(diff / scale <= PROMPT_TOLERANCE, what + ": relative difference " + diff / scale);
                assertEquals(argmax(tokenByToken.logits[t]), argmax(batched.logits[t]), what + ": greedy token");
            }
        }
    }
}
