package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * Batched prompt processing gives the logits of token-by-token processing, bit for bit (a batched product is, per
 * vector, the same dot products), and fills the KV caches so that decoding after it does too; the prompt runs as one
 * program per card per pass, not one per token.
 */
class PrefillTest {
    /** Longer than one pass (PrefillPrograms.MAX_BATCH tokens), so a second, shorter pass follows: 64 + 5. */
    static final int PROMPT_TOKENS = PrefillPrograms.MAX_BATCH + 5;
    /** The KV caches' rows: the prompt and the three decoded tokens after it. */
    static final int CONTEXT = 128;

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
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertArrayEquals(tokenByToken.logits[t], batched.logits[t], what + ", logits " + t);
                    }
                    long cardsWithWork = tokenByToken.programs / PROMPT_TOKENS;
                    assertEquals(PROMPT_TOKENS * cardsWithWork, tokenByToken.programs, what);
                    assertEquals(2L * cardsWithWork, batched.programs, what + ": two passes, one program per card each");
                    // a pass's norms, ropes and attention spread over a card's threads: the same values
                    Result twoThreads = run(file, plan, mode, CollectiveAlgorithm.AUTO, true, 2);
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertArrayEquals(tokenByToken.logits[t], twoThreads.logits[t], what + ", 2 threads, logits " + t);
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
                    for (int t = 0; t < tokenByToken.logits.length; t++) {
                        assertArrayEquals(tokenByToken.logits[t], batched.logits[t], what + ", logits " + t);
                    }
                    assertEquals(PROMPT_TOKENS * cards, tokenByToken.programs, what);
                    assertEquals(2L * cards, batched.programs, what + ": two passes, one program per card each");
                }
            }
        }
    }
}
