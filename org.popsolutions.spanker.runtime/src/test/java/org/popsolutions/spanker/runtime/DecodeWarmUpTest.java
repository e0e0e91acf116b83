package org.popsolutions.spanker.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * A load runs decode steps to warm up (llama.cpp's {@code --warmup}) and leaves the executor as if they had never run:
 * the KV cache rows they wrote are cleared, the statistics count nothing, and the logits at every position, bit for
 * bit, and so the tokens, are those of a load without them.
 */
class DecodeWarmUpTest {
    static final ScheduledCollectives COLLECTIVES = TestSupport.engine();
    static final int CONTEXT = 64;

    @AfterAll
    static void stop() {
        TestSupport.stop(COLLECTIVES);
    }

    static GgufFile golden() {
        return GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
    }

    /** An executor loaded with the warm-up at most {@code steps} steps ({@code null}: as by default). */
    static PlanExecutor load(Integer steps, Supplier<PlanExecutor> loader) {
        String before = System.getProperty(PlanExecutor.WARM_UP_PROPERTY);
        try {
            if (steps == null) {
                System.clearProperty(PlanExecutor.WARM_UP_PROPERTY);
            } else {
                System.setProperty(PlanExecutor.WARM_UP_PROPERTY, steps.toString());
            }
            return loader.get();
        } finally {
            if (before == null) {
                System.clearProperty(PlanExecutor.WARM_UP_PROPERTY);
            } else {
                System.setProperty(PlanExecutor.WARM_UP_PROPERTY, before);
            }
        }
    }

    /**
     * Logits at a position past the rows a run wrote (they read rows the warm-up wrote, unless it cleared them),
     * then a greedy generation from position 0; every value's bits.
     */
    static List<float[]> probe(PlanExecutor executor) {
        List<float[]> all = new ArrayList<>();
        all.add(executor.forward(1, 5));
        all.add(executor.forward(3, 2));
        int token = 1;
        for (int position = 0; position < 8; position++) {
            float[] logits = executor.forward(token, position);
            all.add(logits);
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            token = best;
        }
        return all;
    }

    private static void sameAsWithout(Supplier<PlanExecutor> loader) {
        List<float[]> warmed;
        try (PlanExecutor executor = load(null, loader)) {
            assertTrue(executor.warmUpSteps() >= 2, "the load warmed up (" + executor.warmUpSteps() + " steps)");
            assertEquals(0, executor.stats().tokens(), "the warm-up's steps are not counted");
            assertEquals(0, executor.stats().wallNanos());
            warmed = probe(executor);
        }
        List<float[]> cold;
        try (PlanExecutor executor = load(0, loader)) {
            assertEquals(0, executor.warmUpSteps(), "switched off");
            cold = probe(executor);
        }
        assertEquals(cold.size(), warmed.size());
        for (int i = 0; i < cold.size(); i++) {
            assertArrayEquals(cold.get(i), warmed.get(i), "call " + i + ": the same logits, bit for bit");
        }
    }

    @Test
    void aWarmedUpCardIsAsIfTheWarmUpHadNeverRun() {
        GgufFile file = golden();
        Plan plan = ManualPlans.singleCard(GgufModelReader.shapeOf(file), CONTEXT);
        sameAsWithout(() -> new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 1),
                TestSupport.cards(), COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, CONTEXT,
                        CollectiveAlgorithm.AUTO)));
    }

    /**
     * A model whose full prompt pass is prepared at load (here forced: the golden model is below the size that
     * prepares it) is warmed up with that pass, all of the context's 64 positions, and the load still leaves no trace:
     * every cache row the pass wrote is cleared.
     */
    @Test
    void aPreparedFullPromptPassIsTheOneTheWarmUpRuns() {
        GgufFile file = golden();
        Plan plan = ManualPlans.singleCard(GgufModelReader.shapeOf(file), CONTEXT);
        Supplier<PlanExecutor> loader = () -> new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 1),
                TestSupport.cards(), COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 2, CONTEXT,
                        CollectiveAlgorithm.AUTO));
        String before = System.getProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY);
        System.setProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY, "0");
        try {
            try (PlanExecutor executor = load(null, loader)) {
                assertEquals(Math.min(PrefillPrograms.MAX_BATCH, CONTEXT), executor.warmUpPassTokens(),
                        "the warm-up ran the prepared full pass");
            }
            sameAsWithout(loader);
        } finally {
            if (before == null) {
                System.clearProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY);
            } else {
                System.setProperty(PlanExecutor.PREPARE_AHEAD_PROPERTY, before);
            }
        }
        try (PlanExecutor executor = load(null, loader)) {
            assertEquals(PlanExecutor.WARM_UP_PROMPT_TOKENS, executor.warmUpPassTokens(),
                    "no full pass prepared: the short one");
        }
    }

    @Test
    void warmedUpTensorParallelCardsAreAsIfTheWarmUpHadNeverRun() {
        GgufFile file = golden();
        Plan plan = ManualPlans.tensorParallel(GgufModelReader.shapeOf(file), 2, CONTEXT);
        sameAsWithout(() -> new PlanExecutor(file, plan, TestSupport.topology(TopologyKind.RING, 2),
                TestSupport.cards(), COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, CONTEXT,
                        CollectiveAlgorithm.RING)));
    }

    @Test
    void aPipelineStageWithoutTheEmbeddingIsWarmedUpToo() {
        GgufFile file = golden();
        ModelShape shape = GgufModelReader.shapeOf(file);
        int layers = LlamaConfig.of(file).layers();
        PlanExecutor.Stage stage = new PlanExecutor.Stage(layers / 2, layers, false, true);
        Plan plan = ManualPlans.stage(shape, 1, stage.firstLayer(), stage.endLayer(), false, true, CONTEXT);
        int embedding = LlamaConfig.of(file).embedding();
        List<List<float[]>> runs = new ArrayList<>();
        for (Integer steps : java.util.Arrays.asList(null, 0)) {
            try (PlanExecutor executor = load(steps, () -> new PlanExecutor(file, plan, TestSupport.cards().open(
                    new org.popsolutions.spanker.api.card.CardGroupSpec(TestSupport.topology(TopologyKind.RING, 1),
                            null, 1)), COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, CONTEXT,
                                    CollectiveAlgorithm.AUTO), stage))) {
                assertEquals(steps == null, executor.warmUpSteps() > 0, "warmed up unless switched off");
                List<float[]> outs = new ArrayList<>();
                for (int position : new int[] {4, 0, 1, 2}) {
                    float[] hidden = new float[embedding];
                    for (int i = 0; i < hidden.length; i++) {
                        hidden[i] = (float) Math.sin(i + position);
                    }
                    float[] out = new float[executor.config().vocabulary()];
                    executor.forwardStage(0, position, hidden, out);
                    outs.add(out);
                }
                runs.add(outs);
            }
        }
        for (int i = 0; i < runs.get(0).size(); i++) {
            assertArrayEquals(runs.get(1).get(i), runs.get(0).get(i), "call " + i + ": the same logits, bit for bit");
        }
    }

    @Test
    void dilatedCardsAreNotWarmedUp() {
        GgufFile file = golden();
        Plan plan = ManualPlans.singleCard(GgufModelReader.shapeOf(file), CONTEXT);
        Topology one = TestSupport.topology(TopologyKind.RING, 1);
        Topology dilated = new Topology(TopologyKind.RING, List.of(new Card(0, "mock0", "test", 4L << 30, 3)),
                one.links());
        try (PlanExecutor executor = load(null, () -> new PlanExecutor(file, plan, dilated, TestSupport.cards(),
                COLLECTIVES, new PlanExecutor.Options(DotMode.GGML, 1, CONTEXT, CollectiveAlgorithm.AUTO)))) {
            assertEquals(0, executor.warmUpSteps(), "a dilated card's load is compared with its prediction");
        }
    }
}
