package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.CardShard;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * Plans over 2 and 4 mock cards against one card: pipeline plans give the same bits; tensor-parallel plans differ
 * only by the summation order of the split products (see {@link #tolerance}) and generate the same tokens.
 */
class PlanExecutorTest {
    static final int[] PROMPT = {1, 5, 9, 42};
    static final int NEW_TOKENS = 8;
    /**
     * Tensor parallelism changes where W_o·a and W_down·h are cut into partial sums: each output element is then a
     * different float32 rounding of the same sum, |Δ| ≲ (p+1)·2⁻²⁴·Σ|w·a| per allreduce, carried by the residual
     * stream through 2 allreduces per block. Float mode: a few ulps per block, so relative to the largest logit of a
     * position the bound is 1e-5 (measured: below 7e-7). Ggml mode quantizes every matmul input, which usually
     * absorbs those ulps (the golden Q8_0 model gives identical bits) but can move a value sitting on a rounding edge
     * by one quantization step d = amax/127, changing that matmul's outputs by about 1/(127·√n) of their size
     * (n = row length, ≥ 256 here: ≲ 5e-4 per flip); the bound is 1e-2 (measured: up to 5.5e-4, Q4_K/Q8_K).
     */
    static double tolerance(DotMode mode) {
        return mode == DotMode.FLOAT ? 1e-5 : 1e-2;
    }

    static ScheduledCollectives engine;

    @TempDir
    static Path dir;

    @BeforeAll
    static void startEngine() {
        engine = TestSupport.engine();
    }

    @AfterAll
    static void stopEngine() {
        TestSupport.stop(engine);
    }

    record Run(float[][] logits, List<Integer> tokens, long[] weightBytes) {
    }

    static Run run(GgufFile file, Plan plan, DotMode mode, CollectiveAlgorithm algorithm) {
        LlamaConfig c = LlamaConfig.of(file);
        try (PlanExecutor llama = new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, plan.cards()),
                TestSupport.cards(),
                engine, new PlanExecutor.Options(mode, 1, c.contextLength(), algorithm))) {
            float[][] logits = new float[PROMPT.length][];
            for (int pos = 0; pos < PROMPT.length; pos++) {
                logits[pos] = llama.forward(PROMPT[pos], pos);
            }
            List<Integer> tokens = Generation.generate(llama, PROMPT, NEW_TOKENS, Sampler.greedy(), -1, null);
            return new Run(logits, tokens, llama.weightBytesPerCard());
        }
    }

    static Run run(GgufFile file, Plan plan, DotMode mode) {
        return run(file, plan, mode, CollectiveAlgorithm.AUTO);
    }

    static void assertSameBits(Run one, Run many, String what) {
        for (int pos = 0; pos < one.logits.length; pos++) {
            assertArrayEquals(one.logits[pos], many.logits[pos], what + ": logits at position " + pos);
        }
        assertEquals(one.tokens, many.tokens, what + ": generated tokens");
    }

    static double relativeDifference(Run one, Run many) {
        double worst = 0;
        for (int pos = 0; pos < one.logits.length; pos++) {
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < one.logits[pos].length; i++) {
                scale = Math.max(scale, Math.abs(one.logits[pos][i]));
                diff = Math.max(diff, Math.abs(one.logits[pos][i] - many.logits[pos][i]));
            }
            worst = Math.max(worst, diff / scale);
        }
        return worst;
    }

    static void assertClose(Run one, Run many, DotMode mode, String what) {
        double d = relativeDifference(one, many);
        System.out.printf("%s: max |Δlogit| / max |logit| = %.3e%n", what, d);
        assertTrue(d <= tolerance(mode), what + ": relative logit difference " + d + " above " + tolerance(mode));
        assertEquals(one.tokens, many.tokens, what + ": greedy tokens");
    }

    static GgufFile golden(String name) {
        return GgufReader.open(GoldenModels.model(name));
    }

    @Test
    void goldenPipelinePlansGiveTheSameBitsAsOneCard() {
        for (String name : List.of("tiny-llama-q8_0.gguf", "tiny-llama-f32.gguf")) {
            GgufFile file = golden(name);
            ModelShape shape = GgufModelReader.shapeOf(file);
            for (DotMode mode : DotMode.values()) {
                Run one = run(file, ManualPlans.singleCard(shape, 128), mode);
                assertSameBits(one, run(file, ManualPlans.pipeline(shape, 2, new int[] {0, 1}, 128), mode),
                        name + " " + mode + " PP 2 cards");
                assertSameBits(one, run(file, ManualPlans.pipeline(shape, 4, new int[] {1, 3}, 128), mode),
                        name + " " + mode + " PP 4 cards");
                // the head's vocabulary rows on two other cards than the last block's
                assertSameBits(one, run(file, ManualPlans.build(shape, 4, TopologyKind.RING,
                        new int[][] {{2}, {3}}, 2, List.of(0, 1), 128), mode), name + " " + mode + " PP, head on 0+1");
            }
        }
    }

    @Test
    void goldenTensorParallelPlansAgreeWithOneCard() {
        for (String name : List.of("tiny-llama-q8_0.gguf", "tiny-llama-f32.gguf")) {
            GgufFile file = golden(name);
            ModelShape shape = GgufModelReader.shapeOf(file);
            for (DotMode mode : DotMode.values()) {
                Run one = run(file, ManualPlans.singleCard(shape, 128), mode);
                assertClose(one, run(file, ManualPlans.tensorParallel(shape, 2, 128), mode), mode, name + " " + mode
                        + " TP 2");
                assertClose(one, run(file, ManualPlans.tensorParallel(shape, 4, 128), mode), mode, name + " " + mode
                        + " TP 4");
                // mixed: block 0 split over all four cards, block 1 whole on card 2, head split over cards 0 and 3
                assertClose(one, run(file, ManualPlans.build(shape, 4, TopologyKind.RING, new int[][] {null, {2}}, 0,
                        List.of(0, 3), 128), mode), mode, name + " " + mode + " mixed TP+PP");
                // TP over a subset of the topology's cards: the others join the allreduce with zeros
                assertClose(one, run(file, ManualPlans.build(shape, 4, TopologyKind.RING, new int[][] {{1, 2}, {3, 1}},
                        3, List.of(2), 128), mode), mode, name + " " + mode + " TP on 2 of 4");
            }
        }
    }

    @Test
    void everyAllReduceAlgorithmGivesTheSameTokens() {
        GgufFile file = golden("tiny-llama-q8_0.gguf");
        ModelShape shape = GgufModelReader.shapeOf(file);
        Run one = run(file, ManualPlans.singleCard(shape, 128), DotMode.GGML);
        for (CollectiveAlgorithm a : List.of(CollectiveAlgorithm.REFERENCE, CollectiveAlgorithm.RING,
                CollectiveAlgorithm.RECURSIVE_DOUBLING, CollectiveAlgorithm.HALVING_DOUBLING,
                CollectiveAlgorithm.DIRECT)) {
            assertClose(one, run(file, ManualPlans.tensorParallel(shape, 4, 128), DotMode.GGML, a), DotMode.GGML,
                    "TP 4 " + a);
        }
    }

    @Test
    void eachCardHoldsOnlyItsShare() {
        GgufFile file = golden("tiny-llama-q8_0.gguf");
        ModelShape shape = GgufModelReader.shapeOf(file);
        long total = shape.totalBytes();
        Run one = run(file, ManualPlans.singleCard(shape, 128), DotMode.GGML);
        assertEquals(total, one.weightBytes[0], "one card holds the whole model");
        Run pp = run(file, ManualPlans.pipeline(shape, 2, new int[] {0, 1}, 128), DotMode.GGML);
        assertEquals(total, Arrays.stream(pp.weightBytes).sum(), "a pipeline splits the model without copies");
        long block0 = shape.layerTensors(0).stream().mapToLong(t -> t.bytes()).sum();
        assertEquals(block0 + shape.tensor("token_embd.weight").orElseThrow().bytes(), pp.weightBytes[0]);
        Plan tp = ManualPlans.tensorParallel(shape, 4, 128);
        Run four = run(file, tp, DotMode.GGML);
        for (int c = 0; c < 4; c++) {
            assertEquals(tp.cardLoads().get(c).weightBytes(), four.weightBytes[c], "card " + c + " as the plan says");
            assertTrue(four.weightBytes[c] < total / 2, "card " + c + " holds " + four.weightBytes[c]);
        }
    }

    @Test
    void aSplitOffTheBlockGridIsRefusedClearly() {
        GgufFile file = golden("tiny-llama-q8_0.gguf");
        ModelShape shape = GgufModelReader.shapeOf(file);
        // feed-forward rows cut at 100: not a multiple of Q8_0's 32-value blocks
        List<List<CardShard>> blocks = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            blocks.add(List.of(new CardShard(0, 0, 2, 0, 100), new CardShard(1, 2, 4, 100, 768)));
        }
        Plan plan = ManualPlans.fromShards(shape, 2, TopologyKind.RING, blocks, 0, List.of(1), 128);
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, () -> run(file, plan,
                DotMode.GGML));
        assertTrue(e.getMessage().contains("block edge"), e.getMessage());
        // heads that do not tile the block
        List<List<CardShard>> gap = List.of(List.of(new CardShard(0, 0, 1, 0, 384), new CardShard(1, 2, 4, 384, 768)),
                List.of(new CardShard(0, 0, 4, 0, 768)));
        Plan holes = ManualPlans.fromShards(shape, 2, TopologyKind.RING, gap, 0, List.of(0), 128);
        e = assertThrows(InvalidConfigurationException.class, () -> run(file, holes, DotMode.GGML));
        assertTrue(e.getMessage().contains("key/value heads"), e.getMessage());
    }

    static GgufFile synth(ModelSynth.Preset preset, GgmlType type) {
        Path out = dir.resolve(preset.name() + "-" + type.ggmlName() + ".gguf");
        ModelSynth.write(preset, type, 7, out, done -> { });
        return GgufReader.open(out);
    }

    @Test
    void synthesizedModelsOfEveryWeightTypeAgreeAcrossCards() {
        ModelSynth.Preset small = new ModelSynth.Preset("small", 256, 3, 8, 4, 512, 600, 32, false);
        ModelSynth.Preset tied = new ModelSynth.Preset("tied", 256, 2, 4, 2, 512, 500, 32, true);
        ModelSynth.Preset wide = new ModelSynth.Preset("wide", 512, 2, 8, 4, 1024, 520, 32, false);
        for (GgmlType type : List.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q8_0, GgmlType.F16, GgmlType.BF16)) {
            for (ModelSynth.Preset preset : List.of(small, tied)) {
                GgufFile file = synth(preset, type);
                ModelShape shape = GgufModelReader.shapeOf(file);
                int[] last = new int[preset.layers()];
                Arrays.fill(last, 1);
                last[0] = 0;
                for (DotMode mode : DotMode.values()) {
                    String what = preset.name() + " " + type.ggmlName() + " " + mode;
                    Run one = run(file, ManualPlans.singleCard(shape, 32), mode);
                    assertSameBits(one, run(file, ManualPlans.pipeline(shape, 2, last, 32), mode), what + " PP 2");
                    int p = preset.kvHeads() == 4 ? 4 : 2;
                    assertClose(one, run(file, ManualPlans.tensorParallel(shape, p, 32), mode), mode, what + " TP " + p);
                }
            }
        }
        // k-quants: blocks of 256 values, so only a wider model splits its attention output on block edges
        for (GgmlType type : List.of(GgmlType.Q4_K, GgmlType.Q6_K)) {
            GgufFile file = synth(wide, type);
            ModelShape shape = GgufModelReader.shapeOf(file);
            for (DotMode mode : DotMode.values()) {
                String what = "wide " + type.ggmlName() + " " + mode;
                Run one = run(file, ManualPlans.singleCard(shape, 32), mode);
                assertSameBits(one, run(file, ManualPlans.pipeline(shape, 4, new int[] {3, 2}, 32), mode), what + " PP");
                assertClose(one, run(file, ManualPlans.tensorParallel(shape, 2, 32), mode), mode, what + " TP 2");
            }
        }
    }

    /** The model cut into pipeline stages, each on cards of its own, the hidden state handed over by the host. */
    static Run runStages(GgufFile file, int[] ends, int cardsPerStage, DotMode mode) {
        LlamaConfig c = LlamaConfig.of(file);
        ModelShape shape = GgufModelReader.shapeOf(file);
        List<PlanExecutor> stages = new ArrayList<>();
        try {
            int first = 0;
            for (int i = 0; i < ends.length; i++) {
                PlanExecutor.Stage stage = new PlanExecutor.Stage(first, ends[i], i == 0, i == ends.length - 1);
                Plan plan = ManualPlans.stage(shape, cardsPerStage, first, ends[i], stage.embeds(),
                        stage.emitsLogits(), 32);
                stages.add(new PlanExecutor(file, plan, TestSupport.cards().open(
                        new org.popsolutions.spanker.api.card.CardGroupSpec(TestSupport.topology(TopologyKind.RING,
                                cardsPerStage), null, 1)), engine, new PlanExecutor.Options(mode, 1, 32,
                                        CollectiveAlgorithm.AUTO), stage));
                first = ends[i];
            }
            int positions = PROMPT.length + NEW_TOKENS - 1;
            float[][] logits = new float[positions][];
            List<Integer> tokens = new ArrayList<>();
            int token = PROMPT[0];
            for (int pos = 0; pos < positions; pos++) {
                float[] hidden = null;
                for (int i = 0; i < stages.size(); i++) {
                    float[] out = new float[i == stages.size() - 1 ? c.vocabulary() : c.embedding()];
                    stages.get(i).forwardStage(token, pos, hidden, out);
                    hidden = out;
                }
                logits[pos] = hidden;
                if (pos + 1 >= PROMPT.length) {
                    tokens.add(Sampler.greedy().sample(hidden));
                }
                token = pos + 1 < PROMPT.length ? PROMPT[pos + 1] : tokens.get(tokens.size() - 1);
            }
            long[] weights = stages.stream().flatMapToLong(s -> Arrays.stream(s.weightBytesPerCard())).toArray();
            return new Run(Arrays.copyOf(logits, PROMPT.length), tokens.subList(0, NEW_TOKENS), weights);
        } finally {
            stages.forEach(PlanExecutor::close);
        }
    }

    @Test
    void aModelCutIntoStagesOnSeparateCardsGivesTheSameTokensAsOneCard() {
        ModelSynth.Preset small = new ModelSynth.Preset("staged", 256, 4, 8, 4, 512, 600, 32, false);
        GgufFile file = synth(small, GgmlType.Q8_0);
        ModelShape shape = GgufModelReader.shapeOf(file);
        for (DotMode mode : DotMode.values()) {
            Run one = run(file, ManualPlans.singleCard(shape, 32), mode);
            Run three = runStages(file, new int[] {1, 3, 4}, 1, mode);
            assertSameBits(one, three, mode + ": 3 stages of one card");
            assertEquals(shape.totalBytes(), Arrays.stream(three.weightBytes).sum(), "the stages hold the model once");
            assertClose(one, runStages(file, new int[] {2, 4}, 2, mode), mode, mode + ": 2 stages of TP 2");
        }
        PlanExecutor.Stage middle = new PlanExecutor.Stage(1, 3, false, false);
        try (PlanExecutor stage = new PlanExecutor(file, ManualPlans.stage(shape, 1, 1, 3, false, false, 32),
                TestSupport.cards().open(new org.popsolutions.spanker.api.card.CardGroupSpec(
                        TestSupport.topology(TopologyKind.RING, 1), null, 1)), null,
                new PlanExecutor.Options(DotMode.GGML, 1, 32, CollectiveAlgorithm.AUTO), middle)) {
            assertThrows(IllegalStateException.class, () -> stage.forward(1, 0));
            assertThrows(org.popsolutions.spanker.api.BadDimsException.class,
                    () -> stage.forwardStage(1, 0, null, new float[256]));
            float[] nan = new float[256];
            nan[7] = Float.NaN;
            assertThrows(org.popsolutions.spanker.api.InvalidModelException.class,
                    () -> stage.forwardStage(1, 0, nan, new float[256]));
        }
        // a stage plan whose blocks are not the stage's is refused
        assertThrows(InvalidConfigurationException.class, () -> new PlanExecutor(file,
                ManualPlans.stage(shape, 1, 0, 2, true, false, 32), TestSupport.cards().open(
                        new org.popsolutions.spanker.api.card.CardGroupSpec(TestSupport.topology(TopologyKind.RING, 1),
                                null, 1)), null, new PlanExecutor.Options(DotMode.GGML, 1, 32,
                                        CollectiveAlgorithm.AUTO), middle));
    }

    @Test
    void twoTensorParallelStagesOfFourOnAnEightCardRingAgreeWithOneCard() {
        ModelSynth.Preset eight = new ModelSynth.Preset("eight", 256, 2, 8, 8, 512, 300, 32, false);
        GgufFile file = synth(eight, GgmlType.Q8_0);
        ModelShape shape = GgufModelReader.shapeOf(file);
        Run one = run(file, ManualPlans.singleCard(shape, 32), DotMode.GGML);
        List<Integer> all = List.of(0, 1, 2, 3, 4, 5, 6, 7);
        for (CollectiveAlgorithm a : List.of(CollectiveAlgorithm.AUTO, CollectiveAlgorithm.DIRECT,
                CollectiveAlgorithm.RING)) {
            Plan hybrid = ManualPlans.build(shape, 8, TopologyKind.RING, new int[][] {{0, 1, 2, 3}, {4, 5, 6, 7}}, 0,
                    all, 32);
            assertClose(one, run(file, hybrid, DotMode.GGML, a), DotMode.GGML, "TP4 | TP4 on 8 cards, " + a);
        }
    }
}
